import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers one route's requests on the event loop: the request's parts are
/// gathered here and the answer is one call, instead of Hummingbird's async
/// request and response streams, which on this 2-core kvm-pvm machine cost
/// ~300 µs per request (a bare route answers in ~430 µs through them, ~100 µs
/// on plain SwiftNIO). Everything else, and a request that arrives while
/// Hummingbird still owes an earlier response on the same connection
/// (pipelining), passes through to Hummingbird, whose router must give the same
/// answers for the route.
public final class EventLoopResponder<Route: EventLoopRoute>: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case collecting(Route.Match, head: HTTPRequest, body: ByteBuffer)
        case answering
        /// Answered early (413): the rest of this request is dropped and the connection closed.
        case discarding
    }

    private let route: Route
    private var state = State.idle
    /// Requests passed to Hummingbird whose responses have not ended.
    private var forwardedOpen = 0
    /// Parts that arrived while an answer was pending (a pipelining client); replayed in order.
    private var queued: [HTTPRequestPart] = []
    private var loopExecutor: EventLoopTaskExecutor?

    public init(route: Route) {
        self.route = route
    }

    private func executor(for loop: any EventLoop) -> EventLoopTaskExecutor {
        if let made = loopExecutor { return made }
        let made = EventLoopTaskExecutor(loop)
        loopExecutor = made
        return made
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = state {
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { forwardedOpen = max(forwardedOpen - 1, 0) }
        context.write(data, promise: promise)
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            guard forwardedOpen == 0, let match = route.match(head) else {
                forwardedOpen += 1
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            if let length = head.headerFields[.contentLength].flatMap(Int.init), length > route.bodyLimit {
                return refuse(route.tooLarge(length: length), context: context)
            }
            state = .collecting(match, head: head, body: context.channel.allocator.buffer(capacity: 0))
        case (.collecting(let match, let head, var body), .body(var chunk)):
            guard body.readableBytes + chunk.readableBytes <= route.bodyLimit else {
                return refuse(route.tooLarge(length: nil), context: context)
            }
            state = .idle  // drop the reference before appending, so the buffer is not copied
            body.writeBuffer(&chunk)
            state = .collecting(match, head: head, body: body)
        case (.collecting(let match, let head, let body), .end):
            state = .answering
            answer(match, head: head, body: body, context: context)
        case (.discarding, _):
            return
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    private func answer(_ match: Route.Match, head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        let closeAfter = head.headerFields[.connection]?.lowercased().contains("close") == true
        let loop = context.eventLoop
        let promise = loop.makePromise(of: EventLoopAnswer.self)
        route.answer(match, head: head, body: body, executor: executor(for: loop)) { promise.succeed($0) }
        promise.futureResult.assumeIsolated().whenSuccess { status, headers, output in
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
        route.flushed()
    }

    private func refuse(_ answer: EventLoopAnswer, context: ChannelHandlerContext) {
        state = .discarding
        var fields = answer.1
        fields[.connection] = "close"
        respond(status: answer.0, headers: fields, body: answer.2, context: context)
        context.close(promise: nil)
    }

    private func replayQueued(context: ChannelHandlerContext) {
        guard !queued.isEmpty else { return }
        while !queued.isEmpty {
            if case .answering = state { break }
            handle(queued.removeFirst(), context: context)
        }
        // Outside a read cycle: the async channel behind us delivers what it got on read-complete.
        context.fireChannelReadComplete()
    }
}
