import CKumoABI
import KVM

/// What the run loop does about one vCPU exit. Deciding is pure, so tests
/// can feed synthetic exits.
public enum ExitAction: Equatable, Sendable {
    case hypercall(number: UInt64, argument: UInt64)
    case resume
    case stopped
    case fault(String)
    case badHypercall(String)
}

public enum ExitClassifier {
    public static func classify(_ exit: VCPUExit) -> ExitAction {
        switch exit {
        case .mmioWrite(let address, let data, let length):
            guard address >= KUMO_DOORBELL_BASE, address < KUMO_DOORBELL_BASE + KUMO_PAGE_SIZE else {
                return .fault("store to unbacked address 0x\(String(address, radix: 16))")
            }
            let offset = address - KUMO_DOORBELL_BASE
            guard offset % 8 == 0, length == 8 else {
                return .badHypercall("doorbell store of \(length) bytes at offset \(offset); expected 8 bytes, 8-aligned")
            }
            let number = offset / 8
            guard number > 0, number < UInt64(KUMO_HC_COUNT.rawValue) else {
                return .badHypercall("unknown hypercall \(number)")
            }
            return .hypercall(number: number, argument: data)
        case .mmioRead(let address, _):
            return .fault("load from unbacked address 0x\(String(address, radix: 16))")
        case .interrupted: return .stopped
        case .shutdown: return .fault("triple fault: an exception with no handler (bad pointer, ud2, divide error, ...)")
        case .internalError(let suberror): return .fault("KVM internal error \(suberror)")
        case .failedEntry(let reason): return .fault("KVM could not enter the guest (reason 0x\(String(reason, radix: 16)))")
        case .halt: return .fault("hlt at CPL 3")
        case .portIO: return .fault("port I/O")
        case .other(let reason): return .fault("unexpected KVM exit \(reason)")
        }
    }
}
