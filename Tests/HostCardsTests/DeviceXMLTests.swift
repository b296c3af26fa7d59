@testable import HostCards
import Testing

/// libvirt's node device XML, as the udev backend writes it for a real host.
@Suite("Node device XML")
struct DeviceXMLTests {
    static let alveo = """
        <device>
          <name>pci_0000_3b_00_1</name>
          <path>/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1</path>
          <parent>pci_0000_3a_00_0</parent>
          <driver><name>xocl</name></driver>
          <capability type='pci'>
            <class>0x120000</class>
            <domain>0</domain><bus>59</bus><slot>0</slot><function>1</function>
            <product id='0x5001'/>
            <vendor id='0x10ee'>Xilinx Corporation</vendor>
            <iommuGroup number='7'>
              <address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/>
            </iommuGroup>
          </capability>
        </device>
        """

    @Test func aRealDescriptionParses() throws {
        let f = try PCIFunction.parse(xml: Self.alveo, device: "pci_0000_3b_00_1")
        #expect(f.address.description == "0000:3b:00.1" && f.address.nodeDeviceName == "pci_0000_3b_00_1")
        #expect(f.vendorID == 0x10ee && f.productID == 0x5001 && f.productName == "")
        #expect(f.driver == "xocl" && f.iommuGroup == 7 && f.groupMembers == [f.address])
        #expect(f.classCode == 0x120000 && !f.isBridge)
    }

    @Test func malformedDescriptionsAreRefusedWithWhatIsWrong() {
        let cases: [(String, String)] = [
            ("<device><name>x</name>", "not well-formed"),
            ("<node/>", "root element is not <device>"),
            ("<device><capability type='usb'/></device>", "no <capability type='pci'>"),
            (Self.alveo.replacingOccurrences(of: "<slot>0</slot>", with: "<slot>40</slot>"), "not a PCI address"),
            (Self.alveo.replacingOccurrences(of: "<bus>59</bus>", with: "<bus>fifty</bus>"), "not a PCI address"),
            (Self.alveo.replacingOccurrences(of: "id='0x10ee'", with: "id='0x10ee0'"), "<vendor id=...>"),
            (Self.alveo.replacingOccurrences(of: "<product id='0x5001'/>", with: ""), "<product id=...>"),
            (Self.alveo.replacingOccurrences(of: "number='7'", with: "number='-1'"), "<iommuGroup number=...>"),
            (Self.alveo.replacingOccurrences(of: "function='0x1'", with: "function='0x9'"), "lists an address that is not"),
        ]
        for (xml, problem) in cases {
            #expect {
                try PCIFunction.parse(xml: xml, device: "pci_0000_3b_00_1")
            } throws: { error in
                "\(error)".contains(problem) && "\(error)".contains("pci_0000_3b_00_1")
            }
        }
    }

    /// A card whose group holds a device libvirt could not describe is refused, not guessed about.
    @Test func aGroupMemberWithoutADescriptionRefusesTheCard() throws {
        var card = try PCIFunction.parse(xml: Self.alveo, device: "pci_0000_3b_00_1")
        let other = PCIAddress(domain: 0, bus: 0x3b, slot: 0, function: 0)
        card.groupMembers.append(other)
        let (cards, refused) = CardDiscovery.classify([card], assignedToDomains: [:], known: .builtIn)
        #expect(cards.isEmpty)
        #expect(refused.first?.reason.contains("0000:3b:00.0 (which libvirt does not describe)") == true)
    }

    @Test func aDomainsPassedThroughDevicesAreRead() throws {
        let xml = """
            <domain type='kvm'><name>vm</name><devices>
              <hostdev mode='subsystem' type='pci' managed='yes'>
                <source><address domain='0x0000' bus='0xaf' slot='0x00' function='0x0'/></source>
              </hostdev>
              <hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev>
            </devices></domain>
            """
        #expect(try passedThrough(domainXML: xml, domain: "vm").map(\.description) == ["0000:af:00.0"])
        #expect(throws: DeviceXMLError.self) { try passedThrough(domainXML: "<domain>", domain: "vm") }
    }
}
