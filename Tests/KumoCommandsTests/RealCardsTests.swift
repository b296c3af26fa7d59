import Foundation
import Gateway
import KumoTestSupport
import Node
import Testing
@testable import KumoCommands
@testable import LocalCommands

/// `--fpgas libvirt:URI`: a node takes the real cards libvirt describes, here through
/// libvirt's test driver and a host of our own (Tests/Fixtures/libvirt).
@Suite("Real FPGA cards on a node, through libvirt's test driver", .serialized)
struct RealCardsTests {
    static let hosts = (Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath) + "/Tests/Fixtures/libvirt/"

    static func inventory(_ serve: ServeHarness) async throws -> AcceleratorInventory {
        let client = serve.client()
        return try client.decode(AcceleratorInventory.self, try await client.expectOK("GET", "/system/accelerators"))
    }

    /// Runs `kumo ARGS` that must end by itself; its status and what it printed.
    func kumo(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let ran = try runProcess(try ServeHarness.kumo, arguments, seconds: 30)
        return (ran.status, String(decoding: ran.stdout + ran.stderr, as: UTF8.self))
    }

    @Test func theNodeTakesTheHostsCardsAndSaysWhichItLeftAlone() async throws {
        let serve = try ServeHarness(arguments: ["--fpgas", "libvirt:test://" + Self.hosts + "host-cards.xml"])
        let log = serve.serveLog
        #expect(log.contains("kumo: fpga0: AMD Alveo U200 at 0000:3b:00.0 [10ee:5001], IOMMU group 12, "
                             + "not detached: libvirt's TEST driver cannot detach devices"), "\(log)")
        #expect(log.contains("kumo: fpga1: Intel PAC D5005 at 0000:86:00.0 [8086:0b2b], IOMMU group 31"), "\(log)")
        #expect(log.contains("kumo: left alone: 0000:5e:00.0 (AMD Alveo U250): its IOMMU group 20 also holds 0000:5e:00.1"), "\(log)")
        #expect(log.contains("kumo: left alone: 0000:af:00.0 (AMD Alveo U50): in use by libvirt domain 'analytics'"), "\(log)")
        #expect(log.contains("(2 FPGAs, data in"), "\(log)")

        let table = try serve.cli(["accelerators"])
        #expect(table.status == 0)
        let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first?.prefix(7) == ["FPGA", "KIND", "PCI", "ID", "GROUP", "DRIVER", "STATE"], "\(table.stdout)")
        #expect(rows.contains { $0.prefix(7) == ["fpga0", "pci", "0000:3b:00.0", "10ee:5001", "12", "none", "free"] }, "\(table.stdout)")
        #expect(table.stdout.contains("fpga1: Intel PAC D5005, not detached"), "\(table.stdout)")

        let inventory = try await Self.inventory(serve)
        #expect(inventory.cards.map(\.kind) == [.pci, .pci])
        #expect(inventory.cards.map { $0.pci?.address } == ["0000:3b:00.0", "0000:86:00.0"])
    }

    /// A PCI card is granted, refuses the guest (this build has no backend for a real card's
    /// runtime), and is released and recorded as an emulated card is.
    @Test func aRealCardIsGrantedAndReleasedButRunsNoKernels() async throws {
        guard KVMRequirement.check() else { return }
        let serve = try ServeHarness(arguments: ["--fpgas", "libvirt:test://" + Self.hosts + "host-cards.xml"])
        #expect(try await serve.deploy("Tests/Fixtures/guests/fpga-leftover", as: "leftover").status == 201)
        let reply = try await serve.invoke("leftover", query: "mode=read")
        #expect(reply.status == 502, "\(reply.status) \(reply.text)")
        #expect(reply.header("X-Kumo-Detail")?.contains("fpga0 is a real card (AMD Alveo U200 at 0000:3b:00.0) and this build has no real-card backend") == true,
                "\(reply.header("X-Kumo-Detail") ?? "no detail")")
        try await waitFor("the card's release in the record") {
            try await Self.inventory(serve).grants.contains { $0.kind == "release" }
        }
        let released = try await Self.inventory(serve)
        #expect(released.grants.map(\.kind).sorted() == ["grant", "release"])
        #expect(released.grants.allSatisfy { $0.card == "fpga0" && $0.function == "leftover" })
        #expect(released.cards.first?.status == .free && released.cards.first?.grants == 1)
    }

    @Test func aHostWithoutCardsGivesANodeWithNone() async throws {
        let serve = try ServeHarness(arguments: ["--fpgas", "libvirt:test://" + Self.hosts + "host-no-cards.xml"])
        #expect(serve.serveLog.contains("no FPGA card to take among 2 PCI devices; this node has none"), "\(serve.serveLog)")
        #expect(serve.serveLog.contains("(0 FPGAs, data in"), "\(serve.serveLog)")
        #expect(try await Self.inventory(serve).cards.isEmpty)
    }

    @Test func badCardSourcesStopTheNodeWithTheReason() throws {
        let data = NSTemporaryDirectory() + "kumo-cards-" + UUID().uuidString
        let cases: [([String], String)] = [
            (["--fpgas", "banana"], "--fpgas 'banana' is not a number of emulated cards (0...64), libvirt"),
            (["--fpgas", "65"], "a node has 0...64 emulated cards"),
            (["--fpgas", "libvirt:"], "is not a number of emulated cards"),
            (["--fpgas", "libvirt", "--fpga-pci-id", "10ee"], "'10ee' is not a PCI id"),
            (["--fpgas", "libvirt:qemu+unix:///system?socket=/nonexistent/libvirt-sock"],
             "cannot connect to libvirt at qemu+unix:///system?socket=/nonexistent/libvirt-sock"),
            (["--fpgas", "libvirt:test://" + Self.hosts + "host-malformed.xml"], "host-malformed.xml"),
        ]
        for (arguments, message) in cases {
            let (status, output) = try kumo(["serve", "--port", "0", "--data-dir", data] + arguments)
            #expect(status != 0, "\(arguments)")
            #expect(output.contains(message), "\(arguments): \(output)")
            #expect(!output.contains("serving on"), "\(arguments): \(output)")
        }
    }
}
