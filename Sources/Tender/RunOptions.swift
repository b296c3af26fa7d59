import Accelerator
import CKumoABI

/// Limits and inputs of one run.
public struct RunOptions: Sendable {
    public var memorySize: UInt64
    public var timeoutSeconds: Double
    public var outputLimit: UInt64
    /// argv, argv[0] included.
    public var arguments: [String]
    /// "KEY=value" strings.
    public var environment: [String]
    /// The guest's current directory at start (`workdir:`; nil: "/").
    public var workingDirectory: String?
    /// The FPGA granted to this run, for an image whose manifest names one.
    public var fpga: FPGAAttachment?
    /// Persistent mode: where requests come from, for an image whose manifest names `requests`.
    public var channel: (any InvocationChannel)?
    /// `kumo run --output DIR`: the guest hands over its scratch files at exit.
    public var scratchOutput: ScratchOutput?

    public static let defaultMemory: UInt64 = 64 << 20
    public static let defaultTimeout = 30.0
    public static let defaultOutputLimit: UInt64 = 64 << 20

    public init(memorySize: UInt64 = defaultMemory, timeoutSeconds: Double = defaultTimeout,
                outputLimit: UInt64 = defaultOutputLimit, arguments: [String] = ["function"],
                environment: [String] = []) {
        self.memorySize = memorySize
        self.timeoutSeconds = timeoutSeconds
        self.outputLimit = outputLimit
        self.arguments = arguments
        self.environment = environment
    }

    /// Guest memory is 8M to 2G, in whole 2M pages.
    static func isValidMemorySize(_ size: UInt64) -> Bool {
        size >= KUMO_MEMORY_MIN && size <= KUMO_MEMORY_MAX && size % (2 << 20) == 0
    }

    public func validate() throws(TenderError) {
        guard Self.isValidMemorySize(memorySize) else {
            let inRange = memorySize >= KUMO_MEMORY_MIN && memorySize <= KUMO_MEMORY_MAX
            throw .invalidLimits(inRange ? "memory must be a multiple of 2M, not \(memorySize) bytes"
                                         : "memory must be between 8M and 2G, not \(memorySize) bytes")
        }
        guard timeoutSeconds > 0, timeoutSeconds <= 86_400 else {
            throw .invalidLimits("timeout must be between 0 and 24h, not \(timeoutSeconds)s")
        }
        guard outputLimit > 0 else { throw .invalidLimits("output limit must be positive") }
        guard !arguments.isEmpty else { throw .invalidLimits("argv needs at least argv[0]") }
        for s in arguments + environment where s.utf8.contains(0) {
            throw .invalidLimits("argument or environment string contains a NUL byte")
        }
    }
}

/// An FPGA for one run, and what it tells the guest it is.
public struct FPGAAttachment: Sendable {
    public let device: any FPGACard
    public let identity: FPGAIdentity

    public init(device: any FPGACard, identity: FPGAIdentity) {
        self.device = device
        self.identity = identity
    }
}
