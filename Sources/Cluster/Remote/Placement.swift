import Node

/// Where an invocation goes in a cluster. A node that recently ran the function
/// (warm instances likely) takes it, the less busy of two picked at random (the
/// load balancer); otherwise a cold start goes to a node that fits: a free card
/// that already holds the function's bitstream first, then the least loaded.
public enum Placement {
    public struct Candidate: Sendable {
        public var record: NodeRecord
        /// Requests this gateway has in flight on it now.
        public var inFlight: Int
        /// It served this function lately (its instances may still be warm).
        public var warm: Bool

        public init(record: NodeRecord, inFlight: Int, warm: Bool) {
            self.record = record
            self.inFlight = inFlight
            self.warm = warm
        }

        var load: Int { inFlight + record.capacity.instances }
    }

    public enum Reason: String, Sendable {
        case warm, bitstreamHit = "bitstream-hit", leastLoaded = "least-loaded"
    }

    public static func choose(for deployment: Deployment, among candidates: [Candidate],
                              using random: inout some RandomNumberGenerator) -> (node: String, reason: Reason)? {
        let warm = candidates.filter(\.warm)
        if !warm.isEmpty {
            return (leastLoadedOfTwo(warm, using: &random).record.name, .warm)
        }
        let needsCard = deployment.config.accelerator == .fpga
        let fits = candidates.filter { c in
            let free = c.record.capacity.guestMemory - min(c.record.capacity.guestMemoryUsed, c.record.capacity.guestMemory)
            return free >= deployment.instanceMemory && (!needsCard || c.record.capacity.fpgasFree > 0)
        }
        if needsCard {
            let holding = fits.filter { c in c.record.cards.contains { $0.status == .free && $0.lastFunction == deployment.name } }
            if let best = holding.min(by: { $0.load < $1.load }) { return (best.record.name, .bitstreamHit) }
        }
        guard let best = fits.min(by: { $0.load < $1.load }) else { return nil }
        return (best.record.name, .leastLoaded)
    }

    /// Two picked at random, the one with fewer requests in flight.
    static func leastLoadedOfTwo(_ nodes: [Candidate], using random: inout some RandomNumberGenerator) -> Candidate {
        guard nodes.count > 1 else { return nodes[0] }
        let a = Int.random(in: 0..<nodes.count, using: &random)
        var b = Int.random(in: 0..<(nodes.count - 1), using: &random)
        if b >= a { b += 1 }
        return nodes[a].inFlight <= nodes[b].inFlight ? nodes[a] : nodes[b]
    }
}
