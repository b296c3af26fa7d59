import Foundation
import Testing

/// A plain TCP connection to a test server, for requests no HTTP client would
/// send: half-sent bodies, pipelining, slow and idle clients.
final class RawConnection {
    let fd: Int32

    /// `from`: the local address to connect from (any of 127.0.0.0/8 is this machine).
    init(port: Int, from source: String = "127.0.0.1", receiveTimeout seconds: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            // sockaddr_in is laid out as a sockaddr for bind(2).
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { close(fd) }
        try #require(bound == 0, "cannot bind to \(source): \(String(cString: strerror(errno)))")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            // sockaddr_in is laid out as a sockaddr for connect(2).
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(fd) }
        try #require(connected == 0, "cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        #expect(trySend(bytes), "the server closed the connection")
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// false once the server has closed its side (or the write failed).
    func trySend(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a server that closed its side must not SIGPIPE the test runner.
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// Whether the server has sent something (or closed) within `milliseconds`.
    func answered(within milliseconds: Int32) -> Bool {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&waiting, 1, milliseconds) > 0
    }

    /// The response's status line and headers (empty when none came before the receive timeout).
    func readHead() -> String {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while !received.suffix(4).elementsEqual([13, 10, 13, 10]), read(fd, &byte, 1) == 1 { received.append(byte) }
        return String(decoding: received, as: UTF8.self)
    }

    /// One response: its head, and its body as long as its Content-Length says.
    func readResponse() -> (head: String, body: String) {
        let head = readHead()
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        var body = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = body.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, length - got) }  // in bounds: got < length
            if n <= 0 { break }
            got += n
        }
        return (head, String(decoding: body.prefix(got), as: UTF8.self))
    }

    /// Everything until the server closes the connection (or the receive timeout).
    func readToEnd() -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
