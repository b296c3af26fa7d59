import Foundation
import KVM

/// A real card a node found through libvirt, granted like an emulated one. This
/// build has no backend for a vendor's runtime (XRT, OPAE), so a guest that needs
/// the card is refused before it boots; the node's bookkeeping (grants, releases,
/// what the fabric holds) runs as for emulated cards.
public final class PCIPassthroughCard: FPGACard {
    public let name: String
    /// Model and PCI address, e.g. "AMD Alveo U200 at 0000:3b:00.0".
    public let hardware: String
    public let loadedBitstream: String?

    public init(name: String, hardware: String, fabricHolds: String?) {
        self.name = name
        self.hardware = hardware
        self.loadedBitstream = fabricHolds
    }

    public var reconfigurations: Int { 0 }
    public var wedged: Bool { false }
    public var unavailable: String? {
        "\(name) is a real card (\(hardware)) and this build has no real-card backend to run its kernels; "
            + "deploy FPGA functions to a node with emulated cards (kumo node --fpgas N)"
    }

    public func open(memory: GuestMemory, identity: FPGAIdentity, patience: TimeInterval) -> (any FPGAPort)? { nil }
    public func settle(patience: TimeInterval) -> Bool { true }
    /// No backend loads it: the guest's own load gets the clear refusal.
    public func preload(xclbin: ArraySlice<UInt8>) {}
}
