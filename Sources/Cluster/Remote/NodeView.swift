import Foundation
import Logging
import Metrics
import Synchronization

/// The live nodes as a gateway sees them: listed once, then kept current by a watch
/// on their records (a node whose lease ends drops out with its record). An
/// invocation reads this, never etcd.
public final class NodeView: Sendable {
    let etcd: EtcdClient
    let logger: Logger
    private let nodes = Mutex<[String: NodeRecord]>([:])
    private let follower = Mutex<Task<Void, Never>?>(nil)
    private let leaveHandler = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Called with a node's name when its record goes (its lease ended, or it left).
    public var onLeave: (@Sendable (String) -> Void)? {
        get { leaveHandler.withLock { $0 } }
        set { leaveHandler.withLock { $0 = newValue } }
    }

    public init(etcd: EtcdClient, logger: Logger) {
        self.etcd = etcd
        self.logger = logger
    }

    public var alive: [NodeRecord] { nodes.withLock { Array($0.values) }.sorted { $0.name < $1.name } }
    public func node(_ name: String) -> NodeRecord? { nodes.withLock { $0[name] } }

    /// Lists the nodes, then follows changes until `stop`.
    public func start() async {
        let task = Task {
            while !Task.isCancelled {
                do {
                    let listed = try await etcd.range(prefix: ClusterKeys.nodes)
                    let records = listed.values.compactMap { try? NodeMembership.decode($0.value) }
                    nodes.withLock { $0 = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { $1 }) }
                    publishMetrics()
                    for try await events in etcd.watch(prefix: ClusterKeys.nodes, from: listed.revision + 1) {
                        apply(events)
                    }
                } catch {
                    // Compacted past our revision, or etcd gone for a while: list again.
                    logger.warning("following the nodes: \(error); listing again")
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
        }
        follower.withLock { $0 = task }
    }

    /// Per-node series: alive (1, or 0 once gone), instances, free cards, reconfigurations so far.
    private func publishMetrics() {
        let alive = nodes.withLock { Array($0.values) }
        let names = Set(alive.map(\.name))
        for name in seen.withLock({ seen in defer { seen.formUnion(names) }; return seen.subtracting(names) }) {
            Gauge(label: "kumo_node_alive", dimensions: [("node", name)]).record(0)
        }
        for node in alive {
            let dimensions = [("node", node.name)]
            Gauge(label: "kumo_node_alive", dimensions: dimensions).record(1)
            Gauge(label: "kumo_node_instances", dimensions: dimensions).record(node.capacity.instances)
            Gauge(label: "kumo_node_fpgas_free", dimensions: dimensions).record(node.capacity.fpgasFree)
            Gauge(label: "kumo_node_reconfigurations", dimensions: dimensions).record(node.cards.reduce(0) { $0 + $1.reconfigurations })
        }
    }

    /// Every node seen so far (a gone one's series reads 0).
    private let seen = Mutex<Set<String>>([])

    public func stop() {
        follower.withLock { $0?.cancel() }
    }

    func apply(_ events: [EtcdEvent]) {
        defer { publishMetrics() }
        let left = nodes.withLock { nodes -> [String] in
            var left: [String] = []
            for event in events {
                let name = String(event.key.dropFirst(ClusterKeys.nodes.count))
                switch event {
                case .put(let kv): nodes[name] = try? NodeMembership.decode(kv.value)
                case .delete:
                    nodes[name] = nil
                    left.append(name)
                }
            }
            return left
        }
        if let handler = onLeave { left.forEach(handler) }
    }
}
