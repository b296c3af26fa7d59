import Foundation
import Node

/// What a node publishes about itself under its lease: who it is, what it has and
/// what it uses. Gateways and `kumo nodes` read it; it goes with the node's lease.
public struct NodeRecord: Codable, Sendable, Equatable {
    public var name: String
    /// Where its internal API answers, e.g. http://10.0.0.5:9101.
    public var address: String
    /// `ClusterProtocol.version` of the node's kumo.
    public var version: String
    public var lease: Int64
    public var registered: Date
    public var published: Date
    public var capacity: NodeCapacity
    /// Each FPGA card and the bitstream it holds.
    public var cards: [FPGACardState]
    /// How late the node's heartbeats left (a node whose heartbeats run late risks being counted lost).
    public var heartbeatDelays: HeartbeatDelays?
    /// Content hashes of the images its pool holds read and sealed: a cold start of one reads
    /// and fetches nothing (absent in records of nodes that publish none).
    public var images: [String]?

    public init(name: String, address: String, version: String, lease: Int64, registered: Date, published: Date, capacity: NodeCapacity,
                cards: [FPGACardState], images: [String]? = nil) {
        self.images = images
        self.name = name
        self.address = address
        self.version = version
        self.lease = lease
        self.registered = registered
        self.published = published
        self.capacity = capacity
        self.cards = cards
    }
}

/// How late a node's recent heartbeats left against their schedule, in milliseconds.
public struct HeartbeatDelays: Codable, Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    init(_ seconds: [Double]) {
        let sorted = seconds.sorted()
        // Milliseconds, to the hundredth.
        func at(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : (sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))] * 100_000).rounded() / 100
        }
        count = sorted.count
        p50 = at(0.5)
        p99 = at(0.99)
        p999 = at(0.999)
        max = at(1)
    }
}

/// The version of what nodes and gateways say to each other: a gateway refuses a node of another.
public enum ClusterProtocol {
    public static let version = "kumo-cluster/4"

    /// `http://HOST:PORT` → its host and port; nil for anything else (a node's API is plain HTTP).
    public static func endpoint(_ address: String) -> (host: String, port: Int)? {
        guard let url = URLComponents(string: address), url.scheme == "http", let host = url.host, !host.isEmpty,
              let port = url.port, (1...65535).contains(port), url.path.isEmpty || url.path == "/", url.query == nil else { return nil }
        return (host, port)
    }
}

/// Where the cluster's membership lives in etcd.
public enum ClusterKeys {
    /// `/kumo/nodes/NAME`: a node's record, attached to its lease (it goes when the node does).
    public static let nodes = "/kumo/nodes/"
    /// `/kumo/node-names/NAME`: every name that ever registered (no lease): a name here
    /// without a record under `nodes` is a lost node.
    public static let nodeNames = "/kumo/node-names/"

    /// `/kumo/gateways/NAME`: a gateway's URL, attached to its lease.
    public static let gateways = "/kumo/gateways/"

    public static func node(_ name: String) -> String { nodes + name }
    public static func nodeName(_ name: String) -> String { nodeNames + name }
}

/// Node names: what may follow /kumo/nodes/ and appear in headers.
public enum NodeName {
    public static func isValid(_ name: String) -> Bool {
        (1...63).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
            && name.first != "-"
    }
}
