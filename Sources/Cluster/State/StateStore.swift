import Foundation

/// Where the control plane keeps what must outlive a process: tenants, functions,
/// async calls, the FPGA grant record and function logs. SQLite in the embedded
/// default; etcd in a cluster. Writes that decide something (a name's owner, a
/// tenant's pending-call cap) are decided inside the store, atomically.
public protocol StateStore: Sendable {
    // tenants
    func tenant(tokenHash: String) async throws -> TenantRecord?
    func tenants() async throws -> [TenantRecord]
    func hasAdmin() async throws -> Bool
    /// false when the name is taken.
    func insert(_ tenant: TenantRecord) async throws -> Bool

    // functions
    func function(_ name: String) async throws -> FunctionRecord?
    func functions(tenant: String?) async throws -> [FunctionRecord]
    /// Writes a deploy of `function.name` by `deployer`, deciding ownership in the
    /// same step as the write: a name another tenant holds is refused with
    /// `DeployRefusal.ownedByAnotherTenant` (unless the deployer is the admin); a
    /// replaced function keeps its owner and creation date. Returns the record
    /// written and whether the name was new.
    func deploy(_ function: FunctionRecord, by deployer: TenantRecord) async throws -> (record: FunctionRecord, created: Bool)
    func deleteFunction(_ name: String) async throws
    /// Hashes of images some function still uses (the rest of the cache can go).
    func imagesInUse() async throws -> Set<String>

    // async calls
    /// Records an accepted call unless functions `tenant` owns already have `limit` calls not finished.
    func insert(_ call: CallRecord, tenant: String, pendingBelow limit: Int) async throws -> Bool
    func call(_ id: String) async throws -> CallRecord?
    func update(_ call: CallRecord) async throws
    /// Calls not finished yet for functions `tenant` owns.
    func pendingCalls(tenant: String) async throws -> Int
    /// Drops finished calls older than `before`, then the oldest finished ones while
    /// the stored bodies and results pass `maxBytes`. Returns how many went.
    @discardableResult
    func pruneCalls(finishedBefore before: Date, maxBytes: Int) async throws -> Int
    /// Calls accepted but not finished; those a dead gateway was running go back to the queue.
    func unfinishedCalls() async throws -> [CallRecord]

    // the grant record and logs
    func record(_ grant: GrantRecord) async throws
    /// The newest grants and releases, of one tenant's instances or (nil) of all.
    func grants(tenant: String?, limit: Int) async throws -> [GrantRecord]
    func append(_ logs: [LogRecord]) async throws
    func logs(function: String, after: Int64, limit: Int) async throws -> [LogRecord]
    /// Keeps the newest `keep` lines per function.
    func pruneLogs(keep: Int) async throws

    /// What `node` learned of its functions' idle times (JSON), by function; a function's
    /// go with it when it is removed.
    func learnedKeepAlives(node: String) async throws -> [String: String]
    func saveLearnedKeepAlive(node: String, function: String, json: String) async throws
}

/// Why a deploy was not written.
public enum DeployRefusal: Error, Sendable {
    case ownedByAnotherTenant
}
