import Foundation

/// The secret every gateway and node sends on the internal API. The first member to
/// start makes it and keeps it in etcd (whoever can read etcd controls the cluster anyway).
public enum ClusterToken {
    static let key = "/kumo/cluster-token"

    /// The cluster's token, made now if no member made one yet.
    public static func ensure(_ etcd: EtcdClient) async throws(EtcdError) -> String {
        let made = Hex.random(bytes: 32)
        let result = try await etcd.transaction(if: [.absent(key)], then: [.put(key, Array(made.utf8))], else: [.get(key)])
        if result.succeeded { return made }
        guard let existing = result.reads.first?.first, !existing.value.isEmpty else {
            throw .malformed("the cluster token at \(key) is empty")
        }
        return String(decoding: existing.value, as: UTF8.self)
    }

    /// Whether an Authorization header carries `token` (compared in constant time).
    public static func accepts(_ authorization: String?, token: String) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let given = Array(authorization.utf8.dropFirst(7)), wanted = Array(token.utf8)
        guard given.count == wanted.count else { return false }
        return zip(given, wanted).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
