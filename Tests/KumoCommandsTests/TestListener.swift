import Foundation
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
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listening >= 0)
        fd = listening
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            // sockaddr_in is laid out as a sockaddr for bind(2) and getsockname(2).
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) == 0 && getsockname(listening, $0, &length) == 0 }
        }
        try #require(bound && listen(listening, 64) == 0)
        port = Int(UInt16(bigEndian: address.sin_port))
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
