import Foundation

/// What a libvirt node device's XML says about one PCI function.
public struct PCIFunction: Sendable, Equatable {
    /// libvirt's name for it, e.g. "pci_0000_3b_00_0".
    public var name: String
    public var address: PCIAddress
    public var vendorID: UInt16
    public var productID: UInt16
    public var vendorName: String
    public var productName: String
    /// The 24-bit PCI class code (0x060400 is a PCI-to-PCI bridge), if given.
    public var classCode: UInt32?
    /// The host driver bound to it; nil when none is (or the libvirt driver does not say).
    public var driver: String?
    /// Its IOMMU group and every function in it (itself included); nil when the host has no IOMMU.
    public var iommuGroup: Int?
    public var groupMembers: [PCIAddress]

    /// A bridge can share a card's group without being handed to the tenant: vfio leaves bridges to the host.
    var isBridge: Bool { classCode.map { $0 >> 8 == 0x0604 } ?? false }
}

public struct DeviceXMLError: Error, CustomStringConvertible, Sendable, Equatable {
    public var device: String
    public var problem: String
    public var description: String { "libvirt's description of node device \(device) is unusable: \(problem)" }
}

extension PCIFunction {
    /// Parses `virNodeDeviceGetXMLDesc`'s answer for a device with a `pci` capability.
    public static func parse(xml: String, device: String) throws(DeviceXMLError) -> PCIFunction {
        func fail(_ problem: String) -> DeviceXMLError { DeviceXMLError(device: device, problem: problem) }
        guard let root = XMLTree.parse(xml) else { throw fail("it is not well-formed XML") }
        guard root.name == "device" else { throw fail("its root element is not <device>") }
        guard let cap = root.elements("capability").first(where: { $0.attribute("type") == "pci" }) else {
            throw fail("it has no <capability type='pci'>")
        }
        guard let address = PCIAddress(domain: cap.text("domain") ?? "", bus: cap.text("bus") ?? "",
                                       slot: cap.text("slot") ?? "", function: cap.text("function") ?? "") else {
            throw fail("its domain, bus, slot and function are not a PCI address")
        }
        guard let vendor = cap.first("vendor"), let vendorID = vendor.attribute("id").flatMap(Self.id16) else {
            throw fail("its <vendor id=...> is missing or not a 16-bit number")
        }
        guard let product = cap.first("product"), let productID = product.attribute("id").flatMap(Self.id16) else {
            throw fail("its <product id=...> is missing or not a 16-bit number")
        }
        var group: Int?
        var members: [PCIAddress] = []
        if let g = cap.first("iommuGroup") {
            guard let number = g.attribute("number").flatMap({ Int($0) }), number >= 0 else {
                throw fail("its <iommuGroup number=...> is not a number")
            }
            group = number
            for a in g.elements("address") {
                guard let member = PCIAddress(domain: a.attribute("domain") ?? "", bus: a.attribute("bus") ?? "",
                                              slot: a.attribute("slot") ?? "", function: a.attribute("function") ?? "") else {
                    throw fail("IOMMU group \(number) lists an address that is not a PCI address")
                }
                members.append(member)
            }
        }
        let driver = root.first("driver")?.text("name")
        return PCIFunction(name: root.text("name") ?? device, address: address, vendorID: vendorID, productID: productID,
                           vendorName: vendor.trimmedText, productName: product.trimmedText,
                           classCode: cap.text("class").flatMap(PCIAddress.number), driver: driver?.isEmpty == true ? nil : driver,
                           iommuGroup: group, groupMembers: members)
    }

    static func id16(_ text: String) -> UInt16? {
        PCIAddress.number(text).flatMap { $0 <= 0xffff ? UInt16($0) : nil }
    }
}

/// The PCI functions a libvirt domain's definition passes through (its `<hostdev type='pci'>`s).
func passedThrough(domainXML xml: String, domain: String) throws(DeviceXMLError) -> [PCIAddress] {
    guard let root = XMLTree.parse(xml) else {
        throw DeviceXMLError(device: "domain " + domain, problem: "it is not well-formed XML")
    }
    let hostdevs = root.elements("devices").flatMap { $0.elements("hostdev") }
    return hostdevs.filter { $0.attribute("type") == "pci" }.compactMap { hostdev in
        guard let a = hostdev.first("source")?.first("address") else { return nil }
        return PCIAddress(domain: a.attribute("domain") ?? "0", bus: a.attribute("bus") ?? "",
                          slot: a.attribute("slot") ?? "", function: a.attribute("function") ?? "")
    }
}
