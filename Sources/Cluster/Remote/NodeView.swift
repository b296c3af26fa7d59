import Foundation
import Logging
import Synchronization

/// The live nodes as a gateway sees them: listed once, then kept current by a watch
/// on their records (a node whose lease ends drops out with its record). An
/// invocation reads this, never etcd.
public final class NodeView: Sendable {
    let etcd: EtcdClient
    let logger: Logger
    private let nodes = Mutex<[String: NodeRecord]>([:])
    private let follower = Mutex<Task<Void, Never>?>(nil)

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

    public func stop() {
        follower.withLock { $0?.cancel() }
    }

    func apply(_ events: [EtcdEvent]) {
        nodes.withLock { nodes in
            for event in events {
                let name = String(event.key.dropFirst(ClusterKeys.nodes.count))
                switch event {
                case .put(let kv): nodes[name] = try? NodeMembership.decode(kv.value)
                case .delete: nodes[name] = nil
                }
            }
        }
    }
}
