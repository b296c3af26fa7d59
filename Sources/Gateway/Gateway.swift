import Foundation
import HTTPTypes
import HummingbirdCore
import Functions
import KumoSupport
import Logging
import Metrics
import Node
import Cluster
import Synchronization
import Tender

/// The control plane's HTTP side: tenants, functions and their images, async calls,
/// and the deployed functions in memory (so an invocation never reads the database).
/// It reaches the node that runs instances through a `NodeClient` it is given.
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    let store: any StateStore
    let images: ImageCache
    let node: any NodeClient
    let logs: RecordBuffer
    let logger: Logger
    private let deployments = Mutex<[String: Deployment]>([:])
    let asyncCalls: AsyncCallRunner
    let metricHandles = MetricHandles()
    let connections: ConnectionCounts
    /// Set in a cluster (`kumo serve --etcd`), with its registration once the server listens.
    let cluster: GatewayCluster?
    let membership = Mutex<Task<Void, Never>?>(nil)

    public init(configuration: GatewayConfiguration, state: GatewayState, node: any NodeClient,
                cluster: GatewayCluster? = nil, logger: Logger) async throws {
        self.configuration = configuration
        self.cluster = cluster
        self.logger = logger
        self.node = node
        connections = ConnectionCounts(total: configuration.maxConnections, perClient: configuration.maxClientConnections)
        store = state.store
        logs = state.logs
        images = try ImageCache(directory: configuration.imageDirectory)
        let store = self.store, logs = self.logs
        for tenant in try await store.tenants() {
            node.setMemoryCap(tenant.memoryLimit.map(UInt64.init), tenant: tenant.name, uncapped: tenant.admin)
        }
        let callbacks = CallbackSender(policy: configuration.callbackPolicy, logger: logger) { delivery, outcome in
            // The outcome is the function owner's to read (kumo logs), not every holder of the call id's.
            logs.append(function: delivery.function, instance: "-", stream: "kumo",
                        text: "async call \(delivery.callID): callback to \(delivery.url.host ?? "?"): \(outcome)\n")
            Task {
                guard var call = try? await store.call(delivery.callID) else { return }
                call.callbackResult = outcome
                try? await store.update(call)
            }
        }
        asyncCalls = AsyncCallRunner(store: store, concurrency: configuration.asyncConcurrency, callbacks: callbacks, logger: logger)
        // The most recently deployed last: those are the images pooled processes keep ready.
        for record in try await store.functions(tenant: nil).sorted(by: { $0.updated < $1.updated }) {
            // In a cluster, one whose image is not here yet is taken once it has been pulled.
            guard let deployment = try? deployment(from: record), access(deployment.imagePath, F_OK) == 0 else { continue }
            deployments.withLock { $0[record.name] = deployment }
            node.expect(deployment)
        }
    }

    /// The admin token: made on first start, kept in DATA/admin-token (mode 0600).
    /// Returns true when it was made now.
    public func ensureAdmin() async throws -> Bool {
        guard try await !store.hasAdmin() else { return false }
        let token = Tokens.generate()
        _ = try await store.insert(TenantRecord(name: "admin", tokenHash: Tokens.hash(token), admin: true, created: Date()))
        node.setMemoryCap(nil, tenant: "admin", uncapped: true)
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
    var deploymentsNow: [Deployment] { deployments.withLock { Array($0.values) } }
    var deploymentCount: Int { deployments.withLock { $0.count } }

    func setDeployment(_ deployment: Deployment?, name: String) {
        deployments.withLock { $0[name] = deployment }
        if let deployment { node.expect(deployment) }
    }

    /// One invocation, sync or async, mapped to what HTTP says about it.
    func invoke(function name: String, body: [UInt8], environment: [String]) async -> InvocationReply {
        guard let deployment = deployment(named: name) else { return .refused(Self.notDeployed(name)) }
        let started = ContinuousClock.now
        let reply: InvocationReply
        do {
            reply = .completed(try await node.invoke(deployment, Invocation(body: body, environment: environment)))
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
        guard body.count <= Self.eventLoopBodyLimit, FunctionName.isValid(name), let deployment = deployment(named: name) else {
            return false
        }
        let started = ContinuousClock.now
        // Made only once an instance is claimed (a cold start does not pay for it twice);
        // a bad request gets its error from the slow path.
        let invocation = { () -> Invocation? in
            (try? CGIEnvironment.make(head: head, uri: uri, function: name, bodyCount: body.count)).map {
                Invocation(body: body, environment: $0)
            }
        }
        return node.invokeWarm(deployment, invocation) { [self] result in
            let reply: InvocationReply
            switch result {
            case .success(let outcome): reply = .completed(outcome)
            case .failure(let error): reply = .refused(Self.refusal(for: error))
            }
            done(Self.parts(for: reply))
            record(function: name, reply: reply, elapsed: ContinuousClock.now - started)
        }
    }

    static func refusal(for error: SchedulingError) -> GatewayError {
        switch (error, error.kind) {
        case (.noFPGA, _), (.noMemory, _): return .unavailable(error.description, retryAfter: 2)
        case (_, .busy): return .busy(error.description, retryAfter: 1)
        case (_, .unavailable): return .unavailable(error.description, retryAfter: 1)
        case (_, .notFound): return .notFound(error.description)
        case (_, .failed): return .badGateway(error.description)
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
        metricHandles.latency(function: name).recordNanoseconds(Int64(elapsed.wholeNanoseconds))
    }

    /// Runs until cancelled: the log writer, the async calls, the node.
    func startBackground() async {
        await node.start()
        await asyncCalls.start(gateway: self)
    }

    /// In a cluster: registers this gateway at `url` and follows the others' deploys.
    func joinCluster(url: String) -> Task<Void, Never>? {
        guard let cluster else { return nil }
        return Task { await cluster.run(gateway: self, url: url) }
    }

    public func shutdown() async {
        await node.shutdown()
        await logs.flush()
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
