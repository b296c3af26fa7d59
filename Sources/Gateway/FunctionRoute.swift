import EventLoopHTTP
import HTTPTypes
import HummingbirdCore
import KumoSupport
import NIOCore

/// `POST /function/{name}` on the event loop (see `EventLoopResponder`): a warm idle
/// instance takes the request straight from here and answers from its reader
/// thread; anything else is one task through the scheduler (cold start, queue,
/// errors), which gives the same answers as Hummingbird's route.
struct FunctionRoute: EventLoopRoute {
    let gateway: Gateway

    func match(_ head: HTTPRequest) -> String? {
        Trace.mark("gw head")
        guard head.method == .post else { return nil }
        return Self.functionName(head.path)
    }

    var bodyLimit: Int { gateway.configuration.bodyLimit }

    func tooLarge(length: Int?) -> EventLoopAnswer {
        let limit = bodyLimit
        return GatewayError.tooLarge(length.map { "the body is \($0) bytes; this gateway takes at most \(limit) (kumo serve --body-limit)" }
            ?? "the body is over \(limit) bytes, the most this gateway takes (kumo serve --body-limit)").parts()
    }

    func answer(_ name: String, head: HTTPRequest, body: ByteBuffer, executor: EventLoopTaskExecutor,
                done: @escaping @Sendable (EventLoopAnswer) -> Void) {
        let gateway = self.gateway
        let uri = URI(head.path ?? "/")
        let bytes = Array(body.readableBytesView)
        if gateway.invokeWarm(function: name, head: head, uri: uri, body: bytes, done: done) { return }
        Trace.mark("gw to task")
        // A large body's pipe write can block: not on the event loop.
        if bytes.count <= Gateway.eventLoopBodyLimit {
            Task(executorPreference: executor) { done(await gateway.invocationParts(function: name, head: head, uri: uri, body: bytes)) }
        } else {
            Task { done(await gateway.invocationParts(function: name, head: head, uri: uri, body: bytes)) }
        }
    }

    func flushed() { Trace.mark("gw flushed") }

    /// "/function/NAME" or "/function/NAME?query" → NAME; anything else → nil.
    static func functionName(_ path: String?) -> String? {
        guard let path, path.hasPrefix("/function/") else { return nil }
        let rest = path.dropFirst("/function/".count)
        let name = rest.prefix { $0 != "?" && $0 != "/" && $0 != "#" }
        guard !name.isEmpty, rest.dropFirst(name.count).first != "/" else { return nil }
        return String(name)
    }
}
