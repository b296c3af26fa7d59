import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import Node
import NIOCore
import NIOHTTP1
import Synchronization

/// The gateway's NodeClient in a cluster: the `kumo node` agents registered in etcd,
/// reached over their internal API. Each invocation goes where `Placement` says; the
/// gateway's own in-flight counts per node feed the load balancer.
public final class ClusterNodes: NodeClient {
    let view: NodeView
    let token: String
    let logger: Logger
    /// Gateways that hold an image, for the node to fetch it from.
    let imageSources: @Sendable (String) async -> [String]
    private let inFlight = Mutex<[String: Int]>([:])
    /// Where each function ran lately, and until when its instances may be warm.
    private let warm = Mutex<[String: [String: ContinuousClock.Instant]]>([:])
    private let caps = Mutex<[String: (bytes: UInt64?, uncapped: Bool)]>([:])
    /// Nodes that just failed to answer, and until when they get no new request (while others can take it).
    private let suspects = Mutex<[String: ContinuousClock.Instant]>([:])
    static let suspicion = Duration.seconds(10)
    /// Requests in flight per node, to end at once when the node leaves the cluster (a frozen
    /// node would otherwise hold them to their deadline).
    private let running = Mutex<[String: [UInt64: Task<InvocationOutcome, Error>]]>([:])
    private let requestIDs = Atomic<UInt64>(0)

    public init(view: NodeView, token: String, logger: Logger, imageSources: @escaping @Sendable (String) async -> [String]) {
        self.view = view
        self.token = token
        self.logger = logger
        self.imageSources = imageSources
    }

    public func start() async {
        view.onLeave = { [weak self] name in self?.abandon(name) }
        await view.start()
    }

    /// A node left the cluster: the requests it still holds end now, as unreachable.
    func abandon(_ node: String) {
        for task in running.withLock({ $0.removeValue(forKey: node) ?? [:] }).values { task.cancel() }
    }
    public func shutdown() async { view.stop() }
    public func expect(_ deployment: Deployment) {}

    public func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome {
        let now = ContinuousClock.now
        let recent = warm.withLock { $0[deployment.name] ?? [:] }.filter { $0.value > now }
        let suspected = suspects.withLock { s in s = s.filter { $0.value > now }; return Set(s.keys) }
        let live = view.alive.filter { $0.version == ClusterProtocol.version }
        let trusted = live.filter { !suspected.contains($0.name) }
        let candidates = (trusted.isEmpty ? live : trusted).map { record in
            Placement.Candidate(record: record, inFlight: inFlight.withLock { $0[record.name] ?? 0 }, warm: recent[record.name] != nil)
        }
        var random = SystemRandomNumberGenerator()
        guard let (node, reason) = Placement.choose(for: deployment, among: candidates, using: &random),
              let record = view.node(node) else {
            throw candidates.isEmpty
                ? .remote(.unavailable, "no node is alive in the cluster; start one with kumo node --etcd ...")
                : .remote(.unavailable, "no node has room for \(deployment.name) now (memory or a free FPGA); retry later")
        }
        Counter(label: "kumo_placements_total", dimensions: [("reason", reason.rawValue)]).increment()
        inFlight.withLock { $0[node, default: 0] += 1 }
        defer { inFlight.withLock { $0[node, default: 1] -= 1 } }
        let outcome: InvocationOutcome
        do { outcome = try await tracked(deployment, invocation, to: record) } catch {
            // Not sent there again while other nodes can take it, until it answers again or leaves.
            if case .unreachable = error {
                warm.withLock { $0[deployment.name]?[node] = nil }
                suspects.withLock { $0[node] = .now + Self.suspicion }
            }
            throw error
        }
        suspects.withLock { _ = $0.removeValue(forKey: node) }
        let keep = ContinuousClock.now + .seconds(max(deployment.limits.keepAliveSeconds, 0))
        warm.withLock { $0[deployment.name, default: [:]][node] = outcome.result.instanceEnded ? nil : keep }
        return outcome
    }

    /// `send`, as a task the node's departure can end.
    private func tracked(_ deployment: Deployment, _ invocation: Invocation, to node: NodeRecord) async throws(SchedulingError) -> InvocationOutcome {
        let id = requestIDs.add(1, ordering: .relaxed).newValue
        let task = Task { () async throws -> InvocationOutcome in try await self.send(deployment, invocation, to: node) }
        running.withLock { $0[node.name, default: [:]][id] = task }
        defer { running.withLock { _ = $0[node.name]?.removeValue(forKey: id) } }
        do { return try await task.value } catch let error as SchedulingError {
            throw task.isCancelled ? .unreachable(node: node.name, reason: "it left the cluster (its lease ended) while running the request") : error
        } catch {
            throw .unreachable(node: node.name, reason: "\(error)")
        }
    }

    private func send(_ deployment: Deployment, _ invocation: Invocation, to node: NodeRecord) async throws(SchedulingError) -> InvocationOutcome {
        let cap = caps.withLock { $0[deployment.tenant] } ?? (bytes: nil, uncapped: false)
        var request = HTTPClientRequest(url: node.address + RemoteWire.prefix + "/invoke")
        request.method = .POST
        do {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: RemoteWire.versionHeader, value: ClusterProtocol.version)
            request.headers.add(name: RemoteWire.deploymentHeader, value: try deploymentHeader(deployment, cap: cap))
            request.headers.add(name: RemoteWire.environmentHeader, value: try RemoteWire.header(invocation.environment))
            request.headers.add(name: RemoteWire.imageSourcesHeader, value: await imageSources(deployment.version).joined(separator: ","))
        } catch {
            throw .remote(.failed, "cannot describe the invocation to node \(node.name): \(error)")
        }
        request.body = .bytes(ByteBuffer(bytes: invocation.body))
        // The function's own timeout, plus time for a cold start and an image fetch.
        let limit = TimeAmount.seconds(Int64(deployment.config.timeoutSeconds.rounded(.up)) + 30)
        let status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer
        do {
            let response = try await ClusterHTTP.client.execute(request, timeout: limit)
            status = response.status
            headers = response.headers
            body = try await response.body.collect(upTo: 1 << 30)
        } catch {
            throw .unreachable(node: node.name, reason: "\(error)")
        }
        let output = Array(body.readableBytesView)
        if status == .ok, let outcome = RemoteWire.fromHeader(RemoteWire.RemoteOutcome.self, headers.first(name: RemoteWire.outcomeHeader)) {
            return outcome.outcome(output: output)
        }
        if let refusal = try? JSONDecoder().decode(RemoteWire.Refusal.self, from: Data(output)) {
            throw .remote(refusal.kind, "node \(node.name): \(refusal.message)")
        }
        throw .unreachable(node: node.name, reason: "it answered \(status.code): \(String(decoding: output.prefix(200), as: UTF8.self))")
    }

    /// The deployment header, encoded once per deployment and cap.
    private let encodedDeployments = Mutex<[String: (deployment: Deployment, bytes: UInt64?, uncapped: Bool, header: String)]>([:])

    private func deploymentHeader(_ deployment: Deployment, cap: (bytes: UInt64?, uncapped: Bool)) throws -> String {
        if let cached = encodedDeployments.withLock({ $0[deployment.name] }), cached.deployment == deployment,
           cached.bytes == cap.bytes, cached.uncapped == cap.uncapped { return cached.header }
        let header = try RemoteWire.header(RemoteWire.RemoteDeployment(deployment, tenantMemory: cap.bytes, uncapped: cap.uncapped))
        encodedDeployments.withLock { $0[deployment.name] = (deployment, cap.bytes, cap.uncapped, header) }
        return header
    }

    public func invokeWarm(_ deployment: Deployment, _ invocation: () -> Invocation?,
                           completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) -> Bool {
        false  // every cluster invocation is placed by `invoke`
    }

    public func remove(function: String) async {
        warm.withLock { $0[function] = nil }
        encodedDeployments.withLock { $0[function] = nil }
        for node in view.alive {
            var request = HTTPClientRequest(url: node.address + RemoteWire.prefix + "/remove/" + function)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            _ = try? await ClusterHTTP.client.execute(request, timeout: .seconds(5))
        }
    }

    public func instances(of function: String) async -> [NodeScheduler.InstanceInfo] {
        var all: [NodeScheduler.InstanceInfo] = []
        for node in view.alive {
            var request = HTTPClientRequest(url: node.address + RemoteWire.prefix + "/instances/" + function)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            guard let response = try? await ClusterHTTP.client.execute(request, timeout: .seconds(5)), response.status == .ok,
                  let body = try? await response.body.collect(upTo: 16 << 20),
                  let list = try? JSONDecoder().decode([NodeScheduler.InstanceInfo].self, from: Data(body.readableBytesView)) else { continue }
            all += list.map { var info = $0; info.id = node.name + "/" + info.id; return info }
        }
        return all
    }

    public func capacity() async -> NodeCapacity {
        view.alive.reduce(NodeCapacity(instances: 0, fpgas: 0, fpgasFree: 0, pooledProcesses: 0, guestMemory: 0, guestMemoryUsed: 0)) { sum, node in
            let c = node.capacity
            return NodeCapacity(instances: sum.instances + c.instances, fpgas: sum.fpgas + c.fpgas, fpgasFree: sum.fpgasFree + c.fpgasFree,
                                pooledProcesses: sum.pooledProcesses + c.pooledProcesses, guestMemory: sum.guestMemory + c.guestMemory,
                                guestMemoryUsed: sum.guestMemoryUsed + c.guestMemoryUsed)
        }
    }

    public func accelerators() async -> [FPGACardState] {
        view.alive.flatMap { node in node.cards.map { var card = $0; card.name = node.name + "/" + card.name; return card } }
    }

    /// Refused only when nodes are known and none is large enough (nodes may join later).
    public func checkMemory(_ bytes: UInt64, tenant: String) throws(MemoryBudget.Refusal) {
        let largest = view.alive.map(\.capacity.guestMemory).max()
        if let largest, bytes > largest { throw .never(needed: bytes, limit: largest, tenant: nil) }
        let cap = caps.withLock { $0[tenant] }
        if let cap, !cap.uncapped, let limit = cap.bytes, bytes > limit { throw .never(needed: bytes, limit: limit, tenant: tenant) }
    }

    public func setMemoryCap(_ bytes: UInt64?, tenant: String, uncapped: Bool) {
        caps.withLock { $0[tenant] = (bytes, uncapped) }
    }
}
