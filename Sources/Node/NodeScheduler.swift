import Foundation
import InstanceWire
import KumoSupport
import Tender
import Functions
import Logging
import Metrics
import Synchronization

/// The node's instances, per function: warm reuse, cold start from the process
/// pool, a bounded queue past the per-function maximum, keep-alive then scale
/// to zero, and an FPGA from the inventory for functions that need one.
public actor NodeScheduler {
    typealias Instance = NodeInstance

    struct Waiter {
        let continuation: CheckedContinuation<Instance?, any Error>
        /// When the reaper refuses it (no timer task per queued request: they cost the warm path).
        let deadline: ContinuousClock.Instant
        let seconds: Double
    }

    struct FunctionState {
        var deployment: Deployment
        var instances: [Instance] = []
        var starting = 0
        var waiters: [Waiter] = []
    }

    public typealias LogSink = @Sendable (_ function: String, _ instance: String, LogLine) -> Void

    let pool: ProcessPool
    public let inventory: FPGAInventory
    let logger: Logger
    let logSink: LogSink
    /// How long a request that needs an FPGA waits for one before 503.
    let fpgaPatience: Duration
    public nonisolated let memory: MemoryBudget
    let memoryPatience: Duration
    var functions: [String: FunctionState] = [:]
    /// Each function's autoscaler and learned keep-alive, kept while the function is known
    /// (its instances may all be gone: what it learned stays).
    var scalers: [String: FunctionScaler] = [:]
    /// Read from the store at start, taken when the function is deployed or first called.
    var learned: [String: IdleTimeHistogram] = [:]
    let scaling: ScalingSettings
    private var instanceCounter = 0
    private var reaper: Task<Void, Never>?
    /// Request ids, shared with the fast lane.
    let requestCounter = Atomic<UInt64>(0)
    /// The fast lane's view of each function (NodeScheduler+FastLane.swift).
    let lanes = Mutex<[String: Lane]>([:])

    /// The node's name, given in every outcome (X-Kumo-Node).
    let nodeName: String

    public init(name: String, pool: ProcessPool, inventory: FPGAInventory, fpgaPatience: Duration, memory: MemoryBudget,
                memoryPatience: Duration, scaling: ScalingSettings = ScalingSettings(), logger: Logger, logSink: @escaping LogSink) {
        nodeName = name
        self.pool = pool
        self.inventory = inventory
        self.fpgaPatience = fpgaPatience
        self.memory = memory
        self.memoryPatience = memoryPatience
        self.scaling = scaling
        self.logger = logger
        self.logSink = logSink
    }

    /// A deployed function: pooled processes ready memory of its size (and, for an FPGA
    /// function, the OpenCL runtime) for a cold start. An FPGA function also gets a process
    /// of its own with its image read and its bitstream's program built.
    public nonisolated func expect(_ deployment: Deployment) {
        let fpga = deployment.config.accelerator == .fpga
        pool.expect(PrepareInstance(memorySize: deployment.config.memory, openCL: fpga))
        if fpga {
            pool.bind(ProcessPool.Binding(function: deployment.name, version: deployment.version, config: deployment.config,
                                          image: { () throws(InstanceFailure) in try self.sealedImage(deployment) }))
        }
        Task { await self.adopt(deployment) }
    }

    /// The node scales a deployed function from now on (its minimum starts at the next
    /// tick); instances of an older version stop.
    private func adopt(_ deployment: Deployment) {
        _ = meter(for: deployment)
        switchVersion(deployment)
    }

    private func switchVersion(_ deployment: Deployment) {
        guard let known = functions[deployment.name], known.deployment.version != deployment.version else { return }
        functions[deployment.name]?.deployment = deployment
        retireAll(deployment.name, except: deployment.version)
    }

    /// Starts the pool and the keep-alive reaper.
    public func start() async {
        await loadLearned()
        pool.refill()
        reaper = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                await self?.reap()
            }
        }
    }

    public func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome {
        Trace.mark("sched invoke")
        let meter = meter(for: deployment)
        meter.begin()
        defer { meter.end() }
        let (instance, cold) = try await acquire(deployment)
        let request = prepare(instance, invocation, timeoutSeconds: deployment.config.timeoutSeconds)
        do {
            let (result, output) = try await instance.process.invoke(request, body: invocation.body)
            Trace.mark("sched resumed")
            finished(instance, function: deployment.name, ended: result.instanceEnded)
            return InvocationOutcome(result: result, output: output, coldStart: cold, instance: instance.id, node: nodeName)
        } catch {
            finished(instance, function: deployment.name, ended: true)
            throw .instance(error as? InstanceFailure ?? .ended("\(error)"))
        }
    }

    /// The request for a claimed instance. The instance enforces the timeout
    /// itself; the reaper ends a process that stops answering past it.
    nonisolated func prepare(_ instance: Instance, _ invocation: Invocation, timeoutSeconds: Double) -> InvokeRequest {
        instance.arm(timeoutSeconds: timeoutSeconds)
        return InvokeRequest(id: requestCounter.add(1, ordering: .relaxed).newValue,
                             environment: invocation.environment, timeoutSeconds: timeoutSeconds)
    }

    /// An instance that holds a card and has just gone idle gives the card up if a start is
    /// waiting for one (it was busy when that start looked for an idle holder to stop).
    func yieldCard(of instance: Instance, function: String) async {
        guard await inventory.waiting > 0, instance.claim() else { return }
        remove(instance, function: function, reason: "its FPGA went to a start waiting for one")
    }

    /// Hands an idle instance to the first waiter, if both exist.
    func serveWaiter(_ function: String) {
        guard functions[function]?.waiters.isEmpty == false,
              let idle = functions[function]?.instances.first(where: { $0.claim() }),
              let waiter = popWaiter(function) else { return }
        waiter.continuation.resume(returning: idle)
    }

    // MARK: the actor's path

    private func acquire(_ deployment: Deployment) async throws(SchedulingError) -> (Instance, Bool) {
        let name = deployment.name
        while true {
            if functions[name] == nil { functions[name] = FunctionState(deployment: deployment) }
            switchVersion(deployment)
            guard let state = functions[name] else { continue }
            if let idle = state.instances.reversed().first(where: { $0.claim(version: deployment.version) }) {
                return (idle, false)
            }
            let live = state.instances.filter { !$0.retired }.count + state.starting
            // Instances share requests up to the concurrency target before another starts.
            let inFlight = scalers[name]?.meter.inFlight ?? 1
            if live < deployment.limits.maxInstances, live == 0 || live * deployment.limits.concurrency < inFlight {
                return (try await coldStart(deployment, evicting: true), true)
            }
            guard state.waiters.count + laneQueued(name) < deployment.limits.queueLimit else {
                throw .queueFull(function: name, limit: deployment.limits.queueLimit)
            }
            if let handed = try await wait(for: deployment) { return (handed, false) }
        }
    }

    /// Waits for a busy instance to come free (or for room to start one: nil).
    private func wait(for deployment: Deployment) async throws(SchedulingError) -> Instance? {
        let name = deployment.name
        let seconds = deployment.config.timeoutSeconds
        let deadline = ContinuousClock.now + .seconds(seconds)
        do {
            return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Instance?, any Error>) in
                functions[name]?.waiters.append(Waiter(continuation: c, deadline: deadline, seconds: seconds))
                syncLane(name)
                // The fast lane may have released one between our look and now.
                serveWaiter(name)
            }
        } catch {
            throw error as? SchedulingError ?? .shuttingDown
        }
    }

    /// Refuses the queued requests that waited their function's timeout (the reaper's
    /// tick: up to 250 ms late).
    private func expireWaiters(_ function: String, now: ContinuousClock.Instant) {
        guard let waiters = functions[function]?.waiters, waiters.contains(where: { $0.deadline <= now }) else { return }
        functions[function]?.waiters = waiters.filter { $0.deadline > now }
        syncLane(function)
        for waiter in waiters where waiter.deadline <= now {
            waiter.continuation.resume(throwing: SchedulingError.queueTimeout(function: function, seconds: waiter.seconds))
        }
    }

    /// `evicting`: a request may stop another function's idle instance for its card; a start ahead of need may not.
    func coldStart(_ deployment: Deployment, evicting: Bool) async throws(SchedulingError) -> Instance {
        let name = deployment.name
        functions[name]?.starting += 1
        defer { functions[name]?.starting -= 1 }
        instanceCounter += 1
        let id = "\(name)-\(instanceCounter)"
        let reservation = (bytes: deployment.instanceMemory, tenant: deployment.tenant)
        do throws(MemoryBudget.Refusal) {
            if try !memory.reserveNow(reservation.bytes, tenant: reservation.tenant) {
                try await memory.reserve(reservation.bytes, tenant: reservation.tenant, patience: memoryPatience)
            }
        } catch {
            throw .noMemory(error)
        }
        var started = false
        defer { if !started { memory.release(reservation.bytes, tenant: reservation.tenant) } }
        var grant: FPGAGrantInfo?
        if deployment.config.accelerator == .fpga {
            do { grant = try await acquireFPGA(deployment, instance: id, evicting: evicting) } catch { throw .noFPGA(error) }
        }
        let process: InstanceProcess
        do {
            process = try pool.take(openCL: deployment.config.accelerator == .fpga, function: name, version: deployment.version)
            Trace.mark("sched took")
            defer { expect(deployment) }
            let sink = logSink
            try process.start(StartInstance(function: name, config: deployment.config, fpga: grant,
                                            stopsAfterRequest: deployment.limits.stopsWhenIdle),
                              image: { () throws(InstanceFailure) in try sealedImage(deployment) }, onLog: { sink(name, id, $0) })
        } catch {
            if let card = grant?.card { await inventory.release(card: card, stopped: nil, reason: "instance did not start") }
            throw .instance(error)
        }
        Trace.mark("sched started")
        let instance = Instance(id: id, process: process, version: deployment.version, card: grant?.card,
                                reservation: reservation, stopsWhenIdle: deployment.limits.stopsWhenIdle)
        started = true
        functions[name]?.instances.append(instance)
        syncLane(name)
        handles(name).coldStarts.increment()
        if grant != nil { handles(name).fpgaAllocations.increment() }
        updateGauge(name)
        logger.debug("cold start", metadata: ["instance": "\(id)", "fpga": "\(grant?.card ?? "-")"])
        return instance
    }

    /// The image an instance is started with (it reads no file of the node's itself).
    private nonisolated let images = SealedImageCache()

    /// The images a cold start here finds already read and sealed, by path.
    public nonisolated var preloadedImages: [String] { images.paths }

    private nonisolated func sealedImage(_ deployment: Deployment) throws(InstanceFailure) -> SealedImage {
        do { return try images.image(path: deployment.imagePath) } catch {
            // The node's own path stays out of what the client sees.
            var why = "\(error)"
            if case .unreadableImage(_, let reason) = error { why = reason }
            throw .ended("the image of \(deployment.name) on this node cannot be read (\(why)); deploy it again")
        }
    }

    /// A free card, else stop an idle instance that holds one, then wait (bounded).
    private func acquireFPGA(_ deployment: Deployment, instance: String, evicting: Bool) async throws(FPGAAllocationError) -> FPGAGrantInfo {
        if evicting, await inventory.freeCount == 0 {
            let holders = functions.flatMap { name, state in state.instances.filter { $0.card != nil }.map { (name, $0) } }
                .sorted { $0.1.snapshot.lastUsed < $1.1.snapshot.lastUsed }
            // claim() takes only an idle one; a busy holder keeps its card.
            if let (owner, victim) = holders.first(where: { $0.1.claim() }) {
                remove(victim, function: owner, reason: "its FPGA went to \(deployment.name)")
            }
        }
        let claim = FPGAInventory.Claim(tenant: deployment.tenant, function: deployment.name,
                                        bitstream: deployment.config.bitstream, instance: instance)
        return try await inventory.acquire(claim, patience: fpgaPatience)
    }

    func finished(_ instance: Instance, function: String, ended: Bool) {
        if ended || instance.retired || !instance.alive {
            instance.finishedRequest(keepBusy: true)
            remove(instance, function: function, reason: ended ? "the instance ended" : "retired")
            // Room for another instance: the first waiter starts one.
            if let waiter = popWaiter(function) { waiter.continuation.resume(returning: nil) }
            return
        }
        if let waiter = popWaiter(function) {
            instance.finishedRequest(keepBusy: true)
            waiter.continuation.resume(returning: instance)  // handed over, still busy
        } else if instance.stopsWhenIdle {
            instance.finishedRequest(keepBusy: true)
            stopAfterAnswer(instance, function: function)
        } else {
            instance.finishedRequest(keepBusy: false)
            handOn(instance, function: function)  // to a request waiting in the fast lane, if any
        }
    }

    /// Keep-alive 0: the instance stops now that its request is answered, a moment
    /// later, so that its teardown (a VM destroyed, memory unmapped: TLB flushes on
    /// every CPU) does not compete with the answer on its way out. Left to the
    /// reaper's next round, that teardown could land on the next request.
    private func stopAfterAnswer(_ instance: Instance, function: String) {
        Task {
            // A start that wants this card's bitstream waits for it rather than take another card.
            if let card = instance.card { await inventory.releasing(card: card) }
            try? await Task.sleep(for: .milliseconds(2))
            await self.stopIdle(instance, function: function)
        }
    }

    private func stopIdle(_ instance: Instance, function: String) {
        if let waiter = popWaiter(function) {
            waiter.continuation.resume(returning: instance)  // a request came meanwhile: it takes this one
            if let card = instance.card { Task { await inventory.kept(card: card) } }
            return
        }
        remove(instance, function: function, reason: "keep-alive 0: stopped after its request")
    }

    private func popWaiter(_ function: String) -> Waiter? {
        guard functions[function]?.waiters.isEmpty == false else { return nil }
        defer { syncLane(function) }
        return functions[function]?.waiters.removeFirst()
    }

    /// Mirrors a function's instances, waiter count and limits for the fast lane; requests
    /// waiting there that it can no longer serve (room to start an instance now, another
    /// version, the function gone) go the actor's way.
    func syncLane(_ function: String) {
        let state = functions[function]
        let instances = state?.instances ?? []
        let waiting = state?.waiters.count ?? 0
        let version = state?.deployment.version
        let full = state.map { $0.instances.filter { !$0.retired }.count + $0.starting >= $0.deployment.limits.maxInstances } ?? false
        let meter = scalers[function]?.meter
        let released: [LaneWaiter] = lanes.withLock { lanes in
            let keep = full && !instances.isEmpty
            let leaves = { (waiter: LaneWaiter) in !keep || waiter.deployment.version != version }
            var queued = lanes[function]?.queued ?? []
            let released = queued.filter(leaves)
            queued.removeAll(where: leaves)  // the rest keep their order
            lanes[function] = instances.isEmpty && waiting == 0 && queued.isEmpty ? nil
                : Lane(instances: instances, waiting: waiting, meter: meter, full: full,
                       queueLimit: state?.deployment.limits.queueLimit ?? 0, queued: queued)
            return released
        }
        for waiter in released { redirect(waiter, as: state?.deployment) }
    }

    /// Takes the instance out now (the caller owns it: busy or claimed); its process
    /// stops (and its FPGA is released) in the background.
    func remove(_ instance: Instance, function: String, reason: String) {
        _ = instance.retire()
        functions[function]?.instances.removeAll { $0 === instance }
        syncLane(function)
        updateGauge(function)
        let inventory = self.inventory, logger = self.logger, memory = self.memory
        Task {
            if let card = instance.card { await inventory.releasing(card: card) }
            let stopped = await instance.process.stop()
            // Its memory is the host's again only once its process is gone.
            memory.release(instance.reservation.bytes, tenant: instance.reservation.tenant)
            if let card = instance.card {
                await inventory.release(card: card, stopped: stopped, reason: reason)
                if let stopped, stopped.reconfigurations > 0 {
                    Counter(label: "kumo_fpga_reconfigurations_total", dimensions: [("card", card)]).increment(by: stopped.reconfigurations)
                }
            }
            logger.debug("instance stopped", metadata: ["instance": "\(instance.id)", "reason": "\(reason)"])
        }
    }

    private func retireAll(_ function: String, except version: String? = nil) {
        for instance in functions[function]?.instances ?? [] where instance.version != version {
            // Idle ones stop now; busy ones when their request finishes.
            if instance.retire() { remove(instance, function: function, reason: "a new version was deployed or it was removed") }
        }
    }

    /// Stops instances idle past their keep-alive, and any whose process died;
    /// kills a busy one whose process stopped answering; tops the pool up (here,
    /// not in the cold start that took a process: a timer per cold start wakes a
    /// thread on the request's path, and a refill right after the answer competes
    /// with the answer for the CPUs).
    func reap() {
        pool.refill()
        let now = ContinuousClock.now
        scaleAll(now: now)
        for name in Array(functions.keys) {
            expireWaiters(name, now: now)
            expireLaneWaiters(name, now: now)
            reapIdle(name, now: now)
            if functions[name]?.instances.isEmpty == true, functions[name]?.waiters.isEmpty == true,
               functions[name]?.starting == 0 {
                functions[name] = nil
                syncLane(name)
            }
        }
    }

    /// The function was removed: its instances stop, its waiters are refused.
    public func remove(function: String) {
        retireAll(function)
        pool.unbind(function: function)
        for waiter in functions[function]?.waiters ?? [] {
            waiter.continuation.resume(throwing: SchedulingError.removed(function: function))
        }
        functions[function]?.waiters = []
        // Taken in one step: a request queued between a look and a clear would be lost.
        for waiter in lanes.withLock({ lanes in defer { lanes[function]?.queued = [] }; return lanes[function]?.queued ?? [] }) {
            waiter.meter?.end()
            waiter.completion(.failure(.removed(function: function)))
        }
        scalers[function] = nil
        syncLane(function)
    }

    /// Stops every instance and the pool (kumo serve is exiting).
    public func shutdown() async {
        reaper?.cancel()
        await saveLearned()
        pool.close()
        let all = functions.values.flatMap(\.instances)
        for (name, _) in functions { remove(function: name) }
        for instance in all { _ = await instance.process.stop(grace: .seconds(2)) }
    }

    private func updateGauge(_ function: String) {
        handles(function).instances.record(functions[function]?.instances.count ?? 0)
    }

    /// Metric handles per function, made once (the factory's registry lookup is not free).
    struct FunctionMetrics {
        let coldStarts: Counter
        let fpgaAllocations: Counter
        let instances: Gauge
        let desired: Gauge
        let stableConcurrency: Gauge
        let panicking: Gauge
        /// Seconds an idle instance stays warm after the function went idle (learned).
        let warmSeconds: Gauge
        let prewarms: Counter
    }
    private var metricHandles: [String: FunctionMetrics] = [:]

    func handles(_ function: String) -> FunctionMetrics {
        if let known = metricHandles[function] { return known }
        let made = FunctionMetrics(
            coldStarts: Counter(label: "kumo_cold_starts_total", dimensions: [("function", function)]),
            fpgaAllocations: Counter(label: "kumo_fpga_allocations_total", dimensions: [("function", function)]),
            instances: Gauge(label: "kumo_instances", dimensions: [("function", function)]),
            desired: Gauge(label: "kumo_desired_instances", dimensions: [("function", function)]),
            stableConcurrency: Gauge(label: "kumo_observed_concurrency", dimensions: [("function", function)]),
            panicking: Gauge(label: "kumo_autoscaler_panic", dimensions: [("function", function)]),
            warmSeconds: Gauge(label: "kumo_learned_keep_alive_seconds", dimensions: [("function", function)]),
            prewarms: Counter(label: "kumo_prewarms_total", dimensions: [("function", function)]))
        metricHandles[function] = made
        return made
    }

    public struct InstanceInfo: Codable, Sendable {
        public var id: String
        public var busy: Bool
        public var fpga: String?
        public var started: Date
        public var served: Int
        public var idleSeconds: Double
    }

    /// Every function's instances here, by function (one call for a whole listing).
    public func allInstances() -> [String: [InstanceInfo]] {
        var all: [String: [InstanceInfo]] = [:]
        for name in functions.keys { all[name] = instances(of: name) }
        return all
    }

    public func instances(of function: String) -> [InstanceInfo] {
        let now = ContinuousClock.now
        return (functions[function]?.instances ?? []).map {
            let life = $0.snapshot
            return InstanceInfo(id: $0.id, busy: life.busy, fpga: $0.card, started: $0.started, served: life.served,
                                idleSeconds: life.busy ? 0 : Double((now - life.lastUsed) / .milliseconds(1)) / 1000)
        }
    }

    public nonisolated var pooledProcesses: Int { pool.idleCount }

    public func instanceCount() -> Int { functions.values.reduce(0) { $0 + $1.instances.count } }
}
