import ArgumentParser
import HostCards
import LocalCommands
import Node

/// Where a node's cards come from (`--fpgas`): a number of emulated cards, or the
/// host's real cards found through libvirt.
enum FPGASource: Equatable {
    case emulated(Int)
    case libvirt(uri: String)

    /// The URI `--fpgas libvirt` means: the host's system libvirtd, which manages its PCI devices.
    static let systemURI = "qemu:///system"

    init(_ text: String) throws {
        if let count = Int(text) {
            guard (0...64).contains(count) else { throw ValidationError("--fpgas \(count): a node has 0...64 emulated cards") }
            self = .emulated(count)
        } else if text == "libvirt" {
            self = .libvirt(uri: Self.systemURI)
        } else if text.hasPrefix("libvirt:"), text.count > "libvirt:".count, text.count <= 4096 {
            self = .libvirt(uri: String(text.dropFirst("libvirt:".count)))
        } else {
            throw ValidationError("--fpgas '\(text.prefix(100))' is not a number of emulated cards (0...64), "
                                  + "libvirt (the host's cards, through \(Self.systemURI)) or libvirt:URI (e.g. libvirt:test:///path/host.xml)")
        }
    }

    /// The node's cards. Real ones are discovered and bound to vfio-pci now; the caller gives
    /// them back (`PreparedCards.giveBack`) when the node stops. Prints what was taken and what was not.
    func cards(known: KnownCards) throws -> (hardware: [FPGAHardware], prepared: PreparedCards?) {
        switch self {
        case .emulated(let count):
            return (FPGAHardware.emulated(count), nil)
        case .libvirt(let uri):
            let prepared: PreparedCards
            let found: CardDiscovery
            do {
                let libvirt = try LibvirtConnection(uri: uri)
                found = try CardDiscovery.run(on: libvirt, known: known)
                prepared = PreparedCards(discovery: found, libvirt: libvirt)
            } catch { throw fail(error) }
            for problem in found.unreadable { print("kumo: skipped: \(problem)") }
            for card in prepared.refused { print("kumo: left alone: \(card)") }
            if prepared.cards.isEmpty {
                print("kumo: libvirt \(uri): no FPGA card to take among \(found.pciDevices) PCI devices; this node has none "
                      + "(a card under another PCI id: --fpga-pci-id VENDOR:DEVICE)")
            }
            for (index, card) in prepared.cards.enumerated() {
                print("kumo: fpga\(index): \(card.model) at \(card.address) [\(card.id)], IOMMU group \(card.iommuGroup), \(card.passthrough)")
            }
            return (prepared.cards.map { .pci($0) }, prepared)
        }
    }
}

extension PreparedCards {
    /// Gives the cards back, saying on stderr which could not be.
    func giveBackReporting() {
        for failure in giveBack() { _ = fail("could not give a card back to its host driver: \(failure)") }
    }
}
