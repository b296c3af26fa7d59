import Foundation

/// Where learned keep-alives outlive the node's process: the state store.
public protocol LearnedKeepAliveStore: Sendable {
    func histograms() async throws -> [String: IdleTimeHistogram]
    func save(_ histogram: IdleTimeHistogram, function: String) async throws
}

/// How the node scales every function (`kumo serve` / `kumo node` options).
public struct ScalingSettings: Sendable {
    public var policy: LearnedPolicy = .kumo
    /// The idle-time histogram's bin: a minute in production; a replay compressed N
    /// times uses 60/N so that the policy sees the trace's minutes.
    public var binSeconds = 60.0
    public var store: (any LearnedKeepAliveStore)?

    public init(policy: LearnedPolicy = .kumo, binSeconds: Double = 60, store: (any LearnedKeepAliveStore)? = nil) {
        self.policy = policy
        self.binSeconds = binSeconds
        self.store = store
    }
}

/// One function's scaling on this node: what it observed, what it decided, what it learned.
struct FunctionScaler {
    var deployment: Deployment
    let meter = ConcurrencyMeter()
    var autoscaler = Autoscaler()
    var histogram: IdleTimeHistogram
    /// The learned windows of the current idle period (`keep_alive: auto`).
    var windows: KeepAliveWindows?
    /// When the function last went idle; nil while a request is in flight.
    var idleSince: ContinuousClock.Instant?
    /// The most in flight at once in the current busy period.
    var busyPeak = 0
    var prewarmedThisIdle = false
    /// Instances kept however long idle: the minimum, or what the autoscaler wants while requests come.
    var floor = 0
    var prewarms = 0
    var unsaved = false
    var savedAt = ContinuousClock.Instant.now

    init(deployment: Deployment, histogram: IdleTimeHistogram) {
        self.deployment = deployment
        self.histogram = histogram
    }

    /// Is an idle instance past what the function keeps warm now? A learned keep-alive
    /// unloads during a pre-warm's wait and after its window; a fixed one counts from the
    /// instance's last use, as does a learned one while the function is busy elsewhere.
    func keepAlive(now: ContinuousClock.Instant) -> Duration {
        let fixed = Duration.seconds(deployment.limits.keepAliveSeconds)
        guard deployment.limits.learnsKeepAlive, let since = idleSince, let windows else { return fixed }
        let idle = (now - since).seconds
        return idle < windows.prewarmSeconds || idle >= windows.warmUntil ? .zero : .seconds(86_400)
    }

    /// Kumo's policy keeps one instance once the function has been idle this long: extra
    /// instances answer bursts, which come while it is busy.
    func extrasExpired(now: ContinuousClock.Instant, policy: LearnedPolicy, binSeconds: Double) -> Bool {
        guard policy == .kumo, deployment.limits.learnsKeepAlive, let since = idleSince else { return false }
        return (now - since).seconds >= 3 * binSeconds
    }

    /// When a pre-warm is due now: the function is idle, its wait is over, its window is not.
    func prewarmDue(now: ContinuousClock.Instant) -> Bool {
        guard deployment.limits.learnsKeepAlive, !prewarmedThisIdle, let since = idleSince, let windows,
              windows.prewarmSeconds > 0 else { return false }
        let idle = (now - since).seconds
        return idle >= windows.prewarmSeconds && idle < windows.warmUntil
    }
}

/// What `kumo describe` shows of a function's scaling on one node, and why.
public struct ScalingStatus: Codable, Sendable, Equatable {
    public var node: String
    public var instances: Int
    public var starting: Int
    /// Requests waiting on this node for a busy instance (both queues).
    public var queued: Int
    public var desired: Int
    /// Time-weighted requests in flight over the stable (60 s) and panic (6 s) windows.
    public var stableConcurrency: Double
    public var panicConcurrency: Double
    public var panicking: Bool
    public var target: Int
    public var minInstances: Int
    public var maxInstances: Int
    public var keepAlive: String
    /// The learned windows now (keep_alive: auto), and from how many idle times.
    public var learned: KeepAliveWindows?
    public var idleTimes: Int
    public var prewarms: Int
    public var reason: String
}
