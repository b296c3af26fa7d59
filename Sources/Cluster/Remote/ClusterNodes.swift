import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import Node
import NIOCore
import NIOHTTP1
import NIOPosix
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
    private let running = Mutex<[String: [UInt64: HTTPClient.Task<HTTPClient.Response>]]>([:])
    private let requestIDs = Atomic<UInt64>(0)
    let policy: Placement.Policy
    /// Requests placed so far, for round robin.
    private let turns = Atomic<Int>(0)
    private let cards = CardView()
    /// Per function and node, how long requests took lately.
    private let latencies = Mutex<[String: [String: LatencyAverage]]>([:])

    public init(view: NodeView, token: String, policy: Placement.Policy = Placement.Policy(), logger: Logger,
                imageSources: @escaping @Sendable (String) async -> [String]) {
        self.view = view
        self.policy = policy
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
        cards.forget(node)
    }
    public func shutdown() async { view.stop() }
    public func expect(_ deployment: Deployment) {}

    public func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome {
        var skipped: Set<String> = []
        while true {
            switch try await attempt(deployment, invocation, skipping: skipped) {
            case .answered(let outcome):
                return outcome
            case .undelivered(let node, let reason):
                // It never reached the node, so it runs nowhere yet: another node may take it.
                skipped.insert(node)
                guard skipped.count < Self.deliveryAttempts else { throw .unreachable(node: node, reason: reason) }
                logger.info("request not delivered; sending it to another node", metadata: ["node": "\(node)", "reason": "\(reason)"])
            }
        }
    }

    /// Nodes tried for one request whose connection fails before anything is sent.
    static let deliveryAttempts = 3

    enum Attempt {
        case answered(InvocationOutcome)
        case undelivered(node: String, reason: String)
    }

    /// Places the request and sends it.
    private func attempt(_ deployment: Deployment, _ invocation: Invocation, skipping: Set<String>) async throws(SchedulingError) -> Attempt {
        let now = ContinuousClock.now
        let recent = warm.withLock { $0[deployment.name] ?? [:] }.filter { $0.value > now }
        let suspected = suspects.withLock { s in s = s.filter { $0.value > now }; return Set(s.keys) }
        let live = view.alive.filter { $0.version == ClusterProtocol.version && !skipping.contains($0.name) }
        let trusted = live.filter { !suspected.contains($0.name) }
        let latency = latencies.withLock { $0[deployment.name] ?? [:] }
        let candidates = (trusted.isEmpty ? live : trusted).map { record in
            Placement.Candidate(record: cards.current(record), inFlight: inFlight.withLock { $0[record.name] ?? 0 },
                                warm: recent[record.name] != nil, latency: latency[record.name]?.value(at: now) ?? 0)
        }
        var random = SystemRandomNumberGenerator()
        let turn = turns.add(1, ordering: .relaxed).oldValue
        guard let (node, reason) = Placement.choose(for: deployment, among: candidates, policy: policy, turn: turn, using: &random),
              let record = view.node(node) else {
            if candidates.isEmpty, let other = view.alive.first(where: { $0.version != ClusterProtocol.version }) {
                throw .remote(.unavailable, "only nodes of another kumo are alive (\(other.name) speaks \(other.version.prefix(40)), "
                                + "this gateway \(ClusterProtocol.version)); run the same kumo on gateways and nodes")
            }
            throw candidates.isEmpty
                ? .remote(.unavailable, "no node is alive in the cluster; start one with kumo node --etcd ...")
                : .remote(.unavailable, "no node has room for \(deployment.name) now (memory or a free FPGA); retry later")
        }
        Counter(label: "kumo_placements_total", dimensions: [("reason", reason.rawValue)]).increment()
        logger.debug("placed", metadata: ["function": "\(deployment.name)", "node": "\(node)", "reason": "\(reason.rawValue)"])
        inFlight.withLock { $0[node, default: 0] += 1 }
        defer { inFlight.withLock { $0[node, default: 1] -= 1 } }
        let placed = reason != .warm && deployment.config.accelerator == .fpga ? cards.place(deployment, on: node) : nil
        let answer: Attempt
        let sent = ContinuousClock.now
        do { answer = try await tracked(deployment, invocation, to: record) } catch {
            if let placed { cards.finished(placed, on: node, instanceEnded: true) }
            if case .unreachable = error { suspect(node, of: deployment) }
            throw error
        }
        guard case .answered(let outcome) = answer else {
            if let placed { cards.finished(placed, on: node, instanceEnded: true) }
            suspect(node, of: deployment)
            return answer
        }
        suspects.withLock { _ = $0.removeValue(forKey: node) }
        // The instance's own time where it says (a slowed node shows it undiluted by the hop), else the round trip.
        let done = ContinuousClock.now
        let took = outcome.result.nanoseconds > 0 ? Duration.nanoseconds(Int64(clamping: outcome.result.nanoseconds)) : done - sent
        latencies.withLock { $0[deployment.name, default: [:]][node, default: LatencyAverage()].add(took, at: done) }
        // With no keep-alive the node stops the instance, and frees its card, right after the answer.
        if let placed {
            cards.finished(placed, on: node, instanceEnded: outcome.result.instanceEnded || deployment.limits.keepAliveSeconds <= 0)
        }
        let keep = ContinuousClock.now + .seconds(max(deployment.limits.keepAliveSeconds, 0))
        warm.withLock { $0[deployment.name, default: [:]][node] = outcome.result.instanceEnded ? nil : keep }
        return answer
    }

    /// Not sent there again while other nodes can take it, until it answers again or leaves.
    private func suspect(_ node: String, of deployment: Deployment) {
        warm.withLock { $0[deployment.name]?[node] = nil }
        suspects.withLock { $0[node] = .now + Self.suspicion }
    }

    /// Sends the invocation to the node and waits for its answer; the node's departure ends
    /// the wait (`abandon`). The answer comes on the caller's event loop when it has one (the
    /// gateway's request task does), and so does the connection when the pool has one there.
    /// Only preferred, not required: AsyncHTTPClient makes a connection for each request
    /// that requires a loop and closes it after (a TCP handshake per invocation).
    private func tracked(_ deployment: Deployment, _ invocation: Invocation, to node: NodeRecord) async throws(SchedulingError) -> Attempt {
        let request: HTTPClient.Request
        do { request = try await invokeRequest(deployment, invocation, to: node) } catch {
            throw .remote(.failed, "cannot describe the invocation to node \(node.name): \(error)")
        }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { current in
            ClusterHTTP.client.eventLoopGroup.makeIterator().contains { $0 === current } ? current : nil
        }
        // The function's own timeout, plus time for a cold start and an image fetch.
        let limit = TimeAmount.seconds(Int64(deployment.config.timeoutSeconds.rounded(.up)) + 30)
        let id = requestIDs.add(1, ordering: .relaxed).newValue
        let task = ClusterHTTP.client.execute(request: request, delegate: ResponseAccumulator(request: request, maxBodySize: 1 << 30),
                                              eventLoop: loop.map { .delegate(on: $0) } ?? .indifferent,
                                              deadline: .now() + limit)
        running.withLock { $0[node.name, default: [:]][id] = task }
        defer { running.withLock { _ = $0[node.name]?.removeValue(forKey: id) } }
        let response: HTTPClient.Response
        do { response = try await task.futureResult.get() } catch {
            if Undelivered.isConnectFailure(error) { return .undelivered(node: node.name, reason: "\(error)") }
            if let http = error as? HTTPClientError, http == .cancelled {
                throw .unreachable(node: node.name, reason: "it left the cluster (its lease ended) while running the request")
            }
            throw .unreachable(node: node.name, reason: "\(error)")
        }
        let output = response.body.map { Array($0.readableBytesView) } ?? []
        if response.status == .ok, let outcome = RemoteWire.outcome(fromHeader: response.headers.first(name: RemoteWire.outcomeHeader),
                                                                      output: output, node: node.name) {
            return .answered(outcome)
        }
        if let refusal = try? JSONDecoder().decode(RemoteWire.Refusal.self, from: Data(output)) {
            throw .remote(refusal.kind, "node \(node.name): \(refusal.message)")
        }
        throw .unreachable(node: node.name, reason: "it answered \(response.status.code): \(String(decoding: output.prefix(200), as: UTF8.self))")
    }

    private func invokeRequest(_ deployment: Deployment, _ invocation: Invocation, to node: NodeRecord) async throws -> HTTPClient.Request {
        let cap = caps.withLock { $0[deployment.tenant] } ?? (bytes: nil, uncapped: false)
        var request = try HTTPClient.Request(url: node.address + RemoteWire.prefix + "/invoke", method: .POST)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: RemoteWire.versionHeader, value: ClusterProtocol.version)
        request.headers.add(name: RemoteWire.deploymentHeader, value: try deploymentHeader(deployment, cap: cap))
        guard let environment = RemoteWire.environmentHeader(invocation.environment) else {
            throw SchedulingError.remote(.failed, "the request's environment is too large to send to a node")
        }
        request.headers.add(name: RemoteWire.environmentHeader, value: environment)
        request.headers.add(name: RemoteWire.imageSourcesHeader, value: await imageSources(deployment.version).joined(separator: ","))
        request.body = .bytes(invocation.body)
        return request
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
        latencies.withLock { $0[function] = nil }
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

/// A request whose connection to the node failed before any of it was sent: it ran nowhere.
enum Undelivered {
    static func isConnectFailure(_ error: Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return true }
        if let http = error as? HTTPClientError, http == .connectTimeout { return true }
        return false
    }
}

/// A moving average of request times that forgets with time rather than with count:
/// samples a second old weigh 1/e of a new one, so a node that slows down shows it quickly.
/// Unrefreshed for `stale`, it is unknown again (0): a node avoided for being slow is tried
/// again soon, and seen to have recovered.
struct LatencyAverage {
    static let memory = 1.0
    static let stale = 2.0
    private var seconds = 0.0
    private var at: ContinuousClock.Instant?

    mutating func add(_ took: Duration, at now: ContinuousClock.Instant) {
        let current = value(at: now), keep = current == 0 ? 0 : exp(-Self.elapsed(since: at, now) / Self.memory)
        seconds = current * keep + Self.seconds(took) * (1 - keep)
        at = now
    }

    func value(at now: ContinuousClock.Instant) -> Double {
        at == nil || Self.elapsed(since: at, now) > Self.stale ? 0 : seconds
    }

    private static func elapsed(since at: ContinuousClock.Instant?, _ now: ContinuousClock.Instant) -> Double {
        at.map { seconds(now - $0) } ?? 0
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
