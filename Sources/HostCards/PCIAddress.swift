import Foundation

/// A PCI function's address, written as lspci and sysfs write it ("0000:3b:00.0").
public struct PCIAddress: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var domain: UInt16
    public var bus: UInt8
    public var slot: UInt8
    public var function: UInt8

    public init(domain: UInt16, bus: UInt8, slot: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function
    }

    /// From the four numbers as libvirt's XML gives them, decimal or "0x" hex; nil if one
    /// is not a number or out of PCI's range (slot < 32, function < 8).
    init?(domain: String, bus: String, slot: String, function: String) {
        guard let d = Self.number(domain), d <= 0xffff, let b = Self.number(bus), b <= 0xff,
              let s = Self.number(slot), s < 32, let f = Self.number(function), f < 8 else { return nil }
        self.init(domain: UInt16(d), bus: UInt8(b), slot: UInt8(s), function: UInt8(f))
    }

    static func number(_ text: String) -> UInt32? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt32(t.dropFirst(2), radix: 16) }
        return UInt32(t)
    }

    public var description: String {
        hex(domain, 4) + ":" + hex(bus, 2) + ":" + hex(slot, 2) + "." + String(function)
    }

    /// The node device name libvirt gives this function ("pci_0000_3b_00_0").
    public var nodeDeviceName: String {
        "pci_" + hex(domain, 4) + "_" + hex(bus, 2) + "_" + hex(slot, 2) + "_" + String(function)
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.domain, a.bus, a.slot, a.function) < (b.domain, b.bus, b.slot, b.function)
    }
}

/// A number as lower-case hex, zero-padded to `width` digits.
func hex<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
