import Foundation
import Logging

/// A node's membership in the cluster: registered under an etcd lease, kept alive,
/// its record published at a bounded rate. When the lease is lost (the node froze
/// or was cut off past its TTL) the node must drop what it runs before it registers
/// again: another node may have taken its work and its cards meanwhile.
public final class NodeMembership: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case nameTaken(String, since: Date)
        case etcd(EtcdError)

        public var description: String {
            switch self {
            case .nameTaken(let name, let since):
                return "a node named \(name) is alive (registered \(since.formatted(.iso8601))); pick another --name or stop that node"
            case .etcd(let error): return "\(error)"
            }
        }
    }

    let etcd: EtcdClient
    let name: String
    let ttlSeconds: Int64
    let publishEvery: Duration
    let logger: Logger
    /// The node's record as of now (the lease and dates are filled in here).
    let snapshot: @Sendable () async -> NodeRecord

    public init(etcd: EtcdClient, name: String, ttlSeconds: Int64, publishEvery: Duration = .seconds(1), logger: Logger,
                snapshot: @escaping @Sendable () async -> NodeRecord) {
        self.etcd = etcd
        self.name = name
        self.ttlSeconds = ttlSeconds
        self.publishEvery = publishEvery
        self.logger = logger
        self.snapshot = snapshot
    }

    /// Registers under a new lease; refused while a node of this name is alive.
    public func register() async throws(Failure) -> Registration {
        do {
            let lease = try await etcd.grantLease(ttlSeconds: ttlSeconds)
            let now = Date()
            var record = await snapshot()
            record.lease = lease.id
            record.registered = now
            record.published = now
            let bytes = try Self.encode(record)
            let key = ClusterKeys.node(name)
            let result = try await etcd.transaction(
                if: [.absent(key)],
                then: [.put(key, bytes, lease: lease.id), .put(ClusterKeys.nodeName(name), Array(name.utf8))],
                else: [.get(key)])
            guard result.succeeded else {
                try? await etcd.revoke(lease.id)
                let alive = result.reads.first?.first.flatMap { try? Self.decode($0.value) }
                throw Failure.nameTaken(name, since: alive?.registered ?? now)
            }
            logger.info("registered", metadata: ["node": "\(name)", "lease": "\(lease.id)", "ttl": "\(ttlSeconds)s"])
            return Registration(lease: lease.id, registered: now)
        } catch let failure as Failure {
            throw failure
        } catch let error as EtcdError {
            throw .etcd(error)
        } catch {
            throw .etcd(.malformed("\(error)"))
        }
    }

    public struct Registration: Sendable {
        public var lease: Int64
        public var registered: Date
    }

    /// Keeps `registration` alive (heartbeats from a thread of their own: `LeaseKeeper`)
    /// and publishes the record, at most every `publishEvery`, until the lease is lost
    /// (returns) or the task is cancelled (revokes the lease: the node leaves at once).
    public func keep(_ registration: Registration) async {
        let keeper = LeaseKeeper(endpoints: etcd.endpoints, lease: registration.lease, ttlSeconds: ttlSeconds, logger: logger)
        keeper.start()
        defer { keeper.stop() }
        var lastPublished: NodeRecord?
        while !Task.isCancelled {
            guard keeper.current == .keeping else {
                logger.warning("lease lost", metadata: ["node": "\(name)", "lease": "\(registration.lease)"])
                return
            }
            var record = await snapshot()
            record.lease = registration.lease
            record.registered = registration.registered
            record.published = lastPublished?.published ?? registration.registered
            record.heartbeatDelays = HeartbeatDelays(keeper.heartbeatDelays)
            if record != lastPublished {
                record.published = Date()
                do {
                    try await etcd.put(ClusterKeys.node(name), try Self.encode(record), lease: registration.lease)
                    lastPublished = record
                } catch {
                    logger.warning("cannot publish the node's record: \(error)", metadata: ["node": "\(name)"])
                }
            }
            try? await Task.sleep(for: publishEvery)
        }
        keeper.stop()
        try? await etcd.revoke(registration.lease)
    }

    static func encode(_ record: NodeRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(record))
    }

    public static func decode(_ bytes: [UInt8]) throws -> NodeRecord {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(NodeRecord.self, from: Data(bytes))
    }
}
