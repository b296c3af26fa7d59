import CKumoABI
import COpenCL
import Foundation
import KVM

/// What a doorbell achieved.
public enum FPGABatchResult: Equatable, Sendable {
    /// Every command ran; `status` is the first failure's (0 if none) and `failed` its index.
    case done(status: Int32, failed: UInt32)
    /// The deadline passed while the FPGA was still busy (a kernel that does not end).
    case timedOut
}

/// One instance's use of one FPGA: the objects it made, by the ids it chose,
/// and the guest memory its transfers use. All state is touched on the
/// device's worker only.
public final class FPGASession<Backend: FPGABackend>: FPGAPort, @unchecked Sendable {
    let device: FPGADevice<Backend>
    let memory: GuestMemory
    let identity: FPGAIdentity
    let info: kumo_fpga_info

    struct Mem {
        let buffer: Backend.Buffer
        let size: UInt64
        let parent: UInt32          // 0: a whole allocation
        var children = 0
    }
    struct Program {
        var program: Backend.Program?
        var source: String?
        var bitstream: Bitstream?
        var log = ""
        var kernels = 0
    }
    struct Kernel {
        let kernel: Backend.Kernel
        let signature: KernelSignature
        let limits: KernelLimits
        let program: UInt32
    }

    var queues: [UInt32: Backend.Queue] = [:]
    /// In-order queues: the last command's event stands for everything queued before it.
    var lastEvents: [UInt32: Backend.Event] = [:]
    var outOfOrder: Set<UInt32> = []
    var mems: [UInt32: Mem] = [:]
    var programs: [UInt32: Program] = [:]
    var kernels: [UInt32: Kernel] = [:]
    var events: [UInt32: (event: Backend.Event, user: Bool)] = [:]
    /// User events not yet set, released by the guest or not: work queued behind
    /// them would keep the card busy forever, so the session's end aborts them.
    var unsetUserEvents: [ObjectIdentifier: Backend.Event] = [:]
    /// Released allocations waiting to be scrubbed (their commands may still run).
    var released: [(buffer: Backend.Buffer, size: UInt64)] = []
    var allocatedBytes: UInt64 = 0
    var internalQueue: Backend.Queue?
    /// Lines for the log: what a malformed command did wrong.
    var problems: [String] = []
    /// Waits end here: the function's deadline while its guest runs.
    var deadline = Date.distantFuture
    /// The status of a wait that ran out of time (never a guest-visible OpenCL status).
    static var pastDeadline: Int32 { Int32.min }

    static var maxObjects: Int { 65_536 }
    /// The status a session's end gives the user events its guest never set
    /// (negative: the commands waiting on them are abandoned, not run).
    static var abandoned: Int32 { -1 }

    init(device: FPGADevice<Backend>, memory: GuestMemory, identity: FPGAIdentity) {
        self.device = device
        self.memory = memory
        self.identity = identity
        self.info = identity.info(backend: device.backend)
    }

    /// Runs one batch of commands from guest memory, waiting until `deadline` at most.
    /// It runs on the caller's thread (the instance's vCPU, which holds the card
    /// alone): handing each doorbell to another thread and back cost ~100 µs here.
    /// Specialized for the emulator: through the generic entry, each command cost ~1 µs more.
    @_specialize(where Backend == EmulatorBackend)
    public func submit(batch: UInt64, bytes: UInt32, count: UInt32, deadline: Date) -> FPGABatchResult {
        self.deadline = deadline
        // A timeout alone does not wedge the card: the guest may only have waited on its
        // own unset user event, which the session's end aborts. `settle` decides.
        let result = process(batch: batch, bytes: bytes, count: count)
        for line in problems { device.logger.warning("\(line)", metadata: ["fpga": "\(device.name)"]) }
        problems.removeAll()
        return result
    }

    /// Waits for `events`, at most until the deadline.
    func settle(_ events: [Backend.Event]) throws(FPGAError) {
        if events.allSatisfy({ device.backend.status(of: $0) == CL_COMPLETE }) { return }
        for queue in queues.values { device.backend.flush(queue) }
        if let internalQueue { device.backend.flush(internalQueue) }
        guard try device.backend.wait(for: events, until: deadline) else {
            throw FPGAError(Self.pastDeadline, "the function's deadline passed while the FPGA was busy")
        }
    }

    /// Waits for everything queued on `queue`, at most until the deadline.
    func settle(queue: Backend.Queue) throws(FPGAError) {
        try settle([try device.backend.marker(on: queue, after: [], barrier: true)])
    }

    /// The same for a guest queue; an in-order one needs no marker.
    func settle(queueID id: UInt32) throws(FPGAError) {
        guard let queue = queues[id] else { throw FPGAError(CL_INVALID_COMMAND_QUEUE, "no queue \(id)") }
        if outOfOrder.contains(id) { return try settle(queue: queue) }
        if let last = lastEvents[id] { try settle([last]) }
    }

    /// Ends the session: waits for its work, scrubs every byte of device
    /// memory it used, and frees its objects. The bitstream stays loaded.
    /// Runs on the worker after anything still queued; `done` is called there.
    public func close(done: @escaping @Sendable () -> Void = {}) {
        device.worker.post { [self] in
            deadline = .distantFuture
            for event in unsetUserEvents.values { try? device.backend.complete(userEvent: event, status: Self.abandoned) }
            unsetUserEvents.removeAll()
            for queue in queues.values { try? device.backend.finish(queue) }
            kernels.removeAll()
            programs.removeAll()
            events.removeAll()
            let live = mems.values.filter { $0.parent == 0 }.map { ($0.buffer, $0.size) }
            mems.removeAll()
            released += live
            try? scrubReleased()
            queues.removeAll()
            internalQueue = nil
            done()
        }
    }

    /// Zeroes released allocations before the runtime may reuse their memory.
    /// Waits for the guest's queues first (they may still use the buffers), within the deadline.
    func scrubReleased() throws(FPGAError) {
        guard !released.isEmpty else { return }
        for id in queues.keys { try settle(queueID: id) }
        let queue = try ownQueue()
        for (buffer, size) in released { try device.backend.scrub(buffer, bytes: size, on: queue) }
        try settle(queue: queue)
        for (_, size) in released { allocatedBytes -= min(size, allocatedBytes) }
        released.removeAll()
    }

    /// The session's own queue, for scrubbing.
    func ownQueue() throws(FPGAError) -> Backend.Queue {
        if let internalQueue { return internalQueue }
        let queue = try device.backend.makeQueue(profiling: false, outOfOrder: false)
        internalQueue = queue
        return queue
    }

    // MARK: the batch

    func process(batch: UInt64, bytes: UInt32, count: UInt32) -> FPGABatchResult {
        let header = UInt64(MemoryLayout<kumo_fpga_cmd>.size)
        let statusOffset = UInt64(MemoryLayout<kumo_fpga_cmd>.offset(of: \kumo_fpga_cmd.status) ?? 20)
        var offset: UInt64 = 0
        var first: (Int32, UInt32)?
        for index in 0..<count {
            let address = batch + offset
            guard offset + header <= UInt64(bytes), let cmd = try? memory.load(kumo_fpga_cmd.self, at: address),
                  cmd.size >= UInt32(header), cmd.size % 8 == 0, offset + UInt64(cmd.size) <= UInt64(bytes) else {
                problems.append("command \(index) of a batch has a bad size: the rest of the batch was dropped")
                return .done(status: first?.0 ?? CL_INVALID_VALUE, failed: first?.1 ?? index)
            }
            var status: Int32 = CL_SUCCESS
            do { try run(Command(header: cmd, address: address)) }
            catch {
                if error.status == Self.pastDeadline { return .timedOut }
                status = error.status
                problems.append("command \(index) (\(Self.opName(cmd.op))): \(error.description)")
            }
            try? memory.store(status, at: address + statusOffset)
            if status != CL_SUCCESS, first == nil { first = (status, index) }
            offset += UInt64(cmd.size)
        }
        return .done(status: first?.0 ?? CL_SUCCESS, failed: first?.1 ?? UInt32.max)
    }

    /// One command's place in guest memory, with checked access to its parts.
    struct Command {
        let header: kumo_fpga_cmd
        let address: UInt64
        var end: UInt64 { address + UInt64(header.size) }
        var payloadAddress: UInt64 { address + UInt64(MemoryLayout<kumo_fpga_cmd>.size) }
        var blocking: Bool { header.flags & UInt16(KUMO_FPGA_BLOCKING) != 0 }

        func waitsAddress<T>(after: T.Type) -> UInt64 { payloadAddress + UInt64(MemoryLayout<T>.size) }
        func variableAddress<T>(after: T.Type) -> UInt64 {
            let waits = (UInt64(header.nwait) * 4 + 7) & ~7
            return waitsAddress(after: T.self) + waits
        }
    }

    static func opName(_ op: UInt16) -> String {
        let names = ["", "INFO", "QUEUE_CREATE", "QUEUE_RELEASE", "MEM_ALLOC", "MEM_SUB", "MEM_RELEASE", "WRITE", "READ",
                     "COPY", "FILL", "CONFIGURE", "PROGRAM_SOURCE", "PROGRAM_BUILD", "PROGRAM_INFO", "PROGRAM_RELEASE",
                     "KERNEL_CREATE", "KERNEL_RELEASE", "EXECUTE", "MARKER", "BARRIER", "USER_EVENT", "USER_EVENT_SET",
                     "EVENT_RELEASE", "EVENT_QUERY", "FLUSH", "FINISH", "WAIT"]
        return Int(op) < names.count && op > 0 ? names[Int(op)] : "op \(op)"
    }
}
