import Foundation
import GRDB

// What the state store holds. The SQLite store maps each to a table; the
// column names are the field names.

public struct TenantRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "tenants"
    public var name: String
    public var tokenHash: String
    public var admin: Bool
    public var created: Date
    /// Guest memory its instances may hold at once, bytes; nil: the node's default cap.
    public var memoryLimit: Int64?

    public init(name: String, tokenHash: String, admin: Bool, created: Date, memoryLimit: Int64? = nil) {
        self.name = name
        self.tokenHash = tokenHash
        self.admin = admin
        self.created = created
        self.memoryLimit = memoryLimit
    }
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

    public init(name: String, tenant: String, image: String, imageBytes: Int, config: String, limits: String,
                created: Date, updated: Date) {
        self.name = name
        self.tenant = tenant
        self.image = image
        self.imageBytes = imageBytes
        self.config = config
        self.limits = limits
        self.created = created
        self.updated = updated
    }
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

    public init(id: String, function: String, state: State, body: Data, environment: String, callback: String? = nil,
                httpStatus: Int? = nil, code: Int? = nil, detail: String? = nil, response: Data? = nil,
                callbackResult: String? = nil, created: Date, finished: Date? = nil) {
        self.id = id
        self.function = function
        self.state = state
        self.body = body
        self.environment = environment
        self.callback = callback
        self.httpStatus = httpStatus
        self.code = code
        self.detail = detail
        self.response = response
        self.callbackResult = callbackResult
        self.created = created
        self.finished = finished
    }
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

    public init(id: Int64? = nil, at: Date, kind: String, card: String, tenant: String, function: String, instance: String,
                detail: String) {
        self.id = id
        self.at = at
        self.kind = kind
        self.card = card
        self.tenant = tenant
        self.function = function
        self.instance = instance
        self.detail = detail
    }
}

public struct LogRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "logs"
    public var id: Int64?
    public var at: Date
    public var function: String
    public var instance: String
    public var stream: String
    public var text: String

    public init(id: Int64? = nil, at: Date, function: String, instance: String, stream: String, text: String) {
        self.id = id
        self.at = at
        self.function = function
        self.instance = instance
        self.stream = stream
        self.text = text
    }
}
