import Foundation

/// The cluster's nodes as etcd holds them now: each name that ever registered,
/// alive (its record is under its lease) or lost (the record went with the lease).
public struct NodeStatus: Codable, Sendable {
    public enum State: String, Codable, Sendable { case alive, lost }
    public var name: String
    public var state: State
    /// The node's latest record; nil for a lost node.
    public var record: NodeRecord?

    /// Reads every node's status.
    public static func list(_ etcd: EtcdClient) async throws(EtcdError) -> [NodeStatus] {
        let names = try await etcd.range(prefix: ClusterKeys.nodeNames)
        let records = try await etcd.range(prefix: ClusterKeys.nodes)
        var alive: [String: NodeRecord] = [:]
        for kv in records.values {
            guard let record = try? NodeMembership.decode(kv.value) else { continue }  // not a node's record: skipped
            alive[String(kv.key.dropFirst(ClusterKeys.nodes.count))] = record
        }
        let all = Set(names.values.map { String($0.key.dropFirst(ClusterKeys.nodeNames.count)) }).union(alive.keys)
        return all.sorted().map { name in
            NodeStatus(name: name, state: alive[name] == nil ? .lost : .alive, record: alive[name])
        }
    }
}
