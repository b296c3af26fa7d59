import Cluster
import Crypto
import Foundation

/// Bearer tokens: random, shown once, stored only as SHA-256.
enum Tokens {
    static func generate() -> String { "kumo_" + Hex.random(bytes: 32) }

    static func hash(_ token: String) -> String {
        Hex.string(SHA256.hash(data: Data(token.utf8)))
    }
}
