import Accelerator
import Functions
import InstanceWire

/// A deployed function as the node runs it.
public struct Deployment: Sendable, Equatable {
    /// Host memory one instance may use: its guest memory, and its FPGA's device
    /// memory (the emulated card's buffers live in the instance's process).
    public var instanceMemory: UInt64 {
        config.memory + (config.accelerator == .fpga ? (config.fpga ?? FPGAIdentity()).globalMemory : 0)
    }

    public var name: String
    public var tenant: String
    /// The image in the node's cache (named by its content hash).
    public var imagePath: String
    /// The image's content hash: a new deploy replaces instances of the old one.
    public var version: String
    public var config: ImageConfig
    public var limits: InstanceLimits

    public init(name: String, tenant: String, imagePath: String, version: String, config: ImageConfig, limits: InstanceLimits) {
        self.name = name
        self.tenant = tenant
        self.imagePath = imagePath
        self.version = version
        self.config = config
        self.limits = limits
    }
}

/// How many instances a function may have, how many it aims at, and how long they live.
public struct InstanceLimits: Sendable, Equatable, Codable {
    public var maxInstances: Int
    /// Kept warm however idle the function is.
    public var minInstances: Int
    /// Requests in flight per instance the autoscaler aims at.
    public var concurrency: Int
    /// Requests that may wait for a busy instance; past it, 429.
    public var queueLimit: Int
    /// Keep-alive learned from the function's idle times (`keep_alive: auto`).
    public var learnsKeepAlive: Bool
    /// How long an idle instance stays warm before it is stopped (scale to zero); for a
    /// learned keep-alive, what holds until the function's idle times say more.
    public var keepAliveSeconds: Double

    /// Keep-alive 0: an instance serves one request, then stops.
    var stopsWhenIdle: Bool { !learnsKeepAlive && keepAliveSeconds <= 0 }

    public var keepAlive: KeepAlive { learnsKeepAlive ? .auto : .seconds(keepAliveSeconds) }

    public init(maxInstances: Int = 4, minInstances: Int = 0, concurrency: Int = 1, queueLimit: Int = 32,
                keepAliveSeconds: Double = 60, learnsKeepAlive: Bool = false) {
        self.maxInstances = maxInstances
        self.minInstances = minInstances
        self.concurrency = concurrency
        self.queueLimit = queueLimit
        self.keepAliveSeconds = keepAliveSeconds
        self.learnsKeepAlive = learnsKeepAlive
    }

    /// Records written before the autoscaler have no minimum, target or learned keep-alive.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(maxInstances: try c.decode(Int.self, forKey: .maxInstances),
                  minInstances: try c.decodeIfPresent(Int.self, forKey: .minInstances) ?? 0,
                  concurrency: try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? 1,
                  queueLimit: try c.decode(Int.self, forKey: .queueLimit),
                  keepAliveSeconds: try c.decode(Double.self, forKey: .keepAliveSeconds),
                  learnsKeepAlive: try c.decodeIfPresent(Bool.self, forKey: .learnsKeepAlive) ?? false)
    }

    /// These limits with the function's own scaling keys, then the deploy's, applied in turn.
    public func applying(_ scaling: Scaling) -> InstanceLimits {
        var out = self
        if let n = scaling.maxInstances { out.maxInstances = n }
        if let n = scaling.minInstances { out.minInstances = n }
        if let n = scaling.concurrency { out.concurrency = n }
        switch scaling.keepAlive {
        case .auto?: out.learnsKeepAlive = true
        case .seconds(let s)?:
            out.learnsKeepAlive = false
            out.keepAliveSeconds = s
        case nil: break
        }
        return out
    }
}

/// One call of a function.
public struct Invocation: Sendable {
    public var body: [UInt8]
    /// CGI-style "KEY=value" strings: method, query, selected headers.
    public var environment: [String]

    public init(body: [UInt8], environment: [String]) {
        self.body = body
        self.environment = environment
    }
}

/// What came back, and how it was served.
public struct InvocationOutcome: Sendable {
    public var result: InvokeResult
    public var output: [UInt8]
    public var coldStart: Bool
    public var instance: String
    /// The node that ran it.
    public var node = ""

    public init(result: InvokeResult, output: [UInt8], coldStart: Bool, instance: String, node: String = "") {
        self.result = result
        self.output = output
        self.coldStart = coldStart
        self.instance = instance
        self.node = node
    }
}

public enum SchedulingError: Error, CustomStringConvertible, Sendable {
    case queueFull(function: String, limit: Int)
    case queueTimeout(function: String, seconds: Double)
    case noFPGA(FPGAAllocationError)
    case noMemory(MemoryBudget.Refusal)
    case instance(InstanceFailure)
    case removed(function: String)
    case shuttingDown
    /// A refusal a remote node sent, by its kind.
    case remote(RefusalKind, String)
    /// The node that was to run it could not be reached, or went away mid-request.
    case unreachable(node: String, reason: String)

    /// What a refusal means for the caller, whichever node it came from.
    public enum RefusalKind: String, Codable, Sendable {
        /// Full now: retry soon (429).
        case busy
        /// Not available for a while: memory, cards, shutting down (503).
        case unavailable
        case notFound
        /// The instance failed (502).
        case failed
    }

    public var kind: RefusalKind {
        switch self {
        case .queueFull: return .busy
        case .queueTimeout, .shuttingDown, .noFPGA, .noMemory: return .unavailable
        case .removed: return .notFound
        case .instance, .unreachable: return .failed
        case .remote(let kind, _): return kind
        }
    }

    public var description: String {
        switch self {
        case .queueFull(let f, let limit):
            return "\(f): every instance is busy and \(limit) requests already wait; retry later"
        case .queueTimeout(let f, let s):
            return "\(f): no instance came free within \(s)s; retry later"
        case .noFPGA(let e): return "no FPGA for this instance: \(e)"
        case .noMemory(let e): return "\(e)"
        case .instance(let e): return "\(e)"
        case .removed(let f): return "\(f) was removed while the request waited"
        case .shuttingDown: return "the node is shutting down"
        case .remote(_, let message): return message
        case .unreachable(let node, let reason):
            return "node \(node) could not run it (\(reason)); a request that may have run is not sent again"
        }
    }
}
