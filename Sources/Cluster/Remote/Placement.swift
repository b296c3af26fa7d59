import Foundation
import Node

/// Where an invocation goes in a cluster. The load balancer first: a node that
/// recently ran the function (warm instances likely) and has room takes it, the
/// less busy of two picked at random. Otherwise a cold start goes to a node that
/// fits: a free card that already holds the function's bitstream first, then a node
/// that holds the image read and sealed (preloaded), then the least loaded. Round robin and random exist to be measured against
/// (`kumo serve --balance`, `--placement`).
public enum Placement {
    /// How a request picks among nodes when the function may be warm.
    public enum Balance: String, CaseIterable, Sendable {
        case leastOfTwo = "least-of-two", roundRobin = "round-robin", random
    }

    /// How a cold start picks its node.
    public enum ColdStart: String, CaseIterable, Sendable {
        case affinity, random
    }

    public struct Policy: Sendable {
        public var balance: Balance
        public var coldStart: ColdStart
        public init(balance: Balance = .leastOfTwo, coldStart: ColdStart = .affinity) {
            self.balance = balance
            self.coldStart = coldStart
        }
    }

    public struct Candidate: Sendable {
        public var record: NodeRecord
        /// Requests this gateway has in flight on it now.
        public var inFlight: Int
        /// It served this function lately (its instances may still be warm).
        public var warm: Bool
        /// How many times longer than their CPU time requests took there lately (`NodeSlowdown`;
        /// 1: the node's CPU is its own; 0: not known).
        public var slowdown: Double

        public init(record: NodeRecord, inFlight: Int, warm: Bool, slowdown: Double = 0) {
            self.record = record
            self.inFlight = inFlight
            self.warm = warm
            self.slowdown = slowdown
        }

        var load: Int { inFlight + record.capacity.instances }
        /// What one more request is expected to wait there: a node whose CPU is shared or slow
        /// answers slower, so it takes fewer requests before its in-flight count shows it.
        var cost: Double { Double(inFlight + 1) * slowdown }
    }

    public enum Reason: String, Sendable {
        case warm, bitstreamHit = "bitstream-hit", preloaded, leastLoaded = "least-loaded", roundRobin = "round-robin", random
    }

    /// `turn` counts the function's requests, for round robin.
    public static func choose(for deployment: Deployment, among candidates: [Candidate], policy: Policy = Policy(),
                              turn: Int = 0, using random: inout some RandomNumberGenerator) -> (node: String, reason: Reason)? {
        let fits = candidates.filter { Self.fits(deployment, $0.record) }
        switch policy.balance {
        case .roundRobin:
            guard !fits.isEmpty else { return nil }
            return (fits.sorted { $0.record.name < $1.record.name }[turn % fits.count].record.name, .roundRobin)
        case .random:
            return fits.randomElement(using: &random).map { ($0.record.name, Reason.random) }
        case .leastOfTwo:
            // A warm node with its instances all busy would queue the request; a cold start elsewhere spreads it.
            let warm = candidates.filter { $0.warm && $0.inFlight < max(deployment.limits.maxInstances, 1) }
            if !warm.isEmpty {
                return (leastLoadedOfTwo(warm, using: &random).record.name, .warm)
            }
        }
        switch policy.coldStart {
        case .random:
            return fits.randomElement(using: &random).map { ($0.record.name, Reason.random) }
        case .affinity:
            if deployment.config.accelerator == .fpga {
                let holding = fits.filter { $0.record.cards.contains { Self.holds($0, deployment) } }
                if let best = holding.min(by: { $0.load < $1.load }) { return (best.record.name, .bitstreamHit) }
            }
            // For an FPGA function, a never-configured card comes first (configuring it replaces no one's
            // bitstream); then a node that holds the image preloaded, then the least loaded, then the
            // card idle longest: its bitstream is the least likely wanted.
            let fpga = deployment.config.accelerator == .fpga
            let ranked = fits.shuffled(using: &random).min { a, b in
                if fpga, hasBlankCard(a.record) != hasBlankCard(b.record) { return hasBlankCard(a.record) }
                if preloads(a.record, deployment) != preloads(b.record, deployment) { return preloads(a.record, deployment) }
                if a.load != b.load { return a.load < b.load }
                return fpga && oldestIdleCard(a.record) < oldestIdleCard(b.record)
            }
            return ranked.map { ($0.record.name, preloads($0.record, deployment) ? Reason.preloaded : Reason.leastLoaded) }
        }
    }

    /// Guest memory left for one more instance and, for an FPGA function, a free card.
    static func fits(_ deployment: Deployment, _ record: NodeRecord) -> Bool {
        let c = record.capacity
        let free = c.guestMemory - min(c.guestMemoryUsed, c.guestMemory)
        return free >= deployment.instanceMemory && (deployment.config.accelerator != .fpga || c.fpgasFree > 0)
    }

    /// A free card whose fabric holds what this function loads, for the same tenant
    /// (a tenant never learns from a card's timing what another tenant ran).
    static func holds(_ card: FPGACardState, _ deployment: Deployment) -> Bool {
        guard card.status == .free, card.loadedBitstream != nil, card.lastTenant == deployment.tenant else { return false }
        return card.lastFunction == deployment.name
            || (deployment.config.bitstream != nil && card.loadedBitstream == deployment.config.bitstream)
    }

    /// The node holds the function's image read and sealed: its cold start reads and fetches nothing.
    static func preloads(_ record: NodeRecord, _ deployment: Deployment) -> Bool {
        record.images?.contains(deployment.version) == true
    }

    static func hasBlankCard(_ record: NodeRecord) -> Bool {
        record.cards.contains { $0.status == .free && $0.loadedBitstream == nil }
    }

    /// When its longest-idle free card came free.
    static func oldestIdleCard(_ record: NodeRecord) -> Date {
        record.cards.filter { $0.status == .free }.map(\.since).min() ?? .distantFuture
    }

    /// Two picked at random, the one where a request is expected to wait less: fewer requests
    /// in flight, weighted by how shared its CPU was lately (in flight alone while either is unknown).
    static func leastLoadedOfTwo(_ nodes: [Candidate], using random: inout some RandomNumberGenerator) -> Candidate {
        guard nodes.count > 1 else { return nodes[0] }
        let a = Int.random(in: 0..<nodes.count, using: &random)
        var b = Int.random(in: 0..<(nodes.count - 1), using: &random)
        if b >= a { b += 1 }
        let (x, y) = (nodes[a], nodes[b])
        if x.slowdown > 0, y.slowdown > 0 { return x.cost <= y.cost ? x : y }
        return x.inFlight <= y.inFlight ? x : y
    }
}
