import Foundation
import KVM
import KumoSupport
import Logging
import Synchronization

/// An FPGA card as the tender and the node see it, whatever runs its kernels.
public protocol FPGACard: AnyObject, Sendable {
    var name: String { get }
    /// How many times a bitstream was loaded into the fabric.
    var reconfigurations: Int { get }
    /// The loaded bitstream's uuid, if any.
    var loadedBitstream: String? { get }
    /// True once a session's work never finished (a kernel that does not end): the card must not be granted again.
    var wedged: Bool { get }
    /// Attaches the card to one instance's guest memory, once the last session's memory is
    /// scrubbed; nil if that does not end in `patience`.
    func open(memory: GuestMemory, identity: FPGAIdentity, patience: TimeInterval) -> (any FPGAPort)?
    /// Waits for everything the card was given, at most `patience`; false (and wedged from then on) if it does not end.
    func settle(patience: TimeInterval) -> Bool
    /// Why no guest can use the card in this build, if that is so.
    var unavailable: String? { get }
    /// Loads the bitstream the instance's guest will ask for, ahead of it (at the instance's
    /// start); the guest's first session waits for it. A bad one is left for the guest's own
    /// load to report.
    func preload(xclbin: ArraySlice<UInt8>)
}

/// One instance's use of a card: the guest's batches of commands, then its end.
public protocol FPGAPort: AnyObject {
    func submit(batch: UInt64, bytes: UInt32, count: UInt32, deadline: Date) -> FPGABatchResult
    /// Ends the session; its device memory is scrubbed before the card serves anyone else.
    func close(done: @escaping @Sendable () -> Void)
}

extension FPGACard {
    public var unavailable: String? { nil }

    public func open(memory: GuestMemory, identity: FPGAIdentity) -> (any FPGAPort)? {
        open(memory: memory, identity: identity, patience: 10)
    }
}

extension FPGAPort {
    public func close() { close(done: {}) }
}

/// The card the emulator backs (kernels on the host's OpenCL runtime).
public typealias EmulatedFPGA = FPGADevice<EmulatorBackend>

/// One FPGA card: its worker thread, its backend, and the bitstream loaded in its
/// fabric. It serves one session (one instance of one tenant) at a time; when a
/// session closes, its device memory is scrubbed and only the bitstream stays, so
/// the same function can skip reconfiguration.
public final class FPGADevice<Backend: FPGABackend>: FPGACard, @unchecked Sendable {
    public let name: String
    /// Loading a different bitstream takes this long, as reprogramming a real card does.
    public let reconfigureCost: Duration
    let backend: Backend
    let worker: FPGAWorker
    let logger: Logger

    /// Worker-only: what the fabric holds now.
    var loaded: (uuid: [UInt8], bitstream: Bitstream, program: Backend.Program)?

    private let state = Mutex<State>(State())
    struct State {
        var reconfigurations = 0
        var loadedUUID: String?
        var wedged = false
    }

    /// `fabricHolds`: the bitstream the card kept from its last grant (the node's
    /// inventory knows it); loading that one again costs no reconfiguration.
    public convenience init(name: String = "fpga0", backend: Backend, reconfigureCost: Duration = .milliseconds(100),
                            fabricHolds: String? = nil, logger: Logger) {
        self.init(name: name, backend: backend, worker: nil, reconfigureCost: reconfigureCost, fabricHolds: fabricHolds, logger: logger)
    }

    /// `worker`: one started ahead (EmulatorPrestart), else the card starts its own.
    init(name: String, backend: Backend, worker: FPGAWorker?, reconfigureCost: Duration, fabricHolds: String?, logger: Logger) {
        self.name = name
        self.reconfigureCost = reconfigureCost
        self.logger = logger
        self.backend = backend
        self.worker = worker ?? FPGAWorker(name: "kumo.\(name)")
        state.withLock { $0.loadedUUID = fabricHolds }
    }

    public var reconfigurations: Int { state.withLock { $0.reconfigurations } }
    public var loadedBitstream: String? { state.withLock { $0.loadedUUID } }
    public var wedged: Bool { state.withLock { $0.wedged } }
    public var target: String { backend.target }

    func markWedged() { state.withLock { $0.wedged = true } }

    /// Programs the fabric, unless it already holds this bitstream; the modelled
    /// reconfiguration time counts against the guest's deadline.
    func configure(_ bitstream: Bitstream, deadline: Date) throws(FPGAError) -> Backend.Program {
        if let loaded, loaded.uuid == bitstream.xclbin.uuid, loaded.bitstream.payload == bitstream.payload {
            return loaded.program
        }
        guard bitstream.target == backend.target else {
            throw .invalidBinary("xclbin: built for \(bitstream.target), but this FPGA is \(backend.target); rebuild it with `kumo xclbin build`")
        }
        let kept = loaded == nil && state.withLock { $0.loadedUUID } == bitstream.xclbin.uuidString
        loaded = nil
        if kept {
            // The fabric already holds it from the card's last grant: no reprogramming.
            let program = try backend.configure(payload: bitstream.payload)
            loaded = (bitstream.xclbin.uuid, bitstream, program)
            return program
        }
        let cost = reconfigureCost.seconds
        guard Date(timeIntervalSinceNow: cost) < deadline else {
            Thread.sleep(until: deadline)
            throw FPGAError(FPGASession<Backend>.pastDeadline, "the deadline passed while the FPGA was being reconfigured")
        }
        Thread.sleep(forTimeInterval: cost)
        let program = try backend.configure(payload: bitstream.payload)
        loaded = (bitstream.xclbin.uuid, bitstream, program)
        state.withLock {
            $0.reconfigurations += 1
            $0.loadedUUID = bitstream.xclbin.uuidString
        }
        logger.info("reconfigured", metadata: ["fpga": "\(name)", "bitstream": "\(bitstream.xclbin.uuidString)"])
        return program
    }

    public func open(memory: GuestMemory, identity: FPGAIdentity, patience: TimeInterval = 10) -> (any FPGAPort)? {
        session(memory: memory, identity: identity, patience: patience)
    }

    /// A preload gets as long as a guest would have: it runs before any guest's session.
    static var preloadPatience: TimeInterval { 60 }

    public func preload(xclbin: ArraySlice<UInt8>) {
        // No larger than a guest may hand over itself (its own load reports the refusal).
        guard UInt64(xclbin.count) <= FPGASession<Backend>.maxBitstreamBytes else { return }
        let bytes = Array(xclbin)
        worker.post { [self] in
            Trace.mark("fpga preload begun")
            defer { Trace.mark("fpga preloaded") }
            do {
                _ = try configure(try Bitstream.parsed(bytes), deadline: Date(timeIntervalSinceNow: Self.preloadPatience))
            } catch {
                logger.debug("bitstream not loaded ahead: \(error)")
            }
        }
    }

    /// `open`, typed: the session itself.
    public func session(memory: GuestMemory, identity: FPGAIdentity, patience: TimeInterval = 10) -> FPGASession<Backend>? {
        guard settle(patience: patience) else { return nil }
        Trace.mark("fpga session opened")
        return FPGASession<Backend>(device: self, memory: memory, identity: identity)
    }

    /// Waits for everything the card's worker was given (a session's cleanup
    /// included), at most `patience`. A card that does not get there has a
    /// kernel that will not end: it is wedged from then on.
    public func settle(patience: TimeInterval) -> Bool {
        guard !wedged, worker.run(until: Date(timeIntervalSinceNow: patience), {}) else {
            markWedged()
            return false
        }
        return true
    }
}

extension FPGADevice where Backend == EmulatorBackend {
    /// An emulated card on the host's first OpenCL device.
    public convenience init(name: String = "fpga0", reconfigureCost: Duration = .milliseconds(100),
                            fabricHolds: String? = nil, logger: Logger) throws(FPGAError) {
        let started = EmulatorPrestart.take()
        let backend: EmulatorBackend
        if let started { backend = started.backend } else { backend = try EmulatorBackend() }
        self.init(name: name, backend: backend, worker: started?.worker, reconfigureCost: reconfigureCost,
                  fabricHolds: fabricHolds, logger: logger)
    }
}
