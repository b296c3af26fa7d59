import Foundation
import KumoTestSupport
import Synchronization
import Testing

/// A TCP listener on 127.0.0.1 that plays a callback receiver: it counts
/// connections and answers each with `reply` (nil: reads and never answers).
final class TestListener: Sendable {
    let port: Int
    private let fd: Int32
    private final class Count: Sendable { let value = Atomic<Int>(0) }
    private let accepted = Count()

    init(reply: String?) throws {
        let (listening, bound) = try #require(LoopbackSocket.bind())
        try #require(listen(listening, 64) == 0)
        fd = listening
        port = bound
        let counter = accepted
        Thread {
            var held: [Int32] = []  // a silent receiver keeps its connections open
            while true {
                let client = accept(listening, nil, nil)
                if client < 0 { break }
                counter.value.add(1, ordering: .relaxed)
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(client, &buffer, buffer.count)
                if let reply {
                    _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    close(client)
                } else {
                    held.append(client)
                }
            }
            held.forEach { close($0) }
        }.start()
    }

    var connections: Int { accepted.value.load(ordering: .relaxed) }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
