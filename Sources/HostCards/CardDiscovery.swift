import Foundation

/// A card this node found and takes: what `kumo accelerators` shows of it.
public struct PCICard: Codable, Sendable, Equatable {
    /// "0000:3b:00.0"
    public var address: String
    /// libvirt's node device name ("pci_0000_3b_00_0").
    public var device: String
    /// "10ee:5001"
    public var id: String
    public var model: String
    public var iommuGroup: Int
    /// The host driver it had when the node found it ("none" if unbound).
    public var driver: String
    /// Whether it is bound to vfio-pci for passthrough, and if not, why.
    public var passthrough: String

    public init(address: String, device: String, id: String, model: String, iommuGroup: Int, driver: String, passthrough: String) {
        self.address = address
        self.device = device
        self.id = id
        self.model = model
        self.iommuGroup = iommuGroup
        self.driver = driver
        self.passthrough = passthrough
    }

    /// The driver it is bound to now.
    public var boundDriver: String { passthrough.hasPrefix("vfio-pci") ? "vfio-pci" : driver }
}

/// A card the node found and leaves alone, and why.
public struct RefusedCard: Sendable, Equatable, CustomStringConvertible {
    public var address: String
    public var model: String
    public var reason: String
    public var description: String { "\(address) (\(model)): \(reason)" }
}

/// What the node found on the host through libvirt.
public struct CardDiscovery: Sendable {
    public var uri: String
    public var cards: [PCICard] = []
    public var refused: [RefusedCard] = []
    /// Devices libvirt could not describe usably (skipped; a card whose group holds one is refused).
    public var unreadable: [DeviceXMLError] = []
    public var pciDevices = 0

    /// Lists the host's PCI devices and domains and keeps the known cards that can be passed through alone.
    public static func run(on libvirt: LibvirtConnection, known: KnownCards) throws(LibvirtError) -> CardDiscovery {
        var found = CardDiscovery(uri: libvirt.uri)
        var functions: [PCIFunction] = []
        let devices = try libvirt.pciDevices()
        found.pciDevices = devices.count
        for (name, xml) in devices {
            do { functions.append(try PCIFunction.parse(xml: xml, device: name)) } catch { found.unreadable.append(error) }
        }
        var assigned: [PCIAddress: String] = [:]
        for (name, xml) in try libvirt.domains() {
            do {
                for address in try passedThrough(domainXML: xml, domain: name) { assigned[address] = name }
            } catch {
                throw .call("read domain \(name)'s definition", message: error.description, code: 0)
            }
        }
        (found.cards, found.refused) = classify(functions, assignedToDomains: assigned, known: known)
        return found
    }

    /// Which known cards may be taken. A card is passed through with its whole IOMMU group
    /// (vfio hands a group to one user), so a group holding anything but the card and PCI
    /// bridges would hand that device to the tenant too.
    static func classify(_ functions: [PCIFunction], assignedToDomains assigned: [PCIAddress: String],
                         known: KnownCards) -> ([PCICard], [RefusedCard]) {
        let byAddress = Dictionary(functions.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        var cards: [PCICard] = []
        var refused: [RefusedCard] = []
        for f in functions.sorted(by: { $0.address < $1.address }) {
            let id = KnownCards.ID(vendor: f.vendorID, product: f.productID)
            guard let tableName = known.models[id] else { continue }
            let model = tableName.isEmpty ? "\(f.vendorName) \(f.productName)".trimmingCharacters(in: .whitespaces) : tableName
            func refuse(_ reason: String) { refused.append(RefusedCard(address: f.address.description, model: model, reason: reason)) }
            if let domain = assigned[f.address] {
                refuse("in use by libvirt domain '\(domain)' (a <hostdev> in its definition); Kumo never takes a card a domain may use")
                continue
            }
            guard let group = f.iommuGroup else {
                refuse("the host gives it no IOMMU group, so it cannot be passed through safely; enable the IOMMU (intel_iommu=on or amd_iommu=on)")
                continue
            }
            let others = f.groupMembers.filter { $0 != f.address }.compactMap { member -> String? in
                guard let other = byAddress[member] else { return "\(member) (which libvirt does not describe)" }
                if other.isBridge { return nil }
                let user = assigned[member].map { ", in use by domain '\($0)'" } ?? ""
                return "\(member) (\(other.vendorName) \(other.productName), driver \(other.driver ?? "none")\(user))"
            }
            guard others.isEmpty else {
                refuse("its IOMMU group \(group) also holds \(others.joined(separator: ", ")); passing the card through "
                       + "would hand those to the tenant too; move it to a slot with its own group")
                continue
            }
            cards.append(PCICard(address: f.address.description, device: f.name, id: id.description, model: model,
                                 iommuGroup: group, driver: f.driver ?? "none", passthrough: "not prepared"))
        }
        return (cards, refused)
    }
}
