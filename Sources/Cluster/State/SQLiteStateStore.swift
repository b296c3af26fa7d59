import Foundation
import GRDB

/// The embedded default's state, in SQLite (WAL) in the data directory: tenants,
/// functions, async calls, FPGA grants and function logs. Every accepted
/// deploy and async call is committed before the gateway answers, so a
/// killed server loses none of them.
public final class SQLiteStateStore: StateStore {
    let db: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        db = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "tenants") { t in
                t.primaryKey("name", .text)
                t.column("tokenHash", .text).notNull().unique()
                t.column("admin", .boolean).notNull()
                t.column("created", .datetime).notNull()
            }
            try db.create(table: "functions") { t in
                t.primaryKey("name", .text)
                t.column("tenant", .text).notNull().references("tenants")
                t.column("image", .text).notNull()
                t.column("imageBytes", .integer).notNull()
                t.column("config", .text).notNull()
                t.column("limits", .text).notNull()
                t.column("created", .datetime).notNull()
                t.column("updated", .datetime).notNull()
            }
            try db.create(table: "calls") { t in
                t.primaryKey("id", .text)
                t.column("function", .text).notNull()
                t.column("state", .text).notNull().indexed()
                t.column("body", .blob).notNull()
                t.column("environment", .text).notNull()
                t.column("callback", .text)
                t.column("httpStatus", .integer)
                t.column("code", .integer)
                t.column("detail", .text)
                t.column("response", .blob)
                t.column("callbackResult", .text)
                t.column("created", .datetime).notNull()
                t.column("finished", .datetime)
            }
            try db.create(table: "grants") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("kind", .text).notNull()
                t.column("card", .text).notNull()
                t.column("tenant", .text).notNull()
                t.column("function", .text).notNull()
                t.column("instance", .text).notNull()
                t.column("detail", .text).notNull()
            }
            try db.create(table: "logs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("function", .text).notNull().indexed()
                t.column("instance", .text).notNull()
                t.column("stream", .text).notNull()
                t.column("text", .text).notNull()
            }
        }
        m.registerMigration("v2: tenant memory caps") { db in
            try db.alter(table: "tenants") { t in t.add(column: "memoryLimit", .integer) }
        }
        m.registerMigration("v3: learned keep-alives") { db in
            try db.create(table: "learned_keep_alives") { t in
                t.column("node", .text).notNull()
                t.column("function", .text).notNull().indexed()
                t.column("json", .text).notNull()
                t.primaryKey(["node", "function"])
            }
        }
        return m
    }
}
