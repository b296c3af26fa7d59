import Cluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where async-call callbacks may go. By default nowhere private: not loopback,
/// link-local (the cloud metadata address among them), private, shared,
/// multicast or reserved ranges, checked on every address the name resolves to
/// (the gateway would otherwise be a scanner of its own network). Operators
/// allow ranges of their own with `kumo serve --callback-allow CIDR`.
public struct CallbackPolicy: Sendable {
    /// An address range: 16 bytes (IPv4 as ::ffff:a.b.c.d) and a prefix length.
    public struct Range: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        /// "10.0.0.0/8", "fd00::/8", "127.0.0.1" (a single address); nil when malformed.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard let address = CallbackPolicy.parse(parts[0]) else { return nil }
            let isV4 = !parts[0].contains(":")
            let full = isV4 ? 32 : 128
            var length = full
            if parts.count == 2 {
                guard let n = Int(parts[1]), (0...full).contains(n) else { return nil }
                length = n
            }
            bytes = address
            prefix = isV4 ? 96 + length : length
        }

        func contains(_ address: [UInt8]) -> Bool {
            for bit in 0..<prefix where (address[bit / 8] ^ bytes[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
            return true
        }
    }

    static let forbidden: [Range] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap(Range.init)

    public var allowed: [Range]

    public init(allowed: [Range] = []) { self.allowed = allowed }

    public enum Refusal: Error, CustomStringConvertible, Sendable {
        case malformed(String)
        case unresolvable(String)
        case privateAddress(String)
        public var description: String {
            switch self {
            case .malformed(let why): return why
            case .unresolvable(let host): return "cannot resolve \(host)"
            case .privateAddress(let address):
                return "\(address) is a loopback, private or reserved address; callbacks go to public addresses (an operator may allow a range with kumo serve --callback-allow)"
            }
        }
    }

    /// Checks a callback URL as a client sent it: http(s), a host, no user:password.
    public static func checkForm(_ raw: String) throws(Refusal) -> URL {
        guard raw.count <= 2048, let url = URL(string: raw), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            throw .malformed("X-Callback-Url '\(raw.prefix(100))' is not an http(s) URL")
        }
        guard url.user == nil, url.password == nil else {
            throw .malformed("X-Callback-Url must not carry user:password; put a token in its path or query instead")
        }
        return url
    }

    /// Every address `host` resolves to, each of them allowed; the first is where to connect.
    public func vet(host: String, port: Int) throws(Refusal) -> String {
        let addresses = Self.resolve(host, port: port)
        guard let first = addresses.first else { throw .unresolvable(host) }
        for address in addresses {
            guard let bytes = Self.parse(address) else { throw .unresolvable(host) }
            if Self.forbidden.contains(where: { $0.contains(bytes) }) || Self.embedsForbiddenV4(bytes),
               !allowed.contains(where: { $0.contains(bytes) }) {
                throw .privateAddress(address)
            }
        }
        return first
    }

    /// NAT64 and 6to4-style forms that carry an IPv4 address in their low bits are judged by it.
    static func embedsForbiddenV4(_ bytes: [UInt8]) -> Bool {
        guard bytes[0] == 0x20, bytes[1] == 0x02 else { return false }
        let v4 = [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + bytes[2..<6]
        return forbidden.contains { $0.contains(v4) }
    }

    /// An address literal as 16 bytes, IPv4 mapped.
    static func parse(_ text: String) -> [UInt8]? {
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + withUnsafeBytes(of: &v4) { Array($0) }
        }
        return nil
    }

    /// getaddrinfo's answers, as numeric strings.
    static func resolve(_ host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out: [String] = []
        var entry = list
        while let info = entry?.pointee {
            var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.ai_addr, info.ai_addrlen, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0 {
                out.append(String(cString: name))
            }
            entry = info.ai_next
        }
        return out
    }
}
