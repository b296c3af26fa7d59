import Cluster
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Node
import NIOCore
import Synchronization

/// A node agent's internal API, for the cluster's gateways only (each call carries the
/// cluster token): invoke with the body streamed in and the output out, remove a
/// function's instances, list them. Images come by content hash from the gateways
/// that hold them.
public struct NodeAPI: Sendable {
    let node: @Sendable () -> LocalNode
    let images: ImageFetcher
    let token: String
    let bodyLimit: Int
    let logger: Logger
    /// Deployment headers already decoded: each request of a deployment carries the same one.
    let deployments = DecodedHeaders<RemoteWire.RemoteDeployment>()

    public init(node: @escaping @Sendable () -> LocalNode, images: ImageFetcher, token: String, bodyLimit: Int, logger: Logger) {
        self.node = node
        self.images = images
        self.token = token
        self.bodyLimit = bodyLimit
        self.logger = logger
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post(RouterPath(RemoteWire.prefix + "/invoke")) { request, _ in try await self.invoke(request) }
        router.post(RouterPath(RemoteWire.prefix + "/remove/:name")) { request, context in
            try self.authorize(request)
            await self.node().remove(function: context.parameters.get("name") ?? "")
            return Response(status: .noContent)
        }
        router.get(RouterPath(RemoteWire.prefix + "/instances/:name")) { request, context in
            try self.authorize(request)
            let instances = await self.node().instances(of: context.parameters.get("name") ?? "")
            return Self.json(try JSONEncoder().encode(instances))
        }
        return router
    }

    func authorize(_ request: Request) throws {
        guard ClusterToken.accepts(request.headers[.authorization], token: token) else {
            throw HTTPError(.unauthorized, message: "only the cluster's gateways may call a node")
        }
        if let version = request.headers[HTTPField.Name(RemoteWire.versionHeader)!], version != ClusterProtocol.version {
            throw HTTPError(.conflict, message: "this node speaks \(ClusterProtocol.version), the gateway \(version.prefix(40)); run the same kumo on both")
        }
    }

    func invoke(_ request: Request) async throws -> Response {
        try authorize(request)
        guard let remote = deployments.decode(request.headers[HTTPField.Name(RemoteWire.deploymentHeader)!]),
              let environment = RemoteWire.environment(fromHeader: request.headers[HTTPField.Name(RemoteWire.environmentHeader)!]) else {
            throw HTTPError(.badRequest, message: "an invoke needs the deployment and environment headers")
        }
        let sources = (request.headers[HTTPField.Name(RemoteWire.imageSourcesHeader)!] ?? "").split(separator: ",").map(String.init)
        let body = try await request.body.collect(upTo: bodyLimit)
        let node = self.node()
        let imagePath: String
        do { imagePath = try await images.image(remote.version, sources: sources) } catch {
            return Self.refusal(.init(kind: .unavailable, message: "\(error)"))
        }
        node.setMemoryCap(remote.tenantMemory, tenant: remote.tenant, uncapped: remote.uncapped)
        let deployment = remote.deployment(imagePath: imagePath)
        let invocation = Invocation(body: Array(body.readableBytesView), environment: environment)
        let result: Result<InvocationOutcome, SchedulingError>
        // A warm idle instance first, with no actor on the way; else the node's scheduler.
        if let warm = await Self.warm(node, deployment, invocation) {
            result = warm
        } else {
            do { result = .success(try await node.invoke(deployment, invocation)) } catch { result = .failure(error) }
        }
        switch result {
        case .failure(let error):
            return Self.refusal(.init(kind: error.kind, message: error.description))
        case .success(let outcome):
            guard let outcomeHeader = RemoteWire.outcomeHeader(outcome) else {
                return Self.refusal(.init(kind: .failed, message: "the outcome of \(deployment.name) cannot be encoded"))
            }
            var headers = HTTPFields()
            headers[HTTPField.Name(RemoteWire.outcomeHeader)!] = outcomeHeader
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: outcome.output)))
        }
    }

    /// The invocation on a warm idle instance, or nil when none is idle.
    static func warm(_ node: LocalNode, _ deployment: Deployment, _ invocation: Invocation) async -> Result<InvocationOutcome, SchedulingError>? {
        await withCheckedContinuation { (done: CheckedContinuation<Result<InvocationOutcome, SchedulingError>?, Never>) in
            if !node.invokeWarm(deployment, { invocation }, completion: { done.resume(returning: $0) }) {
                done.resume(returning: nil)
            }
        }
    }

    static func refusal(_ refusal: RemoteWire.Refusal) -> Response {
        var response = json((try? JSONEncoder().encode(refusal)) ?? Data())
        response.status = .serviceUnavailable
        response.headers[HTTPField.Name(RemoteWire.outcomeHeader)!] = "refused"
        return response
    }

    static func json(_ data: Data) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A few recently decoded header values and what they decoded to.
final class DecodedHeaders<Value: Decodable & Sendable>: Sendable {
    private let recent = Mutex<[String: Value]>([:])
    static var capacity: Int { 64 }

    func decode(_ header: String?) -> Value? {
        guard let header else { return nil }
        if let known = recent.withLock({ $0[header] }) { return known }
        guard let value = RemoteWire.fromHeader(Value.self, header) else { return nil }
        recent.withLock { recent in
            if recent.count >= Self.capacity { recent.removeAll() }
            recent[header] = value
        }
        return value
    }
}
