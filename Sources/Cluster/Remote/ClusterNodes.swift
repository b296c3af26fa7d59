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
    let imageSources: @Sendable (String) -> [String]
    private let inFlight = Mutex<[String: Int]>([:])
    /// Where each function ran lately, and until when its instances may be warm.
    private let warm = Mutex<[String: [String: ContinuousClock.Instant]]>([:])
    let caps = Mutex<[String: (bytes: UInt64?, uncapped: Bool)]>([:])
    /// Nodes that just failed to answer, and until when they get no new request (while others can take it).
    private let suspects = Mutex<[String: ContinuousClock.Instant]>([:])
    static let suspicion = Duration.seconds(10)
    /// Requests in flight per node, to end at once when the node leaves the cluster (a frozen
    /// node would otherwise hold them to their deadline).
    private let running = Mutex<[String: [UInt64: NodeConnections.Call]]>([:])
    let connections = NodeConnections()
    private let placementCounters = Mutex<[Placement.Reason: Counter]>([:])
    /// Nodes' addresses, parsed.
    let endpoints = Mutex<[String: (host: String, port: Int)]>([:])
    /// The deployment header, encoded once per deployment and cap.
    let encodedDeployments = Mutex<[String: (deployment: Deployment, bytes: UInt64?, uncapped: Bool, header: String)]>([:])
    private let requestIDs = Atomic<UInt64>(0)
    let policy: Placement.Policy
    /// Requests placed so far, for round robin.
    private let turns = Atomic<Int>(0)
    private let cards = CardView()
    /// Per node, how much of their CPU its instances got lately.
    private let slowdowns = Mutex<[String: NodeSlowdown]>([:])

    public init(view: NodeView, token: String, policy: Placement.Policy = Placement.Policy(), logger: Logger,
                imageSources: @escaping @Sendable (String) -> [String]) {
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
        slowdowns.withLock { _ = $0.removeValue(forKey: node) }
        for task in running.withLock({ $0.removeValue(forKey: node) ?? [:] }).values { task.cancel() }
        cards.forget(node)
    }
    public func shutdown() async { view.stop() }
    public func expect(_ deployment: Deployment) {}

    public func invoke(_ deployment: Deployment, _ invocation: Invocation) async throws(SchedulingError) -> InvocationOutcome {
        try await invoke(deployment, invocation, skipping: [])
    }

    private func invoke(_ deployment: Deployment, _ invocation: Invocation, skipping: Set<String>) async throws(SchedulingError) -> InvocationOutcome {
        var skipped = skipping
        while true {
            let sent = try send(deployment, invocation, skipping: skipped)
            let answer: Result<NodeConnections.Answer, any Error>
            do { answer = .success(try await sent.call.answer.get()) } catch { answer = .failure(error) }
            switch try conclude(sent, answer, deployment) {
            case .answered(let outcome):
                return outcome
            case .undelivered(let node, let reason):
                try retry(node, reason, midway: false, deployment, skipped: &skipped)
            case .lostMidway(let node, let reason):
                try retry(node, reason, midway: true, deployment, skipped: &skipped)
            }
        }
    }

    /// Lets a request that did not come back answered go to another node, or throws. One that
    /// never reached its node runs nowhere yet: it may. One lost on its way (its node died or
    /// left the cluster while it ran) may have run there: only if the function says it is
    /// idempotent.
    private func retry(_ node: String, _ reason: String, midway: Bool, _ deployment: Deployment,
                       skipped: inout Set<String>) throws(SchedulingError) {
        guard !midway || deployment.config.idempotent == true else { throw .unreachable(node: node, reason: reason) }
        skipped.insert(node)
        guard skipped.count < Self.deliveryAttempts else { throw .unreachable(node: node, reason: reason) }
        logger.info(midway ? "node lost mid-request; the function is idempotent: running it on another node"
                           : "request not delivered; sending it to another node",
                    metadata: ["node": "\(node)", "function": "\(deployment.name)", "reason": "\(reason)"])
    }

    /// The gateway's event-loop lane: placed and sent from the loop, answered on it, with no
    /// task on the way. False off an event loop, or when no node can take it now (then
    /// `invoke` says why).
    public func invokeWarm(_ deployment: Deployment, _ invocation: () -> Invocation?,
                           completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) -> Bool {
        guard MultiThreadedEventLoopGroup.currentEventLoop != nil, let invocation = invocation(),
              let sent = try? send(deployment, invocation, skipping: []) else { return false }
        sent.call.answer.whenComplete { answer in
            let attempt: Attempt
            do throws(SchedulingError) { attempt = try self.conclude(sent, answer, deployment) } catch { return completion(.failure(error)) }
            var skipped: Set<String> = []
            do throws(SchedulingError) {
                switch attempt {
                case .answered(let outcome): return completion(.success(outcome))
                case .undelivered(let node, let reason): try self.retry(node, reason, midway: false, deployment, skipped: &skipped)
                case .lostMidway(let node, let reason): try self.retry(node, reason, midway: true, deployment, skipped: &skipped)
                }
            } catch { return completion(.failure(error)) }
            Task { [skipped] in
                do throws(SchedulingError) { completion(.success(try await self.invoke(deployment, invocation, skipping: skipped))) } catch {
                    completion(.failure(error))
                }
            }
        }
        return true
    }

    /// Nodes tried for one request that does not come back answered.
    static let deliveryAttempts = 3

    enum Attempt {
        case answered(InvocationOutcome)
        /// Its connection failed before anything was sent.
        case undelivered(node: String, reason: String)
        /// Its node closed the connection or left the cluster before it answered.
        case lostMidway(node: String, reason: String)
    }

    /// A request placed on a node and sent there.
    struct Sent {
        var node: NodeRecord
        /// The card this cold start expects to take, in the gateway's view of the node's cards.
        var card: UInt64?
        var at: ContinuousClock.Instant
        var call: NodeConnections.Call
        var id: UInt64
    }

    /// Places the request and sends it.
    private func send(_ deployment: Deployment, _ invocation: Invocation, skipping: Set<String>) throws(SchedulingError) -> Sent {
        let now = ContinuousClock.now
        let recent = warm.withLock { $0[deployment.name] ?? [:] }.filter { $0.value > now }
        let suspected = suspects.withLock { s in s = s.filter { $0.value > now }; return Set(s.keys) }
        let live = view.alive.filter { $0.version == ClusterProtocol.version && !skipping.contains($0.name) }
        let trusted = live.filter { !suspected.contains($0.name) }
        let slowdown = slowdowns.withLock { $0 }
        let candidates = (trusted.isEmpty ? live : trusted).map { record in
            Placement.Candidate(record: cards.current(record), inFlight: inFlight.withLock { $0[record.name] ?? 0 },
                                warm: recent[record.name] != nil, slowdown: slowdown[record.name]?.value(at: now) ?? 0)
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
        placementCounter(reason).increment()
        logger.debug("placed", metadata: ["function": "\(deployment.name)", "node": "\(node)", "reason": "\(reason.rawValue)"])
        let card = reason != .warm && deployment.config.accelerator == .fpga ? cards.place(deployment, on: node) : nil
        let call: NodeConnections.Call
        do { call = try request(deployment, invocation, to: record) } catch {
            if let card { cards.finished(card, on: node, instanceEnded: true) }
            throw error
        }
        inFlight.withLock { $0[node, default: 0] += 1 }
        let id = requestIDs.add(1, ordering: .relaxed).newValue
        running.withLock { $0[node, default: [:]][id] = call }
        return Sent(node: record, card: card, at: now, call: call, id: id)
    }

    /// What the node's answer means, and what it teaches the balancer and the card view.
    private func conclude(_ sent: Sent, _ answer: Result<NodeConnections.Answer, any Error>,
                          _ deployment: Deployment) throws(SchedulingError) -> Attempt {
        let node = sent.node.name
        inFlight.withLock { $0[node, default: 1] -= 1 }
        running.withLock { _ = $0[node]?.removeValue(forKey: sent.id) }
        let attempt: Attempt
        do { attempt = try interpret(answer, from: sent.node) } catch {
            if let card = sent.card { cards.finished(card, on: node, instanceEnded: true) }
            if case .unreachable = error { suspect(node, of: deployment) }
            throw error
        }
        guard case .answered(let outcome) = attempt else {
            if let card = sent.card { cards.finished(card, on: node, instanceEnded: true) }
            suspect(node, of: deployment)
            return attempt
        }
        suspects.withLock { _ = $0.removeValue(forKey: node) }
        // The instance's own wall and CPU time: how shared the node's CPU is, whatever the request's length.
        let done = ContinuousClock.now
        if outcome.result.cpuNanoseconds > 0, outcome.result.nanoseconds > 0 {
            slowdowns.withLock {
                $0[node, default: NodeSlowdown()].add(wall: outcome.result.nanoseconds, cpu: outcome.result.cpuNanoseconds, at: done)
            }
        }
        // With no keep-alive the node stops the instance, and frees its card, right after the answer.
        if let card = sent.card {
            cards.finished(card, on: node, instanceEnded: outcome.result.instanceEnded || deployment.limits.keepAliveSeconds <= 0)
        }
        let keep = done + .seconds(max(deployment.limits.keepAliveSeconds, 0))
        warm.withLock { $0[deployment.name, default: [:]][node] = outcome.result.instanceEnded ? nil : keep }
        return attempt
    }

    /// Made on first use (after the gateway has set up its metrics), then kept: making one costs a lookup under a lock.
    private func placementCounter(_ reason: Placement.Reason) -> Counter {
        placementCounters.withLock { made in
            if let counter = made[reason] { return counter }
            let counter = Counter(label: "kumo_placements_total", dimensions: [("reason", reason.rawValue)])
            made[reason] = counter
            return counter
        }
    }

    /// Not sent there again while other nodes can take it, until it answers again or leaves.
    private func suspect(_ node: String, of deployment: Deployment) {
        warm.withLock { $0[deployment.name]?[node] = nil }
        suspects.withLock { $0[node] = .now + Self.suspicion }
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
        await fromEachNode("/instances/" + function, as: [NodeScheduler.InstanceInfo].self).flatMap { node, list in
            list.map { var info = $0; info.id = node + "/" + info.id; return info }
        }
    }

    public func allInstances() async -> [String: [NodeScheduler.InstanceInfo]] {
        var all: [String: [NodeScheduler.InstanceInfo]] = [:]
        for (node, byFunction) in await fromEachNode("/instances", as: [String: [NodeScheduler.InstanceInfo]].self) {
            for (function, list) in byFunction {
                all[function, default: []] += list.map { var info = $0; info.id = node + "/" + info.id; return info }
            }
        }
        return all
    }

    public func scaling(of function: String) async -> [ScalingStatus] {
        await fromEachNode("/scaling/" + function, as: [ScalingStatus].self).flatMap(\.1)
    }

    /// One GET of the internal API on every live node; a node that does not answer is left out.
    private func fromEachNode<T: Decodable>(_ path: String, as type: T.Type) async -> [(String, T)] {
        var all: [(String, T)] = []
        for node in view.alive {
            var request = HTTPClientRequest(url: node.address + RemoteWire.prefix + path)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            guard let response = try? await ClusterHTTP.client.execute(request, timeout: .seconds(5)), response.status == .ok,
                  let body = try? await response.body.collect(upTo: 16 << 20),
                  let value = try? JSONDecoder().decode(T.self, from: Data(body.readableBytesView)) else { continue }
            all.append((node.name, value))
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
