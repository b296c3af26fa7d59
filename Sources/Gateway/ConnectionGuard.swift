import Cluster
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Open connections, counted in all and per client address, so that no one
/// client (a slowloris holding half-sent requests) can take every descriptor
/// the gateway has. Shared by every connection's `ConnectionGuard`.
final class ConnectionCounts: Sendable {
    let total: Int
    let perClient: Int
    private let counts = Mutex<(all: Int, byClient: [String: Int])>((0, [:]))

    init(total: Int, perClient: Int) {
        self.total = total
        self.perClient = perClient
    }

    /// Counts a new connection; nil when it fits, else why it does not.
    func open(_ client: String) -> String? {
        counts.withLock { c in
            if c.all >= total { return "this gateway has \(total) connections open, its most (kumo serve --max-connections)" }
            if c.byClient[client, default: 0] >= perClient {
                return "\(client) has \(perClient) connections open, the most one client may (kumo serve --max-client-connections)"
            }
            c.all += 1
            c.byClient[client, default: 0] += 1
            return nil
        }
    }

    func close(_ client: String) {
        counts.withLock { c in
            c.all -= 1
            let left = c.byClient[client, default: 1] - 1
            c.byClient[client] = left > 0 ? left : nil
        }
    }
}

/// First in each connection's pipeline: a connection over the caps gets a 503
/// that says why at its first request, then is closed; nothing of it reaches
/// the routes.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Standing {
        case new
        case counted(client: String)
        case refused(why: String)
        case answered
    }

    private let counts: ConnectionCounts
    private var standing = Standing.new

    init(counts: ConnectionCounts) {
        self.counts = counts
    }

    // The pipeline may be set up after the connection went active (then channelActive never
    // comes here): count it once, at whichever of these, or the first read, comes first.
    func handlerAdded(context: ChannelHandlerContext) {
        if case .new = standing, context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .new = standing { admit(context) }
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        standing = counts.open(address).map { .refused(why: $0) } ?? .counted(client: address)
        if case .refused = standing {
            // Not counted, so not kept: a refused connection that sends no request goes within a second.
            let channel = context.channel
            context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .counted(let client) = standing { counts.close(client) }
        standing = .answered
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .new = standing { admit(context) }  // neither event above reached this handler
        switch standing {
        case .counted: context.fireChannelRead(data)
        case .new, .answered: break  // the rest of a refused connection's input (.new cannot remain here)
        case .refused(let why):
            guard case .head = unwrapInboundIn(data) else { return }
            standing = .answered
            let (status, fields, body) = GatewayError.unavailable(why, retryAfter: 1).parts()
            var head = HTTPResponse(status: status, headerFields: fields)
            head.headerFields[.connection] = "close"
            head.headerFields[.contentLength] = "\(body.count)"
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }
}
