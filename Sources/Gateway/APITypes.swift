import Cluster
import Foundation
import Node

/// A deployed function as the API shows it.
public struct FunctionInfo: Codable, Sendable {
    public var name: String
    public var tenant: String
    public var image: String
    public var imageBytes: Int
    public var mode: String
    public var accelerator: String
    public var memory: UInt64
    public var timeoutSeconds: Double
    public var limits: InstanceLimits
    public var created: Date
    public var updated: Date
    public var instances: [NodeScheduler.InstanceInfo]?
    /// Per node: desired instances and why, observed concurrency, panic, learned keep-alive.
    public var scaling: [ScalingStatus]?
}

/// GET /system/functions/{name}/logs: lines after the cursor, and the next cursor.
public struct LogLines: Codable, Sendable {
    public var lines: [LogRecord]
    public var next: Int64
}

/// GET /system/accelerators.
public struct AcceleratorInventory: Codable, Sendable {
    public var cards: [FPGACardState]
    public var grants: [GrantRecord]
}

/// 202 of POST /async-function/{name}.
public struct AcceptedCall: Codable, Sendable {
    public var id: String
    public var function: String
    public var state: String
    public var statusURL: String
    public var resultURL: String
}

/// GET /system/calls/{id}.
public struct CallStatus: Codable, Sendable {
    public var id: String
    public var function: String
    public var state: String
    public var httpStatus: Int?
    public var code: Int?
    public var detail: String?
    public var responseBytes: Int?
    public var created: Date
    public var finished: Date?
}
