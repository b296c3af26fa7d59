import Accelerator
import CKumoABI
import Foundation
import KVM
#if canImport(Glibc)
import Glibc
#endif

/// What a hypercall handler tells the run loop.
package enum HypercallResult {
    case resume
    case finish(RunOutcome, guestTSC: (entry: UInt64, exit: UInt64)?)
}

/// The devices of one run and the handlers the doorbell dispatches to.
package final class HypercallContext {
    let memory: GuestMemory
    let input: GuestInput?
    let output: GuestOutput?
    let outputLimit: UInt64
    /// Persistent mode moves these with each request.
    var deadline: ContinuousClock.Instant
    var timeoutSeconds: Double
    var outputBytes: UInt64 = 0
    var randomSource = SystemRandomNumberGenerator()
    /// The FPGA this run holds, if its manifest names one.
    var fpga: (any FPGAPort)?
    /// Persistent mode: where requests come from (the manifest names `requests`).
    var channel: (any InvocationChannel)?
    /// Persistent mode: a request was handed out and not yet answered.
    var requestPending = false
    var pendingRequest: GuestRequest?
    /// `kumo run --output DIR`: where the guest's scratch files go at exit.
    var scratchOutput: ScratchOutput?
    weak var watchdog: Watchdog?

    package init(memory: GuestMemory, input: GuestInput?, output: GuestOutput?, outputLimit: UInt64,
         deadline: ContinuousClock.Instant, timeoutSeconds: Double) {
        self.timeoutSeconds = timeoutSeconds
        self.memory = memory
        self.input = input
        self.output = output
        self.outputLimit = outputLimit
        self.deadline = deadline
    }

    typealias Handler = @Sendable (HypercallContext, UInt64) throws(HypercallFault) -> HypercallResult

    /// Indexed by hypercall number (enum kumo_hypercall).
    static let table: [Handler?] = {
        var t = [Handler?](repeating: nil, count: Int(KUMO_HC_COUNT.rawValue))
        t[Int(KUMO_HC_WRITE.rawValue)] = { (c, a) throws(HypercallFault) in try c.write(a) }
        t[Int(KUMO_HC_READ.rawValue)] = { (c, a) throws(HypercallFault) in try c.read(a) }
        t[Int(KUMO_HC_EXIT.rawValue)] = { (c, a) throws(HypercallFault) in try c.exit(a) }
        t[Int(KUMO_HC_SLEEP.rawValue)] = { (c, a) throws(HypercallFault) in try c.sleep(a) }
        t[Int(KUMO_HC_RANDOM.rawValue)] = { (c, a) throws(HypercallFault) in try c.random(a) }
        t[Int(KUMO_HC_FPGA.rawValue)] = { (c, a) throws(HypercallFault) in try c.fpgaBatch(a) }
        t[Int(KUMO_HC_REQUEST.rawValue)] = { (c, a) throws(HypercallFault) in try c.nextRequest(a) }
        t[Int(KUMO_HC_OUTPUT.rawValue)] = { (c, a) throws(HypercallFault) in try c.output(a) }
        return t
    }()

    package func dispatch(number: UInt64, argument: UInt64) throws(HypercallFault) -> HypercallResult {
        guard number < UInt64(Self.table.count), let handler = Self.table[Int(number)] else {
            throw HypercallFault("unknown hypercall \(number)")
        }
        return try handler(self, argument)
    }

    private func load<T: BitwiseCopyable>(_ type: T.Type, at address: UInt64, _ name: String) throws(HypercallFault) -> T {
        do { return try memory.load(type, at: address) }
        catch { throw HypercallFault("\(name): argument struct at 0x\(String(address, radix: 16)) lies outside guest memory") }
    }

    private func buffer(_ call: kumo_hc_io, _ name: String) throws(HypercallFault) -> UnsafeMutableRawBufferPointer {
        do { return try memory.bytes(at: call.data, length: call.len) }
        catch { throw HypercallFault("\(name): buffer 0x\(String(call.data, radix: 16)) + \(call.len) bytes lies outside guest memory") }
    }

    private func answer(_ call: kumo_hc_io, ret: Int64, at address: UInt64) throws(HypercallFault) {
        var done = call
        done.ret = ret
        do { try memory.store(done, at: address) } catch { throw HypercallFault("write: result outside guest memory") }
    }

    func write(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        let call = try load(kumo_hc_io.self, at: address, "write")
        guard call.fd == 1 || call.fd == 2, let output else {
            throw HypercallFault("write to fd \(call.fd): only the console (1, 2) is attached")
        }
        let data = try buffer(call, "write")
        let room = outputLimit - outputBytes
        if UInt64(data.count) > room {
            output.write(fd: Int32(call.fd), UnsafeRawBufferPointer(rebasing: data[0..<Int(room)]))
            outputBytes = outputLimit
            return .finish(.outputLimitExceeded(bytes: outputLimit), guestTSC: nil)
        }
        output.write(fd: Int32(call.fd), UnsafeRawBufferPointer(data))
        outputBytes += UInt64(data.count)
        try answer(call, ret: Int64(data.count), at: address)
        return .resume
    }

    func read(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        let call = try load(kumo_hc_io.self, at: address, "read")
        guard call.fd == 0 else { throw HypercallFault("read from fd \(call.fd): only stdin (0) can be read") }
        let data = try buffer(call, "read")
        var n = 0
        if let input, data.count > 0 {
            guard let got = input.read(into: UnsafeMutableRawBufferPointer(rebasing: data[0..<min(data.count, 1 << 20)]),
                                       until: deadline) else {
                return .finish(.timedOut(seconds: timeoutSeconds), guestTSC: nil)
            }
            n = got
        }
        try answer(call, ret: Int64(n), at: address)
        return .resume
    }

    func exit(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        let call = try load(kumo_hc_exit.self, at: address, "exit")
        let outcome: RunOutcome = call.signal != 0 ? .signaled(call.signal) : .exited(status: call.status & 0xff)
        return .finish(outcome, guestTSC: (call.tsc_entry, call.tsc_exit))
    }

    func sleep(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        var call = try load(kumo_hc_sleep.self, at: address, "sleep")
        let left = deadline - ContinuousClock.now
        let wanted = Duration.nanoseconds(Int64(clamping: call.nanoseconds))
        if wanted > .zero {
            let nap = min(wanted, max(left, .zero))
            let (seconds, attoseconds) = nap.components
            var spec = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&spec, &remaining) != 0 && errno == EINTR {
                if ContinuousClock.now >= deadline { break }
                spec = remaining
            }
        }
        call.ret = 0
        do { try memory.store(call, at: address) } catch { throw HypercallFault("sleep: result outside guest memory") }
        return .resume
    }

    func random(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        let call = try load(kumo_hc_io.self, at: address, "random")
        guard call.len <= 1 << 20 else { throw HypercallFault("random: \(call.len) bytes asked, at most 1 MiB") }
        let data = try buffer(call, "random")
        var i = 0
        while i < data.count {
            let word = randomSource.next()
            for b in 0..<min(8, data.count - i) { data[i + b] = UInt8(truncatingIfNeeded: word >> (8 * b)) }
            i += 8
        }
        try answer(call, ret: Int64(data.count), at: address)
        return .resume
    }
}

extension HypercallContext {
    static let deviceNotAvailable: Int32 = -2   // CL_DEVICE_NOT_AVAILABLE
    static let invalidValue: Int32 = -30        // CL_INVALID_VALUE

    /// A batch of FPGA commands. A bad batch fails with an OpenCL status the
    /// guest sees; only an unreadable call struct is a bad hypercall.
    func fpgaBatch(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        var call = try load(kumo_hc_fpga.self, at: address, "fpga")
        call.failed = UInt32.max
        if let session = fpga {
            if call.bytes > KUMO_FPGA_BATCH_MAX || call.batch < KUMO_IMAGE_BASE
                || (try? memory.check(call.batch, UInt64(call.bytes))) == nil {
                call.status = Self.invalidValue
            } else {
                let seconds = Double((deadline - ContinuousClock.now) / .nanoseconds(1)) / 1e9
                switch session.submit(batch: call.batch, bytes: call.bytes, count: call.count,
                                      deadline: Date(timeIntervalSinceNow: max(seconds, 0))) {
                case .timedOut: return .finish(.timedOut(seconds: timeoutSeconds), guestTSC: nil)
                case .done(let status, let failed):
                    call.status = status
                    call.failed = failed
                }
            }
        } else {
            call.status = Self.deviceNotAvailable
        }
        do { try memory.store(call, at: address) } catch { throw HypercallFault("fpga: result outside guest memory") }
        return .resume
    }
}

package struct HypercallFault: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
