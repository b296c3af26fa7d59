import Cluster
import EventLoopHTTP
import Foundation
import HTTPTypes
import Hummingbird
import KumoSupport
import Logging
import Node
import NIOCore
import Synchronization

/// A node agent's internal API, for the cluster's gateways only (each call carries the
/// cluster token): invoke with the body in and the output out, remove a function's
/// instances, list them. Images come by content hash from the gateways that hold them.
/// Invokes are answered on the event loop (`InvokeRoute`); the router has the rest,
/// and the same invoke for a pipelining client.
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

    /// The HTTP server of the API on `host:port`; `onRunning` gets the bound port.
    public func application(host: String, port: Int, onRunning: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        Application(router: router(),
                    server: .http1(configuration: .init(additionalChannelHandlers: [EventLoopResponder(route: InvokeRoute(api: self))])),
                    configuration: .init(address: .hostname(host, port: port), serverName: "kumo-node"),
                    onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post(RouterPath(RemoteWire.prefix + "/invoke")) { request, _ in
            let call: Call
            switch check(request.headers) {
            case .success(let checked): call = checked
            case .failure(let refusal): return Self.response(refusal.answer)
            }
            let body = try await request.body.collect(upTo: bodyLimit)
            return Self.response(await invoke(call, body: Array(body.readableBytesView)))
        }
        router.post(RouterPath(RemoteWire.prefix + "/remove/:name")) { request, context in
            if case .failure(let refusal) = authorize(request.headers) { return Self.response(refusal.answer) }
            await self.node().remove(function: context.parameters.get("name") ?? "")
            return Response(status: .noContent)
        }
        router.get(RouterPath(RemoteWire.prefix + "/instances/:name")) { request, context in
            if case .failure(let refusal) = authorize(request.headers) { return Self.response(refusal.answer) }
            let instances = await self.node().instances(of: context.parameters.get("name") ?? "")
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(instances))))
        }
        router.get(RouterPath(RemoteWire.prefix + "/instances")) { request, _ in
            if case .failure(let refusal) = authorize(request.headers) { return Self.response(refusal.answer) }
            let instances = await self.node().allInstances()
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(instances))))
        }
        router.get(RouterPath(RemoteWire.prefix + "/scaling/:name")) { request, context in
            if case .failure(let refusal) = authorize(request.headers) { return Self.response(refusal.answer) }
            let scaling = await self.node().scaling(of: context.parameters.get("name") ?? "")
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(scaling))))
        }
        return router
    }

    /// A request this API does not take, and why.
    struct Refused: Error {
        var status: HTTPResponse.Status
        var message: String
        var answer: EventLoopAnswer {
            (status, [.contentType: "application/json"], Array((try? JSONEncoder().encode(["error": message])) ?? Data()))
        }
    }

    func authorize(_ headers: HTTPFields) -> Result<Void, Refused> {
        guard ClusterToken.accepts(headers[.authorization], token: token) else {
            return .failure(Refused(status: .unauthorized, message: "only the cluster's gateways may call a node"))
        }
        if let version = headers[HTTPField.Name(RemoteWire.versionHeader)!], version != ClusterProtocol.version {
            return .failure(Refused(status: .conflict, message: "this node speaks \(ClusterProtocol.version), the gateway \(version.prefix(40)); run the same kumo on both"))
        }
        return .success(())
    }

    /// An invoke's headers, checked and decoded.
    struct Call: Sendable {
        var remote: RemoteWire.RemoteDeployment
        var environment: [String]
        var sources: [String]
    }

    func check(_ headers: HTTPFields) -> Result<Call, Refused> {
        if case .failure(let refusal) = authorize(headers) { return .failure(refusal) }
        guard let remote = deployments.decode(headers[HTTPField.Name(RemoteWire.deploymentHeader)!]),
              let environment = RemoteWire.environment(fromHeader: headers[HTTPField.Name(RemoteWire.environmentHeader)!]) else {
            return .failure(Refused(status: .badRequest, message: "an invoke needs the deployment and environment headers"))
        }
        let sources = (headers[HTTPField.Name(RemoteWire.imageSourcesHeader)!] ?? "").split(separator: ",").map(String.init)
        return .success(Call(remote: remote, environment: environment, sources: sources))
    }

    /// The invocation where it may wait: the image fetched if missing, a cold start if no instance is idle.
    /// `warmTried`: the event loop already found no idle instance for it.
    func invoke(_ call: Call, body: [UInt8], warmTried: Bool = false) async -> EventLoopAnswer {
        let imagePath: String
        do { imagePath = try await images.image(call.remote.version, sources: call.sources) } catch {
            return Self.refusal(.init(kind: .unavailable, message: "\(error)"))
        }
        let node = self.node()
        let deployment = prepared(call, imagePath: imagePath, on: node)
        let invocation = Invocation(body: body, environment: call.environment)
        // A warm idle instance first, with no actor on the way; else the node's scheduler.
        let warm = warmTried ? nil : await withCheckedContinuation { (done: CheckedContinuation<Result<InvocationOutcome, SchedulingError>?, Never>) in
            if !node.invokeWarm(deployment, { invocation }, completion: { done.resume(returning: $0) }) {
                done.resume(returning: nil)
            }
        }
        if let warm { return Self.answer(warm, of: deployment.name) }
        do { return Self.answer(.success(try await node.invoke(deployment, invocation)), of: deployment.name) } catch {
            return Self.answer(.failure(error), of: deployment.name)
        }
    }

    func prepared(_ call: Call, imagePath: String, on node: LocalNode) -> Deployment {
        node.setMemoryCap(call.remote.tenantMemory, tenant: call.remote.tenant, uncapped: call.remote.uncapped)
        return call.remote.deployment(imagePath: imagePath)
    }

    static func answer(_ result: Result<InvocationOutcome, SchedulingError>, of function: String) -> EventLoopAnswer {
        switch result {
        case .failure(let error):
            return refusal(.init(kind: error.kind, message: error.description))
        case .success(let outcome):
            guard let outcomeHeader = RemoteWire.outcomeHeader(outcome) else {
                return refusal(.init(kind: .failed, message: "the outcome of \(function) cannot be encoded"))
            }
            return (.ok, [HTTPField.Name(RemoteWire.outcomeHeader)!: outcomeHeader], outcome.output)
        }
    }

    static func refusal(_ refusal: RemoteWire.Refusal) -> EventLoopAnswer {
        (.serviceUnavailable, [.contentType: "application/json", HTTPField.Name(RemoteWire.outcomeHeader)!: "refused"],
         Array((try? JSONEncoder().encode(refusal)) ?? Data()))
    }

    static func response(_ answer: EventLoopAnswer) -> Response {
        Response(status: answer.0, headers: answer.1, body: .init(byteBuffer: ByteBuffer(bytes: answer.2)))
    }
}

/// `POST /internal/v1/invoke` on the event loop: a warm idle instance whose image is here
/// takes the request straight from there; anything else is one task (`NodeAPI.invoke`).
struct InvokeRoute: EventLoopRoute {
    let api: NodeAPI
    /// Bodies up to this size are written to an instance's pipe from the event loop (a
    /// pipe holds 64 KiB, so the write cannot block); larger ones from a task.
    static let eventLoopBodyLimit = 60_000

    func match(_ head: HTTPRequest) -> Void? {
        Trace.mark("node head")
        return head.method == .post && head.path == RemoteWire.prefix + "/invoke" ? () : nil
    }

    var bodyLimit: Int { api.bodyLimit }

    func flushed() { Trace.mark("node flushed") }

    func tooLarge(length: Int?) -> EventLoopAnswer {
        NodeAPI.Refused(status: .contentTooLarge, message: "a node takes bodies of at most \(api.bodyLimit) bytes").answer
    }

    func answer(_ match: Void, head: HTTPRequest, body: ByteBuffer, executor: EventLoopTaskExecutor,
                done: @escaping @Sendable (EventLoopAnswer) -> Void) {
        let call: NodeAPI.Call
        switch api.check(head.headerFields) {
        case .success(let checked): call = checked
        case .failure(let refusal): return done(refusal.answer)
        }
        let bytes = Array(body.readableBytesView)
        let small = bytes.count <= Self.eventLoopBodyLimit
        var warmTried = false
        if small, let imagePath = api.images.local(call.remote.version) {
            let node = api.node()
            let deployment = api.prepared(call, imagePath: imagePath, on: node)
            let invocation = Invocation(body: bytes, environment: call.environment)
            if node.invokeWarm(deployment, { invocation }, completion: { done(NodeAPI.answer($0, of: deployment.name)) }) { return }
            warmTried = true
        }
        let api = self.api
        if small {
            Task(executorPreference: executor) { [warmTried] in done(await api.invoke(call, body: bytes, warmTried: warmTried)) }
        } else {
            Task { done(await api.invoke(call, body: bytes)) }
        }
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
