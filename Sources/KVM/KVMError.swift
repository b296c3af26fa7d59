#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Failures of the KVM API, each with what to do about it.
public enum KVMError: Error, Equatable, CustomStringConvertible {
    case deviceUnavailable(path: String, errno: Int32)
    case unsupportedAPIVersion(Int32)
    case missingCapability(String)
    case ioctlFailed(operation: String, errno: Int32)
    case mappingFailed(bytes: UInt64, errno: Int32)

    public var description: String {
        switch self {
        case .deviceUnavailable(let path, let errno):
            let hint = errno == 2 ? "KVM is missing on this machine (load kvm and give this user access)"
                : errno == 13 ? "no permission: run as root or add this user to the kvm group"
                : "check that KVM is loaded"
            return "cannot open \(path): \(String(cString: strerror(errno))); \(hint)"
        case .unsupportedAPIVersion(let version):
            return "KVM API version \(version) is not the stable version 12; this kernel's KVM is not supported"
        case .missingCapability(let name):
            return "KVM lacks the capability \(name), which Kumo needs"
        case .ioctlFailed(let operation, let errno):
            return "KVM \(operation) failed: \(String(cString: strerror(errno)))"
        case .mappingFailed(let bytes, let errno):
            return "cannot map \(bytes) bytes of guest memory: \(String(cString: strerror(errno)))"
        }
    }
}

/// Failures of a guest-memory access: the guest named memory it does not have.
public enum GuestMemoryError: Error, Equatable, CustomStringConvertible {
    case outOfBounds(address: UInt64, length: UInt64, memorySize: UInt64)

    public var description: String {
        switch self {
        case .outOfBounds(let address, let length, let size):
            let hex = String(address, radix: 16)
            return "guest address 0x\(hex) + \(length) bytes lies outside guest memory (\(size) bytes)"
        }
    }
}
