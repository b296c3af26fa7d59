import Synchronization

/// The cards a node took, bound to vfio-pci for as long as it runs; `giveBack`
/// returns each card it detached to the driver it had.
public final class PreparedCards: Sendable {
    public let cards: [PCICard]
    public let refused: [RefusedCard]
    private let state: Mutex<State>
    private struct State {
        var libvirt: LibvirtConnection?
        var detached: [PCICard]
    }

    /// Detaches each discovered card to vfio-pci. A card libvirt fails to detach is refused
    /// and left as found; where the connection's driver cannot detach at all (libvirt's test
    /// driver), cards are taken on their host driver and say so.
    public init(discovery: CardDiscovery, libvirt: LibvirtConnection) {
        var taken: [PCICard] = []
        var refused = discovery.refused
        var detached: [PCICard] = []
        for var card in discovery.cards {
            if card.driver == "vfio-pci" {
                card.passthrough = "vfio-pci (bound before the node started)"
                taken.append(card)
                continue
            }
            do {
                try libvirt.detachToVFIO(card.device)
                card.passthrough = "vfio-pci (detached from \(card.driver))"
                detached.append(card)
                taken.append(card)
            } catch where error.isUnsupported {
                card.passthrough = "not detached: libvirt's \(libvirt.driverType) driver cannot detach devices"
                taken.append(card)
            } catch {
                refused.append(RefusedCard(address: card.address, model: card.model, reason: "\(error); the card is left as found"))
            }
        }
        cards = taken
        self.refused = refused
        state = Mutex(State(libvirt: libvirt, detached: detached))
    }

    /// Reattaches every card this node detached; returns what failed. Once only.
    public func giveBack() -> [String] {
        state.withLock { state in
            defer {
                state.detached = []
                state.libvirt = nil
            }
            guard let libvirt = state.libvirt else { return [] }
            var failures: [String] = []
            for card in state.detached {
                do { try libvirt.reattach(card.device) } catch { failures.append("\(card.address): \(error)") }
            }
            return failures
        }
    }
}
