import Foundation
import Functions
import Node

/// What a gateway and a node agent say to each other over HTTP (the node's internal
/// API). Every call carries the cluster's token; JSON rides in headers base64-encoded,
/// so a request's body is the invocation's body and a response's the function's output.
public enum RemoteWire {
    public static let prefix = "/internal/v1"
    public static let deploymentHeader = "x-kumo-deployment"
    public static let environmentHeader = "x-kumo-environment"
    public static let outcomeHeader = "x-kumo-outcome"
    public static let imageSourcesHeader = "x-kumo-image-sources"
    public static let versionHeader = "x-kumo-cluster-version"

    /// A deployment as a node needs it: the image named by its hash (the node finds or
    /// fetches the bytes), and the tenant's memory cap its node enforces.
    public struct RemoteDeployment: Codable, Sendable {
        public var name: String
        public var tenant: String
        public var version: String
        public var config: ImageConfig
        public var limits: InstanceLimits
        public var tenantMemory: UInt64?
        public var uncapped: Bool

        public init(_ d: Deployment, tenantMemory: UInt64?, uncapped: Bool) {
            name = d.name
            tenant = d.tenant
            version = d.version
            config = d.config
            limits = d.limits
            self.tenantMemory = tenantMemory
            self.uncapped = uncapped
        }

        public func deployment(imagePath: String) -> Deployment {
            Deployment(name: name, tenant: tenant, imagePath: imagePath, version: version, config: config, limits: limits)
        }
    }

    /// How an invocation went, without its output (the response body).
    public struct RemoteOutcome: Codable, Sendable {
        public var result: InvokeResult
        public var coldStart: Bool
        public var instance: String
        public var node: String

        public init(_ outcome: InvocationOutcome) {
            result = outcome.result
            coldStart = outcome.coldStart
            instance = outcome.instance
            node = outcome.node
        }

        public func outcome(output: [UInt8]) -> InvocationOutcome {
            InvocationOutcome(result: result, output: output, coldStart: coldStart, instance: instance, node: node)
        }
    }

    /// A node's refusal: its kind decides the gateway's status code.
    public struct Refusal: Codable, Sendable {
        public var kind: SchedulingError.RefusalKind
        public var message: String

        public init(kind: SchedulingError.RefusalKind, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    public static func header(_ value: some Encodable) throws -> String {
        try JSONEncoder().encode(value).base64EncodedString()
    }

    public static func fromHeader<T: Decodable>(_ type: T.Type, _ value: String?) -> T? {
        guard let value, value.utf8.count <= maxHeader, let data = Data(base64Encoded: value) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    /// The largest header value either side accepts.
    public static let maxHeader = 64 << 10
}
