import Foundation
import HostCards
import InstanceWire

/// What backs one of a node's cards: the emulator (kernels on the host's OpenCL runtime),
/// or a real PCI card found through libvirt.
public enum FPGAHardware: Sendable, Equatable {
    case emulated
    case pci(PCICard)

    public static func emulated(_ count: Int) -> [FPGAHardware] { Array(repeating: .emulated, count: max(count, 0)) }
}

/// One card as `kumo accelerators` shows it.
public struct FPGACardState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case free, granted, outOfService = "out-of-service" }
    public enum Kind: String, Codable, Sendable { case emulated, pci }
    public var name: String
    public var kind: Kind = .emulated
    /// A real card's PCI address, ids, IOMMU group, driver and passthrough state.
    public var pci: PCICard?
    public var status: Status
    public var tenant: String?
    public var function: String?
    public var instance: String?
    /// When the card entered its present status.
    public var since: Date
    /// The bitstream the fabric holds (kept across grants), and the function and tenant that loaded it.
    public var loadedBitstream: String?
    public var lastFunction: String?
    public var lastTenant: String?
    public var reconfigurations: Int
    public var grants: Int
}

/// A grant or a release, for the node's record.
public struct FPGAGrantEvent: Sendable {
    public enum Kind: String, Sendable { case grant, release }
    public var kind: Kind
    public var card: String
    public var tenant: String
    public var function: String
    public var instance: String
    public var detail: String
    public var at: Date
}

public enum FPGAAllocationError: Error, CustomStringConvertible, Sendable {
    case noneFree(waited: Duration, cards: Int)
    case noCards
    public var description: String {
        switch self {
        case .noCards: return "this node has no FPGAs (kumo serve --fpgas N)"
        case .noneFree(let waited, let cards):
            return "all \(cards) FPGAs are granted to other instances; none came free in \(waited); retry later"
        }
    }
}

/// The node's FPGAs, emulated or real. A card belongs to one tenant's instance at a
/// time, like a HIL node allocated to one project; the instance's process
/// scrubs its device memory before it reports the release, and the fabric
/// keeps its bitstream, so the same function can skip reconfiguration.
public actor FPGAInventory {
    public let reconfigureCost: Duration
    private var cards: [FPGACardState]
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Int?, Never>)] = []
    private var nextWaiter: UInt64 = 0
    private let record: @Sendable (FPGAGrantEvent) -> Void
    /// Granted cards whose instance is stopping.
    private var releasing: Set<Int> = []
    static let holderWait = Duration.seconds(1)

    /// The cards are named fpga0, fpga1, ... in the order given.
    public init(hardware: [FPGAHardware], reconfigureCost: Duration, record: @escaping @Sendable (FPGAGrantEvent) -> Void) {
        self.reconfigureCost = reconfigureCost
        self.record = record
        cards = hardware.enumerated().map { index, backing in
            var card = FPGACardState(name: "fpga\(index)", status: .free, since: Date(), reconfigurations: 0, grants: 0)
            if case .pci(let pci) = backing {
                card.kind = .pci
                card.pci = pci
            }
            return card
        }
    }

    public func snapshot() -> [FPGACardState] { cards }
    public var count: Int { cards.count }
    public var freeCount: Int { cards.filter { $0.status == .free }.count }
    /// Starts waiting for a card.
    var waiting: Int { waiters.count }

    /// What a grant is for: `bitstream` is the xclbin uuid the function's image carries, if known.
    public struct Claim: Sendable {
        public var tenant: String
        public var function: String
        public var bitstream: String?
        public var instance: String
        public init(tenant: String, function: String, bitstream: String?, instance: String) {
            self.tenant = tenant
            self.function = function
            self.bitstream = bitstream
            self.instance = instance
        }
    }

    /// Grants a free card, one whose fabric holds what the claim needs if there is
    /// one; waits up to `patience` for a release, then refuses.
    public func acquire(_ claim: Claim, patience: Duration) async throws(FPGAAllocationError) -> FPGAGrantInfo {
        guard !cards.isEmpty else { throw .noCards }
        let deadline = ContinuousClock.now + patience
        // A card that holds the claim's bitstream and is on its way back is worth a short wait:
        // taking another card would replace that card's bitstream too.
        let holderDeadline = ContinuousClock.now + min(patience, Self.holderWait)
        while true {
            let holderComing = ContinuousClock.now < holderDeadline
                && cards.indices.contains { releasing.contains($0) && holds(cards[$0], claim) }
            if !holderComing, let index = pick(claim) {
                return grant(index, claim)
            }
            let left = (holderComing ? holderDeadline : deadline) - ContinuousClock.now
            guard left > .zero, cards.contains(where: { $0.status != .outOfService }) else {
                throw .noneFree(waited: patience, cards: cards.count)
            }
            nextWaiter += 1
            let id = nextWaiter
            let timer = Task { [weak self] in
                try? await Task.sleep(for: left)
                await self?.wake(id)
            }
            _ = await withCheckedContinuation { waiters.append((id, $0)) }
            timer.cancel()
        }
    }

    /// The instance holding the card is stopping: `release` follows.
    public func releasing(card name: String) {
        if let index = cards.firstIndex(where: { $0.name == name }), cards[index].status == .granted { releasing.insert(index) }
    }

    /// The stopping instance took another request instead: its card stays granted.
    public func kept(card name: String) {
        if let index = cards.firstIndex(where: { $0.name == name }) { releasing.remove(index) }
    }

    /// The instance's process ended; `stopped` is what it reported (nil: it died
    /// without saying, so the fabric's content is unknown).
    public func release(card name: String, stopped: InstanceStopped?, reason: String) {
        guard let index = cards.firstIndex(where: { $0.name == name }), cards[index].status == .granted else { return }
        releasing.remove(index)
        let c = cards[index]
        record(FPGAGrantEvent(kind: .release, card: name, tenant: c.tenant ?? "", function: c.function ?? "",
                              instance: c.instance ?? "", detail: reason, at: Date()))
        cards[index].status = stopped?.wedged == true ? .outOfService : .free
        cards[index].tenant = nil
        cards[index].instance = nil
        cards[index].function = nil
        cards[index].since = Date()
        cards[index].loadedBitstream = stopped?.loadedBitstream
        cards[index].reconfigurations += stopped?.reconfigurations ?? 0
        if !waiters.isEmpty { waiters.removeFirst().continuation.resume(returning: index) }
    }

    /// The card holding the claim's bitstream, else one never configured, else the one idle longest.
    private func pick(_ claim: Claim) -> Int? {
        let free = cards.indices.filter { cards[$0].status == .free }
        return free.first { holds(cards[$0], claim) } ?? free.first { cards[$0].loadedBitstream == nil }
            ?? free.min { cards[$0].since < cards[$1].since }
    }

    /// The fabric holds what the claim loads, for the same tenant: a tenant never
    /// learns from a card's timing what another tenant ran.
    private func holds(_ card: FPGACardState, _ claim: Claim) -> Bool {
        guard card.loadedBitstream != nil, card.lastTenant == claim.tenant else { return false }
        return card.lastFunction == claim.function || (claim.bitstream != nil && card.loadedBitstream == claim.bitstream)
    }

    private func grant(_ index: Int, _ claim: Claim) -> FPGAGrantInfo {
        let (tenant, function, instance) = (claim.tenant, claim.function, claim.instance)
        let held = holds(cards[index], claim) ? cards[index].loadedBitstream : nil
        cards[index].status = .granted
        cards[index].tenant = tenant
        cards[index].function = function
        cards[index].instance = instance
        cards[index].since = Date()
        cards[index].grants += 1
        // Anything else the fabric holds is replaced: with what the image carries, once the
        // instance loads it (until then a start that wants it waits for this card; its release says
        // what the fabric really holds).
        if held == nil { cards[index].loadedBitstream = claim.bitstream }
        cards[index].lastFunction = function
        cards[index].lastTenant = tenant
        record(FPGAGrantEvent(kind: .grant, card: cards[index].name, tenant: tenant, function: function,
                              instance: instance, detail: held.map { "bitstream \($0) already loaded" } ?? "needs configuration",
                              at: Date()))
        return FPGAGrantInfo(card: cards[index].name, reconfigureNanoseconds: Int64(reconfigureCost / .nanoseconds(1)),
                             loadedBitstream: held, pciCard: cards[index].pci.map { "\($0.model) at \($0.address)" })
    }

    private func wake(_ id: UInt64) {
        guard let at = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: at).continuation.resume(returning: nil)
    }
}
