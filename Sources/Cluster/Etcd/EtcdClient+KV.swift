import Foundation

extension EtcdClient {
    /// One key, or nil when it does not exist.
    public func get(_ key: String) async throws(EtcdError) -> EtcdKeyValue? {
        let response = try await call("/v3/kv/range", EtcdWire.RangeRequest(key: Data(key.utf8)), as: EtcdWire.RangeResponse.self)
        return response.kvs?.first.map(\.record)
    }

    /// Every key that starts with `prefix`, in key order (`descending`: last key first),
    /// `limit` at most (0: no limit), created at `createdFrom` or later, as of `revision` (nil: the latest);
    /// `keysOnly`: the values are left out (empty).
    public func range(prefix: String, limit: Int = 0, descending: Bool = false, createdFrom: Int64? = nil,
                      keysOnly: Bool = false, revision: Int64? = nil) async throws(EtcdError) -> EtcdRange {
        let request = EtcdWire.RangeRequest(key: Data(prefix.utf8), range_end: Self.rangeEnd(ofPrefix: prefix),
                                            limit: limit > 0 ? .init(Int64(limit)) : nil, revision: revision.map { .init($0) },
                                            keys_only: keysOnly ? true : nil, sort_order: descending ? "DESCEND" : nil, sort_target: descending ? "KEY" : nil,
                                            min_create_revision: createdFrom.map { .init($0) })
        let response = try await call("/v3/kv/range", request, as: EtcdWire.RangeResponse.self)
        return EtcdRange(values: (response.kvs ?? []).map(\.record), revision: response.header?.revision?.value ?? 0,
                         more: response.more ?? false)
    }

    /// Writes `value` at `key` (attached to `lease` unless 0); returns the store's new revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) async throws(EtcdError) -> Int64 {
        let request = EtcdWire.PutRequest(key: Data(key.utf8), value: Data(value), lease: lease != 0 ? .init(lease) : nil)
        // A put sent twice leaves the same value: safe to retry elsewhere.
        let response = try await call("/v3/kv/put", request, as: EtcdWire.PutResponse.self)
        return response.header?.revision?.value ?? 0
    }

    /// Deletes one key; returns how many keys went (0 or 1).
    @discardableResult
    public func delete(_ key: String) async throws(EtcdError) -> Int64 {
        let response = try await call("/v3/kv/deleterange", EtcdWire.DeleteRequest(key: Data(key.utf8)),
                                      as: EtcdWire.DeleteResponse.self)
        return response.deleted?.value ?? 0
    }

    /// Deletes every key that starts with `prefix`; returns how many went.
    @discardableResult
    public func delete(prefix: String) async throws(EtcdError) -> Int64 {
        let request = EtcdWire.DeleteRequest(key: Data(prefix.utf8), range_end: Self.rangeEnd(ofPrefix: prefix))
        let response = try await call("/v3/kv/deleterange", request, as: EtcdWire.DeleteResponse.self)
        return response.deleted?.value ?? 0
    }

    /// Runs `success` if every condition holds, else `failure`, atomically.
    /// Not sent again to another member once it may have reached one: its outcome would be ambiguous.
    public func transaction(if conditions: [EtcdCondition], then success: [EtcdOperation],
                            else failure: [EtcdOperation] = []) async throws(EtcdError) -> EtcdTransactionResult {
        let request = EtcdWire.TxnRequest(compare: conditions.map(Self.wire), success: success.map(Self.wire),
                                          failure: failure.map(Self.wire))
        let response = try await call("/v3/kv/txn", request, as: EtcdWire.TxnResponse.self, idempotent: false)
        let reads = (response.responses ?? []).map { ($0.response_range?.kvs ?? []).map(\.record) }
        return EtcdTransactionResult(succeeded: response.succeeded ?? false, revision: response.header?.revision?.value ?? 0,
                                     reads: reads)
    }

    static func wire(_ condition: EtcdCondition) -> EtcdWire.Compare {
        var compare = EtcdWire.Compare(key: Data(condition.key.utf8), target: "", result: condition.comparison.rawValue)
        switch condition.target {
        case .version(let v): compare.target = "VERSION"; compare.version = .init(v)
        case .createRevision(let r): compare.target = "CREATE"; compare.create_revision = .init(r)
        case .modRevision(let r): compare.target = "MOD"; compare.mod_revision = .init(r)
        case .value(let bytes): compare.target = "VALUE"; compare.value = Data(bytes)
        case .lease(let id): compare.target = "LEASE"; compare.lease = .init(id)
        }
        return compare
    }

    static func wire(_ operation: EtcdOperation) -> EtcdWire.RequestOp {
        switch operation {
        case .put(let key, let value, let lease):
            return .init(request_put: .init(key: Data(key.utf8), value: Data(value), lease: lease != 0 ? .init(lease) : nil))
        case .delete(let key):
            return .init(request_delete_range: .init(key: Data(key.utf8)))
        case .deletePrefix(let prefix):
            return .init(request_delete_range: .init(key: Data(prefix.utf8), range_end: rangeEnd(ofPrefix: prefix)))
        case .get(let key):
            return .init(request_range: .init(key: Data(key.utf8)))
        case .getPrefix(let prefix):
            return .init(request_range: .init(key: Data(prefix.utf8), range_end: rangeEnd(ofPrefix: prefix)))
        }
    }
}
