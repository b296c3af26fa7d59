/// The PCI ids of accelerator cards a node takes: the functions a tenant's
/// runtime talks to (for Alveo cards the user function; the management function
/// stays with the host), from the vendors' drivers (Xilinx XRT's xocl, Intel OPAE).
public struct KnownCards: Sendable {
    public struct ID: Hashable, Sendable, CustomStringConvertible {
        public var vendor: UInt16
        public var product: UInt16
        public init(vendor: UInt16, product: UInt16) {
            self.vendor = vendor
            self.product = product
        }
        public var description: String { hex(vendor, 4) + ":" + hex(product, 4) }
    }

    /// Model names by id; a card found under another id is named by libvirt's product name.
    public private(set) var models: [ID: String]

    public static let builtIn = KnownCards(models: [
        ID(vendor: 0x10ee, product: 0x5001): "AMD Alveo U200",
        ID(vendor: 0x10ee, product: 0x5005): "AMD Alveo U250",
        ID(vendor: 0x10ee, product: 0x500d): "AMD Alveo U280",
        ID(vendor: 0x10ee, product: 0x5021): "AMD Alveo U50",
        ID(vendor: 0x10ee, product: 0x505d): "AMD Alveo U55C",
        ID(vendor: 0x10ee, product: 0x5049): "AMD VCK5000",
        ID(vendor: 0x1d0f, product: 0xf010): "AWS F1 FPGA",
        ID(vendor: 0x8086, product: 0x09c4): "Intel PAC Arria 10 GX",
        ID(vendor: 0x8086, product: 0x0b2b): "Intel PAC D5005",
        ID(vendor: 0x8086, product: 0x0b30): "Intel PAC N3000",
    ])

    public func contains(_ id: ID) -> Bool { models[id] != nil }

    /// Adds ids written "vendor:product" in hex, e.g. "10ee:5001" (`--fpga-pci-id`), optionally
    /// with a model name after '=' ("10ee:5001=My card").
    public func adding(_ entries: [String]) throws(KnownCardsError) -> KnownCards {
        var copy = self
        for entry in entries {
            let pieces = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let parts = pieces[0].split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let v = UInt16(parts[0], radix: 16), let p = UInt16(parts[1], radix: 16),
                  parts.allSatisfy({ (1...4).contains($0.count) }) else {
                throw KnownCardsError(entry: entry)
            }
            copy.models[ID(vendor: v, product: p)] = pieces.count > 1 ? String(pieces[1]) : ""
        }
        return copy
    }
}

public struct KnownCardsError: Error, CustomStringConvertible, Sendable {
    public var entry: String
    public var description: String {
        "'\(entry)' is not a PCI id: write vendor:device in hex, e.g. 10ee:5001 (optionally =Model name)"
    }
}
