import Foundation
import Node
import Synchronization

/// A gateway's view of each node's FPGA cards: the node's last published record
/// (at most once a second) plus the FPGA cold starts this gateway sent there
/// since. Without it a request that follows another by less than a second would
/// not see the bitstream the first one left on its card.
final class CardView: Sendable {
    struct Placed: Sendable {
        var id: UInt64
        var tenant: String
        var function: String
        var bitstream: String?
        var at: Date
        /// When its instance ended (the node releases the card right after).
        var ended: Date?
    }

    /// A record published this long after an instance ended shows its card released (its
    /// process stopped): a loaded node can take hundreds of ms to tear a VM down.
    static let settle: TimeInterval = 1
    private let placed = Mutex<[String: [Placed]]>([:])
    private let ids = Atomic<UInt64>(0)

    /// A cold start of an FPGA function sent to `node`; returns its id for `ended`.
    func place(_ deployment: Deployment, on node: String) -> UInt64 {
        let id = ids.add(1, ordering: .relaxed).newValue
        let entry = Placed(id: id, tenant: deployment.tenant, function: deployment.name,
                           bitstream: deployment.config.bitstream, at: Date())
        placed.withLock { $0[node, default: []].append(entry) }
        return id
    }

    /// The request ended; `instanceEnded`: its instance (and card) went with it.
    func finished(_ id: UInt64, on node: String, instanceEnded: Bool) {
        placed.withLock { all in
            guard let at = all[node]?.firstIndex(where: { $0.id == id }) else { return }
            if instanceEnded { all[node]?[at].ended = Date() } else { all[node]?.remove(at: at) }
        }
    }

    func forget(_ node: String) { placed.withLock { _ = $0.removeValue(forKey: node) } }

    /// The record with this gateway's placements since it was published applied to its cards.
    func current(_ record: NodeRecord) -> NodeRecord {
        let pending: [Placed] = placed.withLock { all in
            all[record.name]?.removeAll { $0.ended.map { record.published.timeIntervalSince($0) > Self.settle } ?? false }
            return all[record.name] ?? []
        }
        guard !pending.isEmpty, !record.cards.isEmpty else { return record }
        var view = record
        for p in pending { apply(p, to: &view.cards) }
        view.capacity.fpgasFree = view.cards.filter { $0.status == .free }.count
        return view
    }

    /// Where the node put it, as the node picks: the card it was granted, else the card
    /// holding its bitstream (free, or coming back from a stopping instance), else one never
    /// configured, else the one idle longest.
    private func apply(_ p: Placed, to cards: inout [FPGACardState]) {
        let mine = { (c: FPGACardState) in c.lastTenant == p.tenant && c.lastFunction == p.function }
        let granted = cards.firstIndex { $0.status == .granted && $0.function == p.function && $0.tenant == p.tenant }
        let free = cards.indices.filter { cards[$0].status == .free }
        let holding = free.first { i in
            cards[i].lastTenant == p.tenant && cards[i].loadedBitstream != nil
                && (mine(cards[i]) || (p.bitstream != nil && cards[i].loadedBitstream == p.bitstream))
        }
        // A card still granted to an instance that is stopping: the node waits for it rather than take another.
        let comingBack = cards.firstIndex { c in
            c.status == .granted && c.tenant == p.tenant
                && (c.function == p.function || (p.bitstream != nil && c.loadedBitstream == p.bitstream))
        }
        guard let index = granted ?? holding ?? comingBack ?? free.first(where: { cards[$0].loadedBitstream == nil })
                ?? free.min(by: { cards[$0].since < cards[$1].since }) else { return }
        cards[index].lastTenant = p.tenant
        cards[index].lastFunction = p.function
        if let ended = p.ended {
            cards[index].status = .free
            cards[index].since = ended
            // What it loaded is unknown here when the image names no bitstream; its function matches it still.
            cards[index].loadedBitstream = p.bitstream ?? cards[index].loadedBitstream ?? "function:" + p.function
        } else {
            cards[index].status = .granted
            cards[index].tenant = p.tenant
            cards[index].function = p.function
        }
    }
}
