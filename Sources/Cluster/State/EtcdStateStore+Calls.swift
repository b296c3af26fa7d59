import Foundation

/// Async calls in etcd: each with the tenant it counts against, and per tenant a
/// counter of calls not finished, changed in the same transaction as the call.
extension EtcdStateStore {
    struct StoredCall: Codable {
        var tenant: String
        var call: CallRecord
        /// The gateway that runs it: the one that accepted it, or one that took it over.
        var owner: String?
    }

    static func pendingCount(_ kv: EtcdKeyValue?) -> Int {
        kv.flatMap { Int(String(decoding: $0.value, as: UTF8.self)) } ?? 0
    }

    public func insert(_ call: CallRecord, tenant: String, pendingBelow limit: Int) async throws -> Bool {
        let key = Key.calls + call.id, counterKey = Key.pending + tenant
        let stored = try Self.encode(StoredCall(tenant: tenant, call: call, owner: gateway))
        for _ in 0..<Self.attempts {
            let counter = try await etcd.get(counterKey)
            let count = Self.pendingCount(counter)
            guard count < limit else { return false }
            let unchanged: EtcdCondition = counter.map { EtcdCondition(counterKey, .modRevision($0.modRevision)) } ?? .absent(counterKey)
            let result = try await etcd.transaction(if: [unchanged, .absent(key)],
                                                    then: [.put(counterKey, Array("\(count + 1)".utf8)), .put(key, stored)])
            if result.succeeded { return true }
        }
        throw Self.contention("the pending calls of \(tenant)")
    }

    public func call(_ id: String) async throws -> CallRecord? {
        try await etcd.get(Key.calls + id).map { try Self.decode(StoredCall.self, $0.value).call }
    }

    public func update(_ call: CallRecord) async throws {
        let key = Key.calls + call.id
        for _ in 0..<Self.attempts {
            guard let existing = try await etcd.get(key) else {
                throw EtcdError.refused(code: EtcdError.notFound, message: "no async call \(call.id)")
            }
            var stored = try Self.decode(StoredCall.self, existing.value)
            let finishing = stored.call.state != .done && call.state == .done
            stored.call = call
            var conditions = [EtcdCondition(key, .modRevision(existing.modRevision))]
            var writes = [EtcdOperation.put(key, try Self.encode(stored))]
            if finishing {
                let counterKey = Key.pending + stored.tenant
                let counter = try await etcd.get(counterKey)
                conditions.append(counter.map { EtcdCondition(counterKey, .modRevision($0.modRevision)) } ?? .absent(counterKey))
                writes.append(.put(counterKey, Array("\(max(Self.pendingCount(counter) - 1, 0))".utf8)))
            }
            if try await etcd.transaction(if: conditions, then: writes).succeeded { return }
        }
        throw Self.contention("async call \(call.id)")
    }

    public func pendingCalls(tenant: String) async throws -> Int {
        Self.pendingCount(try await etcd.get(Key.pending + tenant))
    }

    public func pruneCalls(finishedBefore before: Date, maxBytes: Int) async throws -> Int {
        let done = try await etcd.range(prefix: Key.calls).values
            .compactMap { kv -> (key: String, call: CallRecord)? in
                guard let stored = try? Self.decode(StoredCall.self, kv.value), stored.call.state == .done else { return nil }
                return (kv.key, stored.call)
            }
            .sorted { ($0.call.finished ?? .distantPast) > ($1.call.finished ?? .distantPast) }
        var kept = 0, removed = 0
        for (key, call) in done {
            kept += call.body.count + (call.response?.count ?? 0)
            guard (call.finished ?? .distantPast) < before || kept > maxBytes else { continue }
            removed += Int(try await etcd.delete(key))
        }
        return removed
    }

    /// Calls accepted but not finished that are this gateway's to run, oldest first: those it
    /// accepted, and those of gateways no longer in the cluster, taken over in a transaction (one
    /// gateway wins each). A call its gateway was running when it died runs again: async calls
    /// are at least once.
    public func unfinishedCalls() async throws -> [CallRecord] {
        let alive = Set(try await etcd.range(prefix: ClusterKeys.gateways, keysOnly: true).values
            .map { String($0.key.dropFirst(ClusterKeys.gateways.count)) })
        var mine: [CallRecord] = []
        for kv in try await etcd.range(prefix: Key.calls).values {
            guard var stored = try? Self.decode(StoredCall.self, kv.value), stored.call.state != .done else { continue }
            if let owner = stored.owner, owner != gateway, alive.contains(owner) { continue }
            if stored.owner != gateway || stored.call.state == .running {
                stored.owner = gateway
                stored.call.state = .queued
                let taken = try await etcd.transaction(if: [EtcdCondition(kv.key, .modRevision(kv.modRevision))],
                                                       then: [.put(kv.key, try Self.encode(stored))])
                guard taken.succeeded else { continue }  // another gateway took it first
            }
            mine.append(stored.call)
        }
        return mine.sorted { $0.created < $1.created }
    }
}
