/// One key as etcd holds it.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    /// How many times the key was written since it was created (0: it does not exist).
    public var version: Int64
    /// The lease it is attached to (0: none).
    public var lease: Int64
}

/// A page of keys and the store's revision it was read at.
public struct EtcdRange: Sendable {
    public var values: [EtcdKeyValue]
    public var revision: Int64
    /// More keys match than the limit let through.
    public var more: Bool
}

/// A condition on one key, checked by a transaction.
public struct EtcdCondition: Sendable {
    public enum Target: Sendable {
        /// The key's version: 0 when it does not exist.
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }
    public enum Comparison: String, Sendable {
        case equal = "EQUAL", notEqual = "NOT_EQUAL", greater = "GREATER", less = "LESS"
    }
    public var key: String
    public var target: Target
    public var comparison: Comparison

    public init(_ key: String, _ target: Target, _ comparison: Comparison = .equal) {
        self.key = key
        self.target = target
        self.comparison = comparison
    }

    /// The key does not exist.
    public static func absent(_ key: String) -> EtcdCondition { EtcdCondition(key, .version(0)) }
}

/// One operation in a transaction.
public enum EtcdOperation: Sendable {
    case put(String, [UInt8], lease: Int64 = 0)
    case delete(String)
    case deletePrefix(String)
    case get(String)
    case getPrefix(String)
}

/// A transaction's outcome: which branch ran, and the keys each read in it returned.
public struct EtcdTransactionResult: Sendable {
    public var succeeded: Bool
    public var revision: Int64
    /// One entry per operation of the branch that ran (empty for writes).
    public var reads: [[EtcdKeyValue]]
}

/// A lease: keys put with it go when it expires or is revoked.
public struct EtcdLease: Sendable, Equatable {
    public var id: Int64
    public var ttlSeconds: Int64
}

/// One change seen by a watch.
public enum EtcdEvent: Sendable, Equatable {
    case put(EtcdKeyValue)
    case delete(key: String, revision: Int64)

    public var key: String {
        switch self {
        case .put(let kv): kv.key
        case .delete(let key, _): key
        }
    }

    public var revision: Int64 {
        switch self {
        case .put(let kv): kv.modRevision
        case .delete(_, let revision): revision
        }
    }
}
