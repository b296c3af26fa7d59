import Foundation
import HTTPTypes
import HummingbirdCore
import Functions
import Logging
import Metrics
import Node
import Synchronization
import Tender

/// The embedded control plane: the store, the image cache, the node's
/// scheduler and FPGA inventory, and the deployed functions in memory (so an
/// invocation never reads the database).
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    let store: Store
    let images: ImageCache
    let scheduler: NodeScheduler
    let logs: LogBuffer
    let logger: Logger
    private let deployments = Mutex<[String: Deployment]>([:])
    let asyncCalls: AsyncCallRunner
    let metricHandles = MetricHandles()
    let connections: ConnectionCounts

    /// Opens (or creates) the data directory; creates the admin tenant on first start.
    public init(configuration: GatewayConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        connections = ConnectionCounts(total: configuration.maxConnections, perClient: configuration.maxClientConnections)
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        store = try Store(path: configuration.databasePath)
        images = try ImageCache(directory: configuration.imageDirectory)
        let logs = LogBuffer(store: store, logger: logger)
        self.logs = logs
        let store = self.store
        let inventory = FPGAInventory(count: configuration.fpgaCount, reconfigureCost: configuration.fpgaReconfigure) { event in
            do {
                try store.record(GrantRecord(id: nil, at: event.at, kind: event.kind.rawValue, card: event.card,
                                             tenant: event.tenant, function: event.function, instance: event.instance,
                                             detail: event.detail))
            } catch { logger.error("cannot record an FPGA \(event.kind.rawValue): \(error)") }
        }
        var launch = InstanceLaunch(executable: configuration.instanceExecutable, hiddenPaths: [configuration.dataDirectory])
        launch.testHooks = configuration.testHooks
        let pool = ProcessPool(launch: launch, size: configuration.poolSize, logger: logger)
        let memory = MemoryBudget(total: configuration.guestMemory, defaultTenantCap: configuration.tenantMemory)
        for tenant in try store.tenants() {
            memory.setCap(tenant.memoryLimit.map(UInt64.init), tenant: tenant.name, uncapped: tenant.admin)
        }
        scheduler = NodeScheduler(pool: pool, inventory: inventory, fpgaPatience: configuration.fpgaPatience,
                                  memory: memory, memoryPatience: configuration.memoryPatience,
                                  logger: logger) { function, instance, line in
            logs.append(function: function, instance: instance, stream: line.stream, text: line.text)
        }
        let callbacks = CallbackSender(policy: configuration.callbackPolicy, logger: logger) { delivery, outcome in
            // The outcome is the function owner's to read (kumo logs), not every holder of the call id's.
            logs.append(function: delivery.function, instance: "-", stream: "kumo",
                        text: "async call \(delivery.callID): callback to \(delivery.url.host ?? "?"): \(outcome)\n")
            if var call = try? store.call(delivery.callID) {
                call.callbackResult = outcome
                try? store.update(call)
            }
        }
        asyncCalls = AsyncCallRunner(store: store, concurrency: configuration.asyncConcurrency, callbacks: callbacks, logger: logger)
        // The most recently deployed last: those are the images pooled processes keep ready.
        for record in try store.functions(tenant: nil).sorted(by: { $0.updated < $1.updated }) {
            guard let deployment = try? deployment(from: record) else { continue }
            deployments.withLock { $0[record.name] = deployment }
            scheduler.expect(deployment)
        }
    }

    /// The admin token: made on first start, kept in DATA/admin-token (mode 0600).
    /// Returns true when it was made now.
    public func ensureAdmin() throws -> Bool {
        guard try !store.hasAdmin() else { return false }
        let token = Tokens.generate()
        _ = try store.insert(TenantRecord(name: "admin", tokenHash: Tokens.hash(token), admin: true, created: Date()))
        scheduler.memory.setCap(nil, tenant: "admin", uncapped: true)
        let path = configuration.adminTokenPath
        _ = FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
        return true
    }

    func deployment(from record: FunctionRecord) throws -> Deployment {
        let config = try JSONDecoder().decode(ImageConfig.self, from: Data(record.config.utf8))
        let limits = try JSONDecoder().decode(InstanceLimits.self, from: Data(record.limits.utf8))
        return Deployment(name: record.name, tenant: record.tenant, imagePath: images.path(record.image),
                          version: record.image, config: config, limits: limits)
    }

    func deployment(named name: String) -> Deployment? { deployments.withLock { $0[name] } }
    var deploymentCount: Int { deployments.withLock { $0.count } }

    func setDeployment(_ deployment: Deployment?, name: String) {
        deployments.withLock { $0[name] = deployment }
        if let deployment { scheduler.expect(deployment) }
    }

    /// One invocation, sync or async, mapped to what HTTP says about it.
    func invoke(function name: String, body: [UInt8], environment: [String]) async -> InvocationReply {
        guard let deployment = deployment(named: name) else { return .refused(Self.notDeployed(name)) }
        let started = ContinuousClock.now
        let reply: InvocationReply
        do {
            reply = .completed(try await scheduler.invoke(deployment, Invocation(body: body, environment: environment)))
        } catch {
            reply = .refused(Self.refusal(for: error))
        }
        record(function: name, reply: reply, elapsed: ContinuousClock.now - started)
        return reply
    }

    /// The event-loop fast lane: a warm idle instance takes the request with no task
    /// and no actor on the way; `done` runs on the instance's reader thread. False
    /// when there is no such instance (or the body is large): use `invoke`.
    /// Bodies up to this size are written to an instance's pipe from the event loop
    /// (a pipe holds 64 KiB, so the write cannot block); larger ones from a task.
    static let eventLoopBodyLimit = 60_000

    func invokeWarm(function name: String, head: HTTPRequest, uri: URI, body: [UInt8],
                    done: @escaping @Sendable ((HTTPResponse.Status, HTTPFields, [UInt8])) -> Void) -> Bool {
        // A large body could fill the pipe and block the event loop while the instance reads it.
        guard body.count <= Self.eventLoopBodyLimit, FunctionName.isValid(name), let deployment = deployment(named: name),
              let instance = scheduler.claimWarm(function: name, version: deployment.version) else { return false }
        guard let environment = try? CGIEnvironment.make(head: head, uri: uri, function: name, bodyCount: body.count) else {
            scheduler.unclaim(instance, function: name)
            return false  // the slow path gives the error
        }
        let started = ContinuousClock.now
        scheduler.invokeWarm(instance, function: name, invocation: Invocation(body: body, environment: environment),
                             timeoutSeconds: deployment.config.timeoutSeconds) { [self] result in
            let reply: InvocationReply
            switch result {
            case .success(let outcome): reply = .completed(outcome)
            case .failure(let error): reply = .refused(Self.refusal(for: error))
            }
            done(Self.parts(for: reply))
            record(function: name, reply: reply, elapsed: ContinuousClock.now - started)
        }
        return true
    }

    static func refusal(for error: SchedulingError) -> GatewayError {
        switch error {
        case .queueFull: return .busy(error.description, retryAfter: 1)
        case .queueTimeout, .shuttingDown: return .unavailable(error.description, retryAfter: 1)
        case .noFPGA, .noMemory: return .unavailable(error.description, retryAfter: 2)
        case .removed: return .notFound(error.description)
        case .instance: return .badGateway(error.description)
        }
    }

    /// Logs and metrics of one invocation.
    func record(function name: String, reply: InvocationReply, elapsed: Duration) {
        switch reply {
        case .completed(let outcome):
            if !outcome.result.stderr.isEmpty {
                logs.append(function: name, instance: outcome.instance, stream: "stderr", text: outcome.result.stderr)
            }
            if outcome.result.status != .succeeded {
                logs.append(function: name, instance: outcome.instance, stream: "kumo", text: outcome.result.detail + "\n")
            }
        case .refused(let error):
            logs.append(function: name, instance: "-", stream: "kumo", text: error.description + "\n")
        }
        metricHandles.invocations(function: name, status: reply.httpStatus).increment()
        metricHandles.latency(function: name).recordNanoseconds(Int64(Tender.nanoseconds(elapsed)))
    }

    /// Runs until cancelled: the log writer, the async calls, the scheduler.
    func startBackground() async {
        await scheduler.start()
        await asyncCalls.start(gateway: self)
    }

    public func shutdown() async {
        await scheduler.shutdown()
        logs.flush()
    }
}

/// An invocation's end, before it becomes an HTTP response.
enum InvocationReply: Sendable {
    case completed(InvocationOutcome)
    case refused(GatewayError)

    var httpStatus: Int {
        switch self {
        case .refused(let error): return Int(error.status.code)
        case .completed(let outcome):
            switch outcome.result.status {
            case .succeeded: return 200
            case .failed: return 500
            case .timedOut: return 504
            case .bootFailed: return 502
            }
        }
    }
}
