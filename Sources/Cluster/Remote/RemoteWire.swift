import Foundation
import Functions
import InstanceWire
import Node

/// What a gateway and a node agent say to each other over HTTP (the node's internal
/// API). Every call carries the cluster's token; what is not the body rides in headers,
/// base64-encoded, so a request's body is the invocation's body and a response's the
/// function's output.
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

    /// Per request, the environment goes one way and how the invocation went the other, in the
    /// compact encoding of the instance's pipe (JSON cost ~25 µs an encode or a decode).
    public static func environmentHeader(_ environment: [String]) -> String? {
        BinaryMessages.encode(.invoke(InvokeRequest(id: 0, environment: environment, timeoutSeconds: 0))).map(base64)
    }

    public static func environment(fromHeader value: String?) -> [String]? {
        guard case .invoke(let request) = decoded(value) else { return nil }
        return request.environment
    }

    /// How an invocation went, without its output (the response body) or the node (the caller knows it).
    public static func outcomeHeader(_ outcome: InvocationOutcome) -> String? {
        guard let result = BinaryMessages.encode(.result(outcome.result)) else { return nil }
        let instance = Array(outcome.instance.utf8.prefix(255))
        return base64([outcome.coldStart ? 1 : 0, UInt8(instance.count)] + instance + result)
    }

    public static func outcome(fromHeader value: String?, output: [UInt8], node: String) -> InvocationOutcome? {
        guard let value, value.utf8.count <= maxHeader, let data = Data(base64Encoded: value) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count >= 2, bytes[0] <= 1, bytes.count >= 2 + Int(bytes[1]) else { return nil }
        let instance = String(decoding: bytes[2..<(2 + Int(bytes[1]))], as: UTF8.self)
        guard case .result(let result) = BinaryMessages.decode(Array(bytes[(2 + Int(bytes[1]))...])) else { return nil }
        return InvocationOutcome(result: result, output: output, coldStart: bytes[0] == 1, instance: instance, node: node)
    }

    private static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    private static func decoded(_ value: String?) -> WorkerMessage? {
        guard let value, value.utf8.count <= maxHeader, let data = Data(base64Encoded: value) else { return nil }
        return BinaryMessages.decode([UInt8](data))
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
