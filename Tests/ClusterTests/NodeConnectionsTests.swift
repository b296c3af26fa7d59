import Foundation
import KumoTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
@testable import Cluster

/// A TCP server on 127.0.0.1 that runs `serve` on each connection it accepts (on a thread
/// of its own), for the ways a node can behave on the wire.
final class ScriptedServer: Sendable {
    let port: Int
    private let fd: Int32
    private final class Count: Sendable { let value = Atomic<Int>(0) }
    private let count = Count()

    init(_ serve: @escaping @Sendable (Int32) -> Void) throws {
        let (listening, bound) = try #require(LoopbackSocket.bind())
        try #require(listen(listening, 16) == 0)
        fd = listening
        port = bound
        Thread { [count] in
            while true {
                let client = accept(listening, nil, nil)
                if client < 0 { return }
                count.value.add(1, ordering: .relaxed)
                Thread {
                    serve(client)
                    close(client)
                }.start()
            }
        }.start()
    }

    var accepted: Int { count.value.load(ordering: .relaxed) }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// Reads one request (head and Content-Length body); false at end of stream.
    static func readRequest(_ fd: Int32) -> Bool {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while !received.suffix(4).elementsEqual([13, 10, 13, 10]) {
            guard read(fd, &byte, 1) == 1 else { return false }
            received.append(byte)
        }
        let head = String(decoding: received, as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        for _ in 0..<length where read(fd, &byte, 1) != 1 { return false }
        return true
    }

    static func write(_ fd: Int32, _ text: String) {
        _ = text.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}

@Suite("NodeConnections: a gateway's keep-alive connections to nodes")
struct NodeConnectionsTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    func send(_ connections: NodeConnections, port: Int, body: String = "ping",
              within deadline: TimeAmount = .seconds(10)) -> NodeConnections.Call {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/internal/v1/invoke",
                                   headers: ["Host": "127.0.0.1", "Content-Length": "\(body.utf8.count)"])
        return connections.send(head, body: Array(body.utf8), host: "127.0.0.1", port: port, on: loop, deadline: .now() + deadline)
    }

    func failure(of call: NodeConnections.Call) async -> NodeConnections.Failure? {
        do {
            _ = try await call.answer.get()
            return nil
        } catch { return error as? NodeConnections.Failure }
    }

    @Test func answersComeBackAndOneConnectionCarriesRequestAfterRequest() async throws {
        let server = try ScriptedServer { fd in
            while ScriptedServer.readRequest(fd) {
                ScriptedServer.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-kumo-outcome: ok\r\n\r\nhello")
            }
        }
        let connections = NodeConnections()
        for _ in 0..<3 {
            let answer = try await send(connections, port: server.port).answer.get()
            #expect(answer.status == .ok && String(buffer: answer.body) == "hello" && answer.headers.first(name: "x-kumo-outcome") == "ok")
        }
        #expect(server.accepted == 1, "the connection is kept for the next request")
    }

    @Test func aNodeThatSaysCloseGetsANewConnectionNextTime() async throws {
        let server = try ScriptedServer { fd in
            if ScriptedServer.readRequest(fd) { ScriptedServer.write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok") }
        }
        let connections = NodeConnections()
        for _ in 0..<2 { #expect(try await send(connections, port: server.port).answer.get().status == .ok) }
        #expect(server.accepted == 2)
    }

    @Test func aRefusedConnectionSaysNothingWasSent() async throws {
        let (fd, port) = try #require(LoopbackSocket.bind())
        close(fd)  // bound once, never listening: connections to it are refused
        guard case .connect? = await failure(of: send(NodeConnections(), port: port)) else {
            Issue.record("a refused connection is .connect")
            return
        }
    }

    @Test func aSilentNodeTimesOutAndACancelEndsTheWaitAtOnce() async throws {
        let server = try ScriptedServer { fd in
            _ = ScriptedServer.readRequest(fd)
            var byte: UInt8 = 0
            _ = read(fd, &byte, 1)  // holds the connection until the client closes it
        }
        let connections = NodeConnections()
        guard case .timedOut? = await failure(of: send(connections, port: server.port, within: .milliseconds(300))) else {
            Issue.record("a node that never answers times out")
            return
        }
        let call = send(connections, port: server.port, within: .seconds(60))
        try await waitFor("the second request's connection") { server.accepted == 2 }
        call.cancel()
        guard case .cancelled? = await failure(of: call) else {
            Issue.record("a cancelled call fails as .cancelled")
            return
        }
    }

    @Test func aNodeThatHangsUpOrAnswersTooMuchIsLost() async throws {
        let hangsUp = try ScriptedServer { fd in _ = ScriptedServer.readRequest(fd) }
        guard case .lost(let why)? = await failure(of: send(NodeConnections(), port: hangsUp.port)) else {
            Issue.record("a node that closes before answering is .lost")
            return
        }
        #expect(why.contains("closed the connection"))
        let talksTooMuch = try ScriptedServer { fd in
            if ScriptedServer.readRequest(fd) {
                ScriptedServer.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + String(repeating: "x", count: 2000))
            }
        }
        guard case .lost(let tooMuch)? = await failure(of: send(NodeConnections(answerLimit: 1000), port: talksTooMuch.port)) else {
            Issue.record("an answer over the limit is .lost")
            return
        }
        #expect(tooMuch.contains("over 1000 bytes"))
    }

    @Test func onlyPlainHTTPNodeAddressesAreTaken() {
        #expect(ClusterProtocol.endpoint("http://127.0.0.1:9101")! == ("127.0.0.1", 9101))
        #expect(ClusterProtocol.endpoint("http://node-1.example:80/")! == ("node-1.example", 80))
        for bad in ["https://127.0.0.1:9101", "127.0.0.1:9101", "http://127.0.0.1", "http://127.0.0.1:0", "http://:9101",
                    "http://127.0.0.1:9101/path", "http://127.0.0.1:99999"] {
            #expect(ClusterProtocol.endpoint(bad) == nil, "\(bad)")
        }
    }
}
