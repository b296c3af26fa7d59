import Foundation
import KumoSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections from a gateway to node agents, for invocations only:
/// per node and event loop, idle connections wait for the next request, each carrying one
/// request at a time. Built on SwiftNIO's HTTP codec rather than AsyncHTTPClient, whose
/// per-request machinery (request bag, tracing span, pool state machine) cost the gateway
/// ~250 µs of CPU per invocation on this machine: most of the hop.
final class NodeConnections: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    enum Failure: Error, CustomStringConvertible {
        /// No connection could be made: nothing was sent.
        case connect(String)
        /// The connection failed or closed after the request was sent, or the answer was bad.
        case lost(String)
        case timedOut
        /// `Call.cancel`: the node left the cluster.
        case cancelled

        var description: String {
            switch self {
            case .connect(let why): return "cannot connect: \(why)"
            case .lost(let why): return why
            case .timedOut: return "no answer before the deadline"
            case .cancelled: return "cancelled"
            }
        }
    }

    /// One request in flight; `cancel` ends it at once (its connection is closed).
    final class Call: Sendable {
        let answer: EventLoopFuture<Answer>
        private let promise: EventLoopPromise<Answer>
        private let channel = Mutex<(any Channel)?>(nil)
        private let cancelled = Atomic<Bool>(false)

        init(_ promise: EventLoopPromise<Answer>) {
            self.promise = promise
            answer = promise.futureResult
        }

        func cancel() {
            cancelled.store(true, ordering: .relaxed)
            promise.fail(Failure.cancelled)  // first: the close would fail it as lost
            channel.withLock { $0 }?.close(promise: nil)
        }

        /// False when the call was cancelled before it got its connection.
        fileprivate func attach(_ connection: any Channel) -> Bool {
            channel.withLock { $0 = connection }
            return !cancelled.load(ordering: .relaxed)
        }

        fileprivate func fail(_ failure: Failure) { promise.fail(failure) }
        fileprivate func succeed(_ answer: Answer) { promise.succeed(answer) }
    }

    private struct PoolKey: Hashable {
        var host: String
        var port: Int
        var loop: ObjectIdentifier
    }

    private let idle = Mutex<[PoolKey: [any Channel]]>([:])
    /// Idle connections kept per node and event loop; more are closed.
    static let idlePerLoop = 16
    /// The largest answer taken (the function's output).
    let answerLimit: Int
    let connectTimeout: TimeAmount

    init(answerLimit: Int = 1 << 30, connectTimeout: TimeAmount = .milliseconds(500)) {
        self.answerLimit = answerLimit
        self.connectTimeout = connectTimeout
    }

    /// Sends `head` and `body` to `host:port` on `loop` (the answer completes there).
    func send(_ head: HTTPRequestHead, body: [UInt8], host: String, port: Int, on loop: any EventLoop,
              deadline: NIODeadline) -> Call {
        let call = Call(loop.makePromise(of: Answer.self))
        let timer = loop.scheduleTask(deadline: deadline) { call.fail(.timedOut) }
        call.answer.whenComplete { _ in timer.cancel() }
        let key = PoolKey(host: host, port: port, loop: ObjectIdentifier(loop))
        if let channel = takeIdle(key) {
            run(call, head, body, on: channel, key: key)
            return call
        }
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [answerLimit] channel in
                channel.eventLoop.makeCompletedFuture {
                    // The headers are ours (fixed names, base64 values): checking each byte of them is wasted.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(AnswerCollector(limit: answerLimit))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel): self.run(call, head, body, on: channel, key: key)
                case .failure(let error): call.fail(.connect("\(error)"))
                }
            }
        return call
    }

    private func run(_ call: Call, _ head: HTTPRequestHead, _ body: [UInt8], on channel: any Channel, key: PoolKey) {
        guard call.attach(channel) else {
            channel.close(promise: nil)
            return
        }
        // Written at once when already on the connection's loop (the gateway's lane is): a
        // deferred write would wait for the rest of the loop's tick.
        if channel.eventLoop.inEventLoop { write(call, head, body, to: channel) } else {
            channel.eventLoop.execute { self.write(call, head, body, to: channel) }
        }
        call.answer.whenComplete { result in
            // Kept for the next request only when it ended cleanly and the node keeps it open.
            if case .success(let answer) = result, channel.isActive, answer.headers[canonicalForm: "connection"].first?.lowercased() != "close" {
                self.putIdle(channel, key: key)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    private func write(_ call: Call, _ head: HTTPRequestHead, _ body: [UInt8], to channel: any Channel) {
        do {
            try channel.pipeline.syncOperations.handler(type: AnswerCollector.self).expect(call)
        } catch {
            channel.close(promise: nil)
            return call.fail(.lost("the connection to the node is not usable: \(error)"))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        Trace.mark("gw sent to node")
    }

    private func takeIdle(_ key: PoolKey) -> (any Channel)? {
        idle.withLock { pool in
            while let channel = pool[key]?.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    private func putIdle(_ channel: any Channel, key: PoolKey) {
        let kept = idle.withLock { pool in
            pool[key, default: []].removeAll { !$0.isActive }
            guard pool[key, default: []].count < Self.idlePerLoop else { return false }
            pool[key, default: []].append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }
}

/// Gathers one answer per request on a node connection and completes its call.
private final class AnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let limit: Int
    private var call: NodeConnections.Call?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(limit: Int) {
        self.limit = limit
    }

    func expect(_ call: NodeConnections.Call) throws {
        guard self.call == nil else { throw NodeConnections.Failure.lost("the connection already carries a request") }
        self.call = call
        head = nil
        body.clear()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= limit else {
                return fail(.lost("the node's answer is over \(limit) bytes"), context: context)
            }
            body.writeBuffer(&chunk)
        case .end:
            Trace.mark("gw node answered")
            guard let head, let call else { return fail(.lost("the node answered a request it was not sent"), context: context) }
            self.call = nil
            call.succeed(NodeConnections.Answer(status: head.status, headers: head.headers, body: body))
            body = ByteBuffer()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(.lost("the connection to the node failed: \(error)"), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.fail(.lost("the node closed the connection before it answered"))
        call = nil
        context.fireChannelInactive()
    }

    private func fail(_ failure: NodeConnections.Failure, context: ChannelHandlerContext) {
        call?.fail(failure)
        call = nil
        context.close(promise: nil)
    }
}
