import KVM

/// Why an image cannot be booted. Each message says what to do next.
public enum TenderError: Error, Equatable, CustomStringConvertible {
    case unreadableImage(path: String, reason: String)
    case invalidImage(String)
    case unsupportedABI(found: UInt32, supported: UInt32)
    case missingManifest
    case invalidManifest(String)
    case unsupportedDevice(String)
    case invalidLimits(String)
    case bootInfoTooLarge(bytes: Int)
    case kvm(KVMError)
    case guestMemory(GuestMemoryError)

    public var description: String {
        switch self {
        case .unreadableImage(let path, let reason): return "cannot read image \(path): \(reason)"
        case .invalidImage(let why): return "not a bootable Kumo image: \(why); build it with `kumo build`"
        case .unsupportedABI(let found, let supported):
            return "image speaks Kumo ABI \(found), this tender speaks \(supported): rebuild it with this `kumo build`"
        case .missingManifest:
            return "image has no Kumo manifest (ELF note KUMO in .note.kumo): build it with `kumo build`"
        case .invalidManifest(let why): return "image manifest is invalid: \(why)"
        case .unsupportedDevice(let why): return "image asks for a device this node cannot attach: \(why)"
        case .invalidLimits(let why): return "invalid limits: \(why)"
        case .bootInfoTooLarge(let bytes):
            return "arguments and environment need \(bytes) bytes of boot information, over the 960 KiB limit"
        case .kvm(let error): return error.description
        case .guestMemory(let error): return error.description
        }
    }
}
