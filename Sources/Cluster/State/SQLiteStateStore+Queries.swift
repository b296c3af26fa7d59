import Foundation
import GRDB

extension SQLiteStateStore {
    // MARK: tenants

    public func tenant(tokenHash: String) throws -> TenantRecord? {
        try db.read { try TenantRecord.filter(Column("tokenHash") == tokenHash).fetchOne($0) }
    }

    public func tenants() throws -> [TenantRecord] {
        try db.read { try TenantRecord.order(Column("name")).fetchAll($0) }
    }

    public func hasAdmin() throws -> Bool {
        try db.read { try TenantRecord.filter(Column("admin") == true).fetchCount($0) > 0 }
    }

    public func insert(_ tenant: TenantRecord) throws -> Bool {
        try db.write { db in
            guard try TenantRecord.fetchOne(db, key: tenant.name) == nil,
                  try TenantRecord.filter(Column("tokenHash") == tenant.tokenHash).fetchCount(db) == 0 else { return false }
            try tenant.insert(db)
            return true
        }
    }

    // MARK: functions

    public func function(_ name: String) throws -> FunctionRecord? {
        try db.read { try FunctionRecord.fetchOne($0, key: name) }
    }

    public func functions(tenant: String?) throws -> [FunctionRecord] {
        try db.read { db in
            let all = FunctionRecord.order(Column("name"))
            return try (tenant.map { all.filter(Column("tenant") == $0) } ?? all).fetchAll(db)
        }
    }

    public func deploy(_ function: FunctionRecord, by deployer: TenantRecord) throws -> (record: FunctionRecord, created: Bool) {
        try db.write { db in
            var record = function
            if let existing = try FunctionRecord.fetchOne(db, key: function.name) {
                guard existing.tenant == deployer.name || deployer.admin else { throw DeployRefusal.ownedByAnotherTenant }
                record.tenant = existing.tenant
                record.created = existing.created
                try record.update(db)
                return (record, false)
            }
            record.tenant = deployer.name
            try record.insert(db)
            return (record, true)
        }
    }

    public func deleteFunction(_ name: String) throws {
        try db.write { db in
            _ = try FunctionRecord.deleteOne(db, key: name)
            try db.execute(sql: "DELETE FROM learned_keep_alives WHERE function = ?", arguments: [name])
        }
    }

    public func imagesInUse() throws -> Set<String> {
        try db.read { Set(try String.fetchAll($0, sql: "SELECT DISTINCT image FROM functions")) }
    }

    // MARK: async calls

    /// Count and insert are one transaction, so concurrent requests cannot pass the cap together.
    public func insert(_ call: CallRecord, tenant: String, pendingBelow limit: Int) throws -> Bool {
        try db.write { db in
            guard try Self.pendingCalls(db, tenant: tenant) < limit else { return false }
            try call.insert(db)
            return true
        }
    }

    public func call(_ id: String) throws -> CallRecord? {
        try db.read { try CallRecord.fetchOne($0, key: id) }
    }

    public func update(_ call: CallRecord) throws {
        try db.write { try call.update($0) }
    }

    public func pendingCalls(tenant: String) throws -> Int {
        try db.read { try Self.pendingCalls($0, tenant: tenant) }
    }

    static func pendingCalls(_ db: Database, tenant: String) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM calls JOIN functions ON calls.function = functions.name
            WHERE functions.tenant = ? AND calls.state != 'done'
            """, arguments: [tenant]) ?? 0
    }

    @discardableResult
    public func pruneCalls(finishedBefore before: Date, maxBytes: Int) throws -> Int {
        try db.write { db in
            try db.execute(sql: "DELETE FROM calls WHERE state = 'done' AND finished < ?", arguments: [before])
            var removed = db.changesCount
            try db.execute(sql: """
                DELETE FROM calls WHERE id IN (
                  SELECT id FROM (
                    SELECT id, SUM(length(body) + IFNULL(length(response), 0)) OVER (ORDER BY finished DESC) AS kept
                    FROM calls WHERE state = 'done')
                  WHERE kept > ?)
                """, arguments: [maxBytes])
            removed += db.changesCount
            return removed
        }
    }

    public func unfinishedCalls() throws -> [CallRecord] {
        try db.write { db in
            try db.execute(sql: "UPDATE calls SET state = 'queued' WHERE state = 'running'")
            return try CallRecord.filter(Column("state") == CallRecord.State.queued.rawValue)
                .order(Column("created")).fetchAll(db)
        }
    }

    // MARK: grants and logs

    public func record(_ grant: GrantRecord) throws {
        try db.write { try grant.insert($0) }
    }

    public func grants(tenant: String?, limit: Int) throws -> [GrantRecord] {
        try db.read { db in
            let all = GrantRecord.order(Column("id").desc)
            return try (tenant.map { all.filter(Column("tenant") == $0) } ?? all).limit(limit).fetchAll(db)
        }
    }

    public func append(_ logs: [LogRecord]) throws {
        try db.write { db in for var log in logs { try log.insert(db) } }
    }

    public func logs(function: String, after: Int64, limit: Int) throws -> [LogRecord] {
        try db.read {
            try LogRecord.filter(Column("function") == function && Column("id") > after)
                .order(Column("id")).limit(limit).fetchAll($0)
        }
    }

    public func pruneLogs(keep: Int) throws {
        try db.write { db in
            try db.execute(sql: """
                DELETE FROM logs WHERE id IN (
                  SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY function ORDER BY id DESC) AS n FROM logs)
                  WHERE n > ?)
                """, arguments: [keep])
        }
    }

    // MARK: learned keep-alives

    public func learnedKeepAlives(node: String) throws -> [String: String] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT function, json FROM learned_keep_alives WHERE node = ?", arguments: [node])
            return Dictionary(rows.map { ($0["function"] as String, $0["json"] as String) }) { _, newer in newer }
        }
    }

    public func saveLearnedKeepAlive(node: String, function: String, json: String) throws {
        try db.write { db in
            // Only for a function that exists: a save racing its removal leaves nothing behind.
            try db.execute(sql: """
                INSERT INTO learned_keep_alives (node, function, json) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM functions WHERE name = ?)
                ON CONFLICT (node, function) DO UPDATE SET json = excluded.json
                """, arguments: [node, function, json, function])
        }
    }
}
