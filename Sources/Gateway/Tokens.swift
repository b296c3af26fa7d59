import Cluster
import Crypto
import Foundation

/// Bearer tokens: random, shown once, stored only as SHA-256.
enum Tokens {
    static func generate() -> String {
        var random = SystemRandomNumberGenerator()
        return "kumo_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }

    static func hash(_ token: String) -> String {
        hex(SHA256.hash(data: Data(token.utf8)))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
