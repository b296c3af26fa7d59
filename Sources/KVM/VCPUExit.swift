/// Why KVM_RUN returned. Pure data, so exit handling can be tested with
/// synthetic exits.
public enum VCPUExit: Equatable, Sendable {
    case mmioWrite(address: UInt64, data: UInt64, length: UInt32)
    case mmioRead(address: UInt64, length: UInt32)
    case portIO
    case halt
    /// Triple fault: on kvm-pvm any exception in a guest without a supervisor.
    case shutdown
    case internalError(suberror: UInt32)
    case failedEntry(reason: UInt64)
    /// KVM_RUN was interrupted by a signal (the watchdog's kick).
    case interrupted
    case other(reason: UInt32)
}

/// The registers a crash report needs.
public struct GuestRegisters: Equatable, Sendable {
    public var rip: UInt64
    public var rsp: UInt64
    public var rbp: UInt64
    public init(rip: UInt64, rsp: UInt64, rbp: UInt64) {
        self.rip = rip
        self.rsp = rsp
        self.rbp = rbp
    }
}
