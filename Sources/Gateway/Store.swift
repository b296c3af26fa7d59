import Foundation
import GRDB

/// `kumo serve`'s state, in SQLite (WAL) in the data directory: tenants,
/// functions, async calls, FPGA grants and function logs. Every accepted
/// deploy and async call is committed before the gateway answers, so a
/// killed server loses none of them.
public final class Store: Sendable {
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
        return m
    }
}

public struct TenantRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "tenants"
    public var name: String
    public var tokenHash: String
    public var admin: Bool
    public var created: Date
    /// Guest memory its instances may hold at once, bytes; nil: the node's default cap.
    public var memoryLimit: Int64?
}

public struct FunctionRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "functions"
    public var name: String
    public var tenant: String
    /// SHA-256 of the image, its name in the image cache.
    public var image: String
    public var imageBytes: Int
    /// ImageConfig and InstanceLimits, as JSON.
    public var config: String
    public var limits: String
    public var created: Date
    public var updated: Date
}

public struct CallRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "calls"
    public enum State: String, Codable, Sendable { case queued, running, done }
    public var id: String
    public var function: String
    public var state: State
    public var body: Data
    public var environment: String
    public var callback: String?
    public var httpStatus: Int?
    public var code: Int?
    public var detail: String?
    public var response: Data?
    public var callbackResult: String?
    public var created: Date
    public var finished: Date?
}

public struct GrantRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "grants"
    public var id: Int64?
    public var at: Date
    public var kind: String
    public var card: String
    public var tenant: String
    public var function: String
    public var instance: String
    public var detail: String
}

public struct LogRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "logs"
    public var id: Int64?
    public var at: Date
    public var function: String
    public var instance: String
    public var stream: String
    public var text: String
}
