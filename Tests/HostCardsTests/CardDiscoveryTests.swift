import Foundation
@testable import HostCards
import Testing

/// Discovery against libvirt's test driver, which reads a host description of our own
/// (Tests/Fixtures/libvirt): the real libvirt library, its node-device and domain API.
@Suite("Card discovery through libvirt's test driver")
struct CardDiscoveryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/libvirt").standardized.path

    static func host(_ file: String) -> String { "test://" + fixtures + "/" + file }

    static func discover(_ file: String, known: KnownCards = .builtIn) throws -> CardDiscovery {
        try CardDiscovery.run(on: try LibvirtConnection(uri: host(file)), known: known)
    }

    @Test func knownCardsWithAGroupOfTheirOwnAreTaken() throws {
        let found = try Self.discover("host-cards.xml")
        #expect(found.pciDevices == 8)
        #expect(found.cards.map(\.address) == ["0000:3b:00.0", "0000:86:00.0"])
        let u200 = try #require(found.cards.first)
        #expect(u200.model == "AMD Alveo U200" && u200.id == "10ee:5001" && u200.iommuGroup == 12)
        #expect(u200.device == "pci_0000_3b_00_0")
        // The D5005 shares group 31 with its root port only: bridges stay with the host.
        #expect(found.cards.last?.model == "Intel PAC D5005" && found.cards.last?.iommuGroup == 31)
    }

    @Test func cardsThatCannotBePassedThroughAloneAreRefusedWithTheReason() throws {
        let refused = Dictionary(uniqueKeysWithValues: try Self.discover("host-cards.xml").refused.map { ($0.address, $0.reason) })
        #expect(refused.count == 3)
        let shared = try #require(refused["0000:5e:00.0"])
        #expect(shared.contains("IOMMU group 20 also holds 0000:5e:00.1 (Intel Corporation 82574L Gigabit Network Connection"))
        #expect(shared.contains("would hand those to the tenant"))
        #expect(try #require(refused["0000:af:00.0"]).contains("in use by libvirt domain 'analytics'"))
        #expect(try #require(refused["0000:d8:00.0"]).contains("no IOMMU group"))
    }

    @Test func aHostWithoutCardsYieldsNone() throws {
        let found = try Self.discover("host-no-cards.xml")
        #expect(found.pciDevices == 2)
        #expect(found.cards.isEmpty && found.refused.isEmpty)
    }

    /// An id given on the command line makes that device a card (here the host's network card).
    @Test func addedIdsAreDiscovered() throws {
        let found = try Self.discover("host-no-cards.xml", known: try KnownCards.builtIn.adding(["8086:15bb=Lab card"]))
        #expect(found.cards.map(\.model) == ["Lab card"])
        let unnamed = try Self.discover("host-no-cards.xml", known: try KnownCards.builtIn.adding(["8086:15BB"]))
        #expect(unnamed.cards.map(\.model) == ["Intel Corporation Ethernet Connection I219-LM"])
    }

    @Test func malformedIdsAreRefused() {
        for bad in ["", "10ee", "10ee:", "zz:5001", "10ee:12345", "10ee:5001:1", ":5001"] {
            #expect(throws: KnownCardsError.self, "\(bad)") { try KnownCards.builtIn.adding([bad]) }
        }
    }

    /// The test driver has no host devices to detach: preparation makes the call, records that the
    /// driver cannot, keeps the card on its driver, and has nothing to give back.
    @Test func preparationTriesToDetachEachCard() throws {
        let libvirt = try LibvirtConnection(uri: Self.host("host-cards.xml"))
        let prepared = PreparedCards(discovery: try CardDiscovery.run(on: libvirt, known: .builtIn), libvirt: libvirt)
        #expect(prepared.cards.count == 2)
        for card in prepared.cards {
            #expect(card.passthrough == "not detached: libvirt's TEST driver cannot detach devices")
        }
        #expect(prepared.refused.count == 3)
        #expect(prepared.giveBack().isEmpty)
        #expect(throws: LibvirtError.self) { try libvirt.detachToVFIO("pci_0000_3b_00_0") }
        #expect(throws: LibvirtError.self) { try libvirt.detachToVFIO("pci_0000_ff_00_0") }
    }

    @Test func anUnreachableLibvirtIsAClearError() {
        let uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"
        #expect {
            try LibvirtConnection(uri: uri)
        } throws: { error in
            guard case .unreachable(let u, let message) = error as? LibvirtError else { return false }
            return u == uri && message.contains("/nonexistent/libvirt-sock")
                && "\(error)".contains("check that libvirtd runs")
        }
    }

    @Test func aMalformedHostDescriptionIsAClearError() {
        #expect {
            try LibvirtConnection(uri: Self.host("host-malformed.xml"))
        } throws: { error in
            guard case .unreachable(_, let message) = error as? LibvirtError else { return false }
            return message.contains("host-malformed.xml")
        }
    }
}
