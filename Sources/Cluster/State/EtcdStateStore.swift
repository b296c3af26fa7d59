import Foundation

/// The cluster's state in etcd, shared by every gateway. Each record is a JSON
/// value under `/kumo/state/`; decisions (a name's owner, a tenant's pending-call
/// cap, a token's tenant) are etcd transactions that compare what was read, so two
/// gateways racing never both win.
public final class EtcdStateStore: StateStore {
    let etcd: EtcdClient
    /// The gateway using it: the async calls it accepts are its to run until it leaves the cluster.
    let gateway: String

    /// Where functions' records are: gateways follow them.
    public static let functionsPrefix = Key.functions

    public init(etcd: EtcdClient, gateway: String) {
        self.etcd = etcd
        self.gateway = gateway
    }

    enum Key {
        static let root = "/kumo/state/"
        static let tenants = root + "tenants/"
        static let tokens = root + "tokens/"
        static let functions = root + "functions/"
        static let calls = root + "calls/"
        static let pending = root + "pending/"
        static let grants = root + "grants/"
        static let logs = root + "logs/"
        /// learned/FUNCTION/NODE: removing a function removes every node's.
        static let learned = root + "learned/"

        /// A key that sorts in time order and never collides: nanoseconds, then a random tail.
        static func sequence() -> String {
            let nanos = UInt64(Date().timeIntervalSince1970 * 1e9)
            return String(repeating: "0", count: max(0, 20 - String(nanos).count)) + "\(nanos)-\(UInt32.random(in: 0...UInt32.max))"
        }
    }

    /// Attempts at a compare-and-swap before giving up (each loses only to another writer's success).
    static let attempts = 32

    static func contention(_ what: String) -> EtcdError {
        .refused(code: 10, message: "\(what) kept changing under concurrent writers; retry")
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] { Array(try JSONEncoder().encode(value)) }
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T { try JSONDecoder().decode(type, from: Data(bytes)) }

    // MARK: tenants

    public func tenant(tokenHash: String) async throws -> TenantRecord? {
        guard let name = try await etcd.get(Key.tokens + tokenHash) else { return nil }
        guard let kv = try await etcd.get(Key.tenants + String(decoding: name.value, as: UTF8.self)) else { return nil }
        return try Self.decode(TenantRecord.self, kv.value)
    }

    public func tenants() async throws -> [TenantRecord] {
        try await etcd.range(prefix: Key.tenants).values.map { try Self.decode(TenantRecord.self, $0.value) }
    }

    public func hasAdmin() async throws -> Bool {
        try await tenants().contains { $0.admin }
    }

    public func insert(_ tenant: TenantRecord) async throws -> Bool {
        let key = Key.tenants + tenant.name, token = Key.tokens + tenant.tokenHash
        return try await etcd.transaction(if: [.absent(key), .absent(token)],
                                          then: [.put(key, try Self.encode(tenant)), .put(token, Array(tenant.name.utf8))]).succeeded
    }

    // MARK: functions

    public func function(_ name: String) async throws -> FunctionRecord? {
        try await etcd.get(Key.functions + name).map { try Self.decode(FunctionRecord.self, $0.value) }
    }

    public func functions(tenant: String?) async throws -> [FunctionRecord] {
        let all = try await etcd.range(prefix: Key.functions).values.map { try Self.decode(FunctionRecord.self, $0.value) }
        return tenant.map { owner in all.filter { $0.tenant == owner } } ?? all
    }

    public func deploy(_ function: FunctionRecord, by deployer: TenantRecord) async throws -> (record: FunctionRecord, created: Bool) {
        let key = Key.functions + function.name
        for _ in 0..<Self.attempts {
            var record = function
            let existing = try await etcd.get(key)
            if let existing {
                let current = try Self.decode(FunctionRecord.self, existing.value)
                guard current.tenant == deployer.name || deployer.admin else { throw DeployRefusal.ownedByAnotherTenant }
                record.tenant = current.tenant
                record.created = current.created
            } else {
                record.tenant = deployer.name
            }
            // Written only if nobody changed the name since it was read: the owner decided above still holds.
            let unchanged: EtcdCondition = existing.map { EtcdCondition(key, .modRevision($0.modRevision)) } ?? .absent(key)
            if try await etcd.transaction(if: [unchanged], then: [.put(key, try Self.encode(record))]).succeeded {
                return (record, existing == nil)
            }
        }
        throw Self.contention("function \(function.name)")
    }

    public func deleteFunction(_ name: String) async throws {
        try await etcd.delete(Key.functions + name)
        try await etcd.delete(prefix: Key.learned + name + "/")
    }

    // MARK: learned keep-alives

    public func learnedKeepAlives(node: String) async throws -> [String: String] {
        var found: [String: String] = [:]
        for kv in try await etcd.range(prefix: Key.learned).values {
            let parts = kv.key.dropFirst(Key.learned.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2, parts[1] == node else { continue }
            found[String(parts[0])] = String(decoding: kv.value, as: UTF8.self)
        }
        return found
    }

    public func saveLearnedKeepAlive(node: String, function: String, json: String) async throws {
        // Only while the function exists: a save racing its removal leaves nothing behind.
        _ = try await etcd.transaction(if: [EtcdCondition(Key.functions + function, .version(0), .greater)],
                                       then: [.put(Key.learned + function + "/" + node, Array(json.utf8))])
    }

    public func imagesInUse() async throws -> Set<String> {
        Set(try await functions(tenant: nil).map(\.image))
    }

    // MARK: the grant record and logs

    public func record(_ grant: GrantRecord) async throws {
        try await etcd.put(Key.grants + Key.sequence(), try Self.encode(grant))
    }

    public func grants(tenant: String?, limit: Int) async throws -> [GrantRecord] {
        // One tenant's: filtered before the limit, so others' many grants cannot hide them.
        let newest = try await etcd.range(prefix: Key.grants, limit: tenant == nil ? limit : 0, descending: true)
        var found: [GrantRecord] = []
        for kv in newest.values where found.count < limit {
            var grant = try Self.decode(GrantRecord.self, kv.value)
            guard tenant == nil || grant.tenant == tenant else { continue }
            grant.id = kv.createRevision
            found.append(grant)
        }
        return found
    }

    /// Lines are kept in batches, one key per function per write: a line's id is the
    /// batch's creation revision (increasing across every gateway) times `linesPerBatch`
    /// plus its place in the batch.
    static let linesPerBatch = 10_000

    public func append(_ logs: [LogRecord]) async throws {
        var remaining = Dictionary(grouping: logs, by: \.function)
        while !remaining.isEmpty {
            var writes: [EtcdOperation] = []
            // One key per function per transaction (ids stay unique); etcd takes at most 128 operations in one.
            for function in remaining.keys.sorted().prefix(100) {
                let lines = remaining[function] ?? []
                writes.append(.put(Key.logs + function + "/" + Key.sequence(), try Self.encode(Array(lines.prefix(Self.linesPerBatch)))))
                remaining[function] = lines.count > Self.linesPerBatch ? Array(lines.dropFirst(Self.linesPerBatch)) : nil
            }
            _ = try await etcd.transaction(if: [], then: writes)
        }
    }

    public func logs(function: String, after: Int64, limit: Int) async throws -> [LogRecord] {
        let batches = try await etcd.range(prefix: Key.logs + function + "/", createdFrom: after / Int64(Self.linesPerBatch))
        var found: [LogRecord] = []
        for kv in batches.values.sorted(by: { $0.createRevision < $1.createRevision }) {
            for (index, var line) in try Self.decode([LogRecord].self, kv.value).enumerated() {
                line.id = kv.createRevision * Int64(Self.linesPerBatch) + Int64(index)
                guard let id = line.id, id > after else { continue }
                found.append(line)
                if found.count == limit { return found }
            }
        }
        return found
    }

    /// Keeps at least the newest `keep` lines per function (whole batches go).
    public func pruneLogs(keep: Int) async throws {
        let batches = try await etcd.range(prefix: Key.logs).values
        let byFunction = Dictionary(grouping: batches) { $0.key.dropFirst(Key.logs.count).split(separator: "/").first ?? "" }
        for (_, list) in byFunction {
            var kept = 0
            for kv in list.sorted(by: { $0.createRevision > $1.createRevision }) {
                if kept >= keep {
                    try await etcd.delete(kv.key)
                } else {
                    kept += (try? Self.decode([LogRecord].self, kv.value).count) ?? 0
                }
            }
        }
    }
}
