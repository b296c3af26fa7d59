import Foundation
import Logging
import Node

/// The node in this process (`kumo serve`'s embedded default): calls go straight to
/// its scheduler, pool and FPGA inventory, with no hop.
public final class LocalNode: NodeClient {
    /// What the node is made of.
    public struct Configuration: Sendable {
        /// The name invocations' responses give (X-Kumo-Node): `kumo node --name`, or "local".
        public var name = "local"
        /// The `kumo` executable that runs `kumo instance`, and the paths instances must not see.
        public var launch: InstanceLaunch
        /// Instance processes kept started ahead of need.
        public var poolSize = 2
        /// The node's cards: emulated (`--fpgas N`) or found through libvirt (`--fpgas libvirt`).
        public var fpgas = FPGAHardware.emulated(2)
        public var fpgaReconfigure: Duration = .milliseconds(100)
        /// How long a request that needs an FPGA waits for one before 503.
        public var fpgaPatience: Duration = .seconds(2)
        /// Guest memory (and FPGA device memory) promised to instances at once; a tenant
        /// without a cap of its own may hold `tenantMemory` of it. A start that does not
        /// fit waits `memoryPatience`, then gets 503.
        public var guestMemory = LocalNode.Configuration.safeShareOfHostMemory
        public var tenantMemory = LocalNode.Configuration.safeShareOfHostMemory / 2
        public var memoryPatience: Duration = .seconds(2)
        /// The learned keep-alive's policy, bin and store.
        public var scaling = ScalingSettings()

        public init(launch: InstanceLaunch) {
            self.launch = launch
        }

        /// Two thirds of the host's memory: the rest is the node's own, the page cache's and the OS's.
        public static var safeShareOfHostMemory: UInt64 {
            UInt64(max(sysconf(Int32(_SC_PHYS_PAGES)), 0)) * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0)) / 3 * 2
        }
    }

    let scheduler: NodeScheduler

    /// `onGrant`: each FPGA grant and release, for the record; `logSink`: instances' log lines.
    public init(configuration c: Configuration, logger: Logger,
                onGrant: @escaping @Sendable (FPGAGrantEvent) -> Void, logSink: @escaping NodeScheduler.LogSink) {
        let inventory = FPGAInventory(hardware: c.fpgas, reconfigureCost: c.fpgaReconfigure, record: onGrant)
        // An FPGA cold start needs an emulated card: no more processes with PoCL started than cards.
        let pool = ProcessPool(launch: c.launch, size: c.poolSize, openCLSize: min(c.poolSize, c.fpgas.filter { $0 == .emulated }.count),
                               logger: logger)
        let memory = MemoryBudget(total: c.guestMemory, defaultTenantCap: c.tenantMemory)
        scheduler = NodeScheduler(name: c.name, pool: pool, inventory: inventory, fpgaPatience: c.fpgaPatience, memory: memory,
                                  memoryPatience: c.memoryPatience, scaling: c.scaling, logger: logger, logSink: logSink)
    }

    public func start() async { await scheduler.start() }
    public func shutdown() async { await scheduler.shutdown() }
    public func expect(_ deployment: Deployment) { scheduler.expect(deployment) }

    public func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome {
        try await scheduler.invoke(deployment, invocation)
    }

    public func invokeWarm(_ deployment: Deployment, _ invocation: () -> Invocation?,
                           completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) -> Bool {
        scheduler.invokeWarm(deployment, invocation, completion: completion)
    }

    public func remove(function: String) async { await scheduler.remove(function: function) }
    public func instances(of function: String) async -> [NodeScheduler.InstanceInfo] { await scheduler.instances(of: function) }
    public func allInstances() async -> [String: [NodeScheduler.InstanceInfo]] { await scheduler.allInstances() }
    public func scaling(of function: String) async -> [ScalingStatus] { await scheduler.scalingStatus(of: function).map { [$0] } ?? [] }

    public func capacity() async -> NodeCapacity {
        NodeCapacity(instances: await scheduler.instanceCount(), fpgas: await scheduler.inventory.count,
                     fpgasFree: await scheduler.inventory.freeCount, pooledProcesses: scheduler.pooledProcesses,
                     guestMemory: scheduler.memory.total, guestMemoryUsed: scheduler.memory.used)
    }

    public func accelerators() async -> [FPGACardState] { await scheduler.inventory.snapshot() }

    /// The paths of the images a cold start here finds already read and sealed.
    public var preloadedImages: [String] { scheduler.preloadedImages }

    public func checkMemory(_ bytes: UInt64, tenant: String) throws(MemoryBudget.Refusal) {
        try scheduler.memory.check(bytes, tenant: tenant)
    }

    public func setMemoryCap(_ bytes: UInt64?, tenant: String, uncapped: Bool) {
        scheduler.memory.setCap(bytes, tenant: tenant, uncapped: uncapped)
    }
}
