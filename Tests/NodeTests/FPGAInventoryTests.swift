import HostCards
import InstanceWire
@testable import Node
import Synchronization
import Testing

/// The node's cards: which one a start gets, and what its fabric is said to hold.
@Suite("FPGA inventory: bitstream reuse within a tenant, waiting for the holder")
struct FPGAInventoryTests {
    static func inventory(_ count: Int) -> FPGAInventory {
        FPGAInventory(hardware: FPGAHardware.emulated(count), reconfigureCost: .seconds(2), record: { _ in })
    }

    static func claim(_ function: String, tenant: String = "alice", bitstream: String? = "B", instance: String = "i") -> FPGAInventory.Claim {
        FPGAInventory.Claim(tenant: tenant, function: function, bitstream: bitstream, instance: instance)
    }

    static func loaded(_ bitstream: String) -> InstanceStopped {
        InstanceStopped(loadedBitstream: bitstream, reconfigurations: 1, wedged: false)
    }

    /// A second function of the tenant loading the same bitstream skips reconfiguration; another tenant's does not.
    @Test func theFabricIsReusedAcrossFunctionsOfOneTenantOnly() async throws {
        let cards = Self.inventory(2)
        let first = try await cards.acquire(Self.claim("f1"), patience: .zero)
        #expect(first.loadedBitstream == nil)
        await cards.release(card: first.card, stopped: Self.loaded("B"), reason: "done")
        let second = try await cards.acquire(Self.claim("f2"), patience: .zero)
        #expect(second.card == first.card && second.loadedBitstream == "B")
        await cards.release(card: second.card, stopped: Self.loaded("B"), reason: "done")
        // Bob's function with the same bitstream gets the never-configured card, and no claim on another tenant's fabric.
        let bob = try await cards.acquire(Self.claim("g", tenant: "bob"), patience: .zero)
        #expect(bob.card != first.card && bob.loadedBitstream == nil)
        await cards.release(card: bob.card, stopped: Self.loaded("B"), reason: "done")
        let bobAgain = try await cards.acquire(Self.claim("g2", tenant: "bob"), patience: .zero)
        #expect(bobAgain.card == bob.card && bobAgain.loadedBitstream == "B")
        let state = await cards.snapshot()
        #expect(state.first { $0.name == first.card }?.lastTenant == "alice")
    }

    /// The card holding the bitstream is being released: the start waits for it instead of
    /// taking (and reconfiguring) the other free card.
    @Test func aStartWaitsForTheHolderOnItsWayBack() async throws {
        let cards = Self.inventory(2)
        let held = try await cards.acquire(Self.claim("f1"), patience: .zero)
        await cards.release(card: held.card, stopped: Self.loaded("B"), reason: "done")
        let again = try await cards.acquire(Self.claim("f1"), patience: .zero)
        await cards.releasing(card: again.card)
        let waiting = Task { try await cards.acquire(Self.claim("f2"), patience: .seconds(5)) }
        // The other card is free the whole time; the waiter must not take it.
        let deadline = ContinuousClock.now + .seconds(10)
        while await cards.waiting == 0, await cards.freeCount == 1, ContinuousClock.now < deadline { await Task.yield() }
        #expect(await cards.freeCount == 1, "the start took the other card instead of waiting for the holder")
        await cards.release(card: again.card, stopped: Self.loaded("B"), reason: "done")
        let got = try await waiting.value
        #expect(got.card == held.card && got.loadedBitstream == "B")
    }

    @Test func grantsOneInstanceAtATimeAndPrefersTheCardHoldingTheFunctionsBitstream() async throws {
        let events = EventLog()
        let inventory = FPGAInventory(hardware: FPGAHardware.emulated(2), reconfigureCost: .milliseconds(100)) { events.add($0) }
        let a = try await inventory.acquire(Self.claim("vadd", tenant: "t1", bitstream: nil, instance: "vadd-1"), patience: .zero)
        let b = try await inventory.acquire(Self.claim("sobel", tenant: "t2", bitstream: nil, instance: "sobel-1"), patience: .zero)
        #expect(a.card != b.card)
        await #expect(throws: FPGAAllocationError.self) {
            try await inventory.acquire(Self.claim("x", tenant: "t3", bitstream: nil, instance: "x-1"), patience: .milliseconds(50))
        }
        await inventory.release(card: a.card, stopped: InstanceStopped(loadedBitstream: "uuid-vadd", reconfigurations: 1, wedged: false), reason: "done")
        await inventory.release(card: b.card, stopped: nil, reason: "crashed")
        let again = try await inventory.acquire(Self.claim("vadd", tenant: "t1", bitstream: nil, instance: "vadd-2"), patience: .zero)
        #expect(again.card == a.card && again.loadedBitstream == "uuid-vadd", "same function, same card, no reconfiguration")
        let other = try await inventory.acquire(Self.claim("sobel", tenant: "t2", bitstream: nil, instance: "sobel-2"), patience: .zero)
        #expect(other.loadedBitstream == nil, "a card whose instance died without saying holds nothing known")
        #expect(events.kinds == ["grant", "grant", "release", "release", "grant", "grant"])
    }

    @Test func aWaitingRequestGetsTheReleasedCardAndAWedgedCardLeavesService() async throws {
        let inventory = FPGAInventory(hardware: FPGAHardware.emulated(1), reconfigureCost: .zero) { _ in }
        let first = try await inventory.acquire(Self.claim("f", tenant: "a", bitstream: nil, instance: "f-1"), patience: .zero)
        async let waiting = inventory.acquire(Self.claim("g", tenant: "b", bitstream: nil, instance: "g-1"), patience: .seconds(5))
        let deadline = ContinuousClock.now + .seconds(10)
        while await inventory.waiting == 0, ContinuousClock.now < deadline { await Task.yield() }
        await inventory.release(card: first.card, stopped: InstanceStopped(loadedBitstream: "u", reconfigurations: 1, wedged: false), reason: "done")
        let second = try await waiting
        #expect(second.card == first.card && second.loadedBitstream == nil, "another function's bitstream is not reused")
        await inventory.release(card: second.card, stopped: InstanceStopped(loadedBitstream: nil, reconfigurations: 0, wedged: true), reason: "kernel never ended")
        #expect(await inventory.snapshot().first?.status == .outOfService)
        await #expect(throws: FPGAAllocationError.self) {
            try await inventory.acquire(Self.claim("h", tenant: "c", bitstream: nil, instance: "h-1"), patience: .seconds(5))
        }
    }
}

/// Grant events in the order the inventory recorded them.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func add(_ e: FPGAGrantEvent) { events.withLock { $0.append(e.kind.rawValue) } }
    var kinds: [String] { events.withLock { $0 } }

    /// A real card is granted, released and keeps its fabric's record as an emulated one does;
    /// the grant tells the instance which hardware it is.
    @Test func realCardsAreGrantedLikeEmulatedOnes() async throws {
        let pci = PCICard(address: "0000:3b:00.0", device: "pci_0000_3b_00_0", id: "10ee:5001", model: "AMD Alveo U200",
                          iommuGroup: 12, driver: "xocl", passthrough: "vfio-pci (detached from xocl)")
        let cards = FPGAInventory(hardware: [.pci(pci)] + FPGAHardware.emulated(1), reconfigureCost: .zero) { _ in }
        #expect(await cards.snapshot().map(\.kind) == [.pci, .emulated])
        let first = try await cards.acquire(FPGAInventoryTests.claim("f1"), patience: .zero)
        #expect(first.card == "fpga0" && first.pciCard == "AMD Alveo U200 at 0000:3b:00.0")
        let second = try await cards.acquire(FPGAInventoryTests.claim("f2"), patience: .zero)
        #expect(second.card == "fpga1" && second.pciCard == nil)
        await cards.release(card: first.card, stopped: FPGAInventoryTests.loaded("B"), reason: "done")
        let again = try await cards.acquire(FPGAInventoryTests.claim("f1"), patience: .zero)
        #expect(again.card == "fpga0" && again.loadedBitstream == "B")
        #expect(await cards.snapshot().first?.pci == pci)
    }
}
