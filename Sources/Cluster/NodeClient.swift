import Node

/// How a gateway reaches the node that runs a function's instances. In the embedded
/// default it is `LocalNode`, a direct call into this process's node; in a cluster a
/// client of a remote node agent. The gateway holds one and never builds it.
public protocol NodeClient: Sendable {
    /// Starts the node's pool and background work.
    func start() async
    /// Stops every instance and the pool.
    func shutdown() async

    /// A function deployed (or deployed again): the node readies pooled processes for it.
    func expect(_ deployment: Deployment)
    /// One invocation: a warm instance if one is idle, else a cold start, else a bounded queue.
    func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome
    /// The warm lane: runs the invocation (made once it has a place to run) with no task
    /// or actor on the way and answers through `completion`; false when it cannot take it
    /// (locally: no instance is idle) or `invocation` gives nil (then use `invoke`).
    func invokeWarm(_ deployment: Deployment, _ invocation: () -> Invocation?,
                    completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) -> Bool
    /// Stops a removed function's instances; requests waiting for one get `.removed`.
    func remove(function: String) async

    func instances(of function: String) async -> [NodeScheduler.InstanceInfo]
    /// Every function's instances, by function.
    func allInstances() async -> [String: [NodeScheduler.InstanceInfo]]
    /// What each node's autoscaler decided for the function and what its keep-alive learned.
    func scaling(of function: String) async -> [ScalingStatus]
    func capacity() async -> NodeCapacity
    func accelerators() async -> [FPGACardState]
    /// Throws when an instance of `bytes` could never fit this tenant's share of guest memory.
    func checkMemory(_ bytes: UInt64, tenant: String) throws(MemoryBudget.Refusal)
    /// A tenant's guest-memory cap (nil: the node's default share; `uncapped`: none).
    func setMemoryCap(_ bytes: UInt64?, tenant: String, uncapped: Bool)
}

/// What a node has and uses.
public struct NodeCapacity: Codable, Sendable, Equatable {
    public var instances: Int
    public var fpgas: Int
    public var fpgasFree: Int
    public var pooledProcesses: Int
    public var guestMemory: UInt64
    public var guestMemoryUsed: UInt64
}
