import Foundation
import KVM
import Logging
import Synchronization

/// One emulated FPGA card: its worker thread, its backend, and the bitstream
/// loaded in its fabric. It serves one session (one instance of one tenant)
/// at a time; when a session closes, its device memory is scrubbed and only
/// the bitstream stays, so the same function can skip reconfiguration.
public final class FPGADevice: @unchecked Sendable {
    public let name: String
    /// Loading a different bitstream takes this long, as reprogramming a real card does.
    public let reconfigureCost: Duration
    let backend: EmulatorBackend
    let worker: FPGAWorker
    let logger: Logger

    /// Worker-only: what the fabric holds now.
    var loaded: (uuid: [UInt8], bitstream: Bitstream, program: EmulatorBackend.Program)?

    private let state = Mutex<State>(State())
    struct State {
        var reconfigurations = 0
        var loadedUUID: String?
        var wedged = false
    }

    /// `fabricHolds`: the bitstream the card kept from its last grant (the node's
    /// inventory knows it); loading that one again costs no reconfiguration.
    public init(name: String = "fpga0", reconfigureCost: Duration = .milliseconds(100),
                fabricHolds: String? = nil, logger: Logger) throws(FPGAError) {
        self.name = name
        self.reconfigureCost = reconfigureCost
        self.logger = logger
        self.backend = try EmulatorBackend()
        self.worker = FPGAWorker(name: "kumo.\(name)")
        state.withLock { $0.loadedUUID = fabricHolds }
    }

    /// How many times a bitstream was loaded into the fabric.
    public var reconfigurations: Int { state.withLock { $0.reconfigurations } }
    /// The loaded bitstream's uuid, if any.
    public var loadedBitstream: String? { state.withLock { $0.loadedUUID } }
    /// True once a session's work never finished (a kernel that does not end): the card must not be granted again.
    public var wedged: Bool { state.withLock { $0.wedged } }
    public var target: String { backend.target }

    func markWedged() { state.withLock { $0.wedged = true } }

    /// Programs the fabric, unless it already holds this bitstream; the modelled
    /// reconfiguration time counts against the guest's deadline.
    func configure(_ bitstream: Bitstream, deadline: Date) throws(FPGAError) -> EmulatorBackend.Program {
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
        let cost = Double(reconfigureCost.components.seconds) + Double(reconfigureCost.components.attoseconds) / 1e18
        guard Date(timeIntervalSinceNow: cost) < deadline else {
            Thread.sleep(until: deadline)
            throw FPGAError(FPGASession.pastDeadline, "the deadline passed while the FPGA was being reconfigured")
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

    /// Attaches the card to one instance's guest memory, once the last
    /// session's memory is scrubbed; nil if that does not end in `patience`.
    public func open(memory: GuestMemory, identity: FPGAIdentity, patience: TimeInterval = 10) -> FPGASession? {
        guard settle(patience: patience) else { return nil }
        return FPGASession(device: self, memory: memory, identity: identity)
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
