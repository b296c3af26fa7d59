/// Where the guest's instruction pointer was when it died.
public struct GuestCrash: Equatable, Sendable {
    public let reason: String
    public let rip: UInt64
    public let rsp: UInt64
    public let symbol: String?
}

/// How a run ended.
public enum RunOutcome: Equatable, Sendable, CustomStringConvertible {
    case exited(status: Int32)
    /// The guest raised a fatal signal on itself (abort()).
    case signaled(Int32)
    case crashed(GuestCrash)
    case timedOut(seconds: Double)
    case outputLimitExceeded(bytes: UInt64)
    /// The guest broke the hypercall protocol (bad pointer, length, number).
    case badHypercall(String)

    public var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .signaled(let signal): return "guest killed itself with signal \(signal)\(signal == 6 ? " (abort)" : "")"
        case .crashed(let crash):
            let hex = { (v: UInt64) in "0x" + String(v, radix: 16) }
            let place = crash.symbol.map { " in \($0)" } ?? ""
            return "guest crashed (\(crash.reason)) at rip \(hex(crash.rip))\(place), rsp \(hex(crash.rsp))"
        case .timedOut(let seconds):
            return "guest killed: it ran past its timeout of \(formatSeconds(seconds))"
        case .outputLimitExceeded(let bytes):
            return "guest killed: its output passed the limit of \(bytes) bytes"
        case .badHypercall(let why): return "guest killed: bad hypercall: \(why)"
        }
    }

    /// The exit status `kumo run` gives: the guest's own, or a fixed code per failure.
    public var exitCode: Int32 {
        switch self {
        case .exited(let status): return status
        case .signaled(let signal): return 128 + signal
        case .crashed: return 139
        case .timedOut: return 124
        case .outputLimitExceeded, .badHypercall: return 137
        }
    }
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))s" : "\(s)s"
}

/// A run's outcome and what it cost.
public struct RunReport: Sendable {
    public let outcome: RunOutcome
    public let vmExits: Int
    /// Tender start to the guest's exit, nanoseconds.
    public let totalNanoseconds: UInt64
    /// Tender start to the first KVM_RUN: VM, memory, image, boot information.
    public let setupNanoseconds: UInt64
    /// Guest entry to guest exit by the guest's TSC, nanoseconds (nil if the guest did not exit).
    public let guestNanoseconds: UInt64?
    public let outputBytes: UInt64

    /// The guest's own entry and exit TSC readings as nanoseconds. The guest writes both, so any
    /// pair can arrive: a backwards or overflowing span reads as no measurement, never a trap.
    static func guestNanoseconds(tsc: (entry: UInt64, exit: UInt64), tscKHz: UInt64) -> UInt64? {
        guard tsc.exit >= tsc.entry else { return nil }
        let (scaled, overflow) = (tsc.exit - tsc.entry).multipliedReportingOverflow(by: 1_000_000)
        return overflow ? nil : scaled / max(tscKHz, 1)
    }
}
