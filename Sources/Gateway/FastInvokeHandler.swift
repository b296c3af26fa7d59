import Cluster
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Tender

/// Answers `POST /function/{name}` on the event loop: the request's parts are
/// gathered here and the invocation is one task, instead of Hummingbird's
/// async request and response streams, which on this 2-core kvm-pvm machine
/// cost ~300 µs per request (a bare route answers in ~430 µs through them,
/// ~100 µs on plain SwiftNIO). Everything else, and a /function request that
/// arrives while Hummingbird still owes an earlier response on the same
/// connection (pipelining), passes through to Hummingbird, whose route gives the
/// same answers.
final class FastInvokeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case collecting(name: String, head: HTTPRequest, body: ByteBuffer)
        case invoking
        /// Answered early (413): the rest of this request is dropped and the connection closed.
        case discarding
    }

    private let gateway: Gateway
    private var state = State.idle
    /// Requests passed to Hummingbird whose responses have not ended.
    private var forwardedOpen = 0
    /// Parts that arrived while an invocation ran (a pipelining client); replayed in order.
    private var queued: [HTTPRequestPart] = []

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    private var loopExecutor: EventLoopTaskExecutor?

    private func executor(for loop: any EventLoop) -> EventLoopTaskExecutor {
        if let made = loopExecutor { return made }
        let made = EventLoopTaskExecutor(loop)
        loopExecutor = made
        return made
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .invoking = state {
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { forwardedOpen = max(forwardedOpen - 1, 0) }
        context.write(data, promise: promise)
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            Trace.mark("gw head")
            guard forwardedOpen == 0, head.method == .post, let name = Self.functionName(head.path) else {
                forwardedOpen += 1
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            let limit = gateway.configuration.bodyLimit
            if let length = head.headerFields[.contentLength].flatMap(Int.init), length > limit {
                return refuse(.tooLarge("the body is \(length) bytes; this gateway takes at most \(limit) (kumo serve --body-limit)"),
                              context: context)
            }
            state = .collecting(name: name, head: head, body: context.channel.allocator.buffer(capacity: 0))
        case (.collecting(let name, let head, var body), .body(var chunk)):
            let limit = gateway.configuration.bodyLimit
            guard body.readableBytes + chunk.readableBytes <= limit else {
                return refuse(.tooLarge("the body is over \(limit) bytes, the most this gateway takes (kumo serve --body-limit)"),
                              context: context)
            }
            state = .idle  // drop the reference before appending, so the buffer is not copied
            body.writeBuffer(&chunk)
            state = .collecting(name: name, head: head, body: body)
        case (.collecting(let name, let head, let body), .end):
            state = .invoking
            invoke(name: name, head: head, body: body, context: context)
        case (.discarding, _):
            return
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    private func invoke(name: String, head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        let gateway = self.gateway
        let uri = URI(head.path ?? "/")
        let bytes = Array(body.readableBytesView)
        let closeAfter = head.headerFields[.connection]?.lowercased().contains("close") == true
        let loop = context.eventLoop
        let promise = loop.makePromise(of: (HTTPResponse.Status, HTTPFields, [UInt8]).self)
        // A warm instance: straight to its process from here, answered from its reader thread.
        // Otherwise a task goes through the scheduler (cold start, queue, errors).
        if !gateway.invokeWarm(function: name, head: head, uri: uri, body: bytes, done: { promise.succeed($0) }) {
            Trace.mark("gw to task")
            if bytes.count <= Gateway.eventLoopBodyLimit {
                Task(executorPreference: executor(for: loop)) {
                    promise.succeed(await gateway.invocationParts(function: name, head: head, uri: uri, body: bytes))
                }
            } else {
                promise.completeWithTask { await gateway.invocationParts(function: name, head: head, uri: uri, body: bytes) }
            }
        }
        promise.futureResult.assumeIsolated().whenSuccess { status, headers, output in
            Trace.mark("gw respond")
            self.respond(status: status, headers: headers, body: output, context: context)
            if closeAfter {
                context.close(promise: nil)
                return
            }
            self.state = .idle
            self.replayQueued(context: context)
        }
    }

    private func respond(status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8], context: ChannelHandlerContext) {
        var fields = headers
        fields[.contentLength] = "\(body.count)"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        Trace.mark("gw flushed")
    }

    private func refuse(_ error: GatewayError, context: ChannelHandlerContext) {
        state = .discarding
        let (status, headers, body) = error.parts()
        var fields = headers
        fields[.connection] = "close"
        respond(status: status, headers: fields, body: body, context: context)
        context.close(promise: nil)
    }

    private func replayQueued(context: ChannelHandlerContext) {
        guard !queued.isEmpty else { return }
        while !queued.isEmpty {
            if case .invoking = state { break }
            handle(queued.removeFirst(), context: context)
        }
        // Outside a read cycle: the async channel behind us delivers what it got on read-complete.
        context.fireChannelReadComplete()
    }

    /// "/function/NAME" or "/function/NAME?query" → NAME; anything else → nil.
    static func functionName(_ path: String?) -> String? {
        guard let path, path.hasPrefix("/function/") else { return nil }
        let rest = path.dropFirst("/function/".count)
        let name = rest.prefix { $0 != "?" && $0 != "/" && $0 != "#" }
        guard !name.isEmpty, rest.dropFirst(name.count).first != "/" else { return nil }
        return String(name)
    }
}
