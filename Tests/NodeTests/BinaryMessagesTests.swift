import Synchronization
import Testing
@testable import Node
import Accelerator
import Functions

@Suite("Instance frames")
struct BinaryMessagesTests {
    @Test func invokeAndResultRoundTrip() throws {
        let invoke = WorkerMessage.invoke(InvokeRequest(id: 42, environment: ["A=b", "QUERY_x=é"], timeoutSeconds: 2.5))
        let invokeBytes = try #require(BinaryMessages.encode(invoke))
        guard case .invoke(let i) = try #require(BinaryMessages.decode(invokeBytes)) else {
            Issue.record("not an invoke"); return
        }
        #expect(i.id == 42 && i.environment == ["A=b", "QUERY_x=é"] && i.timeoutSeconds == 2.5)
        let result = WorkerMessage.result(InvokeResult(id: 7, status: .timedOut, code: -3, detail: "d", stderr: "e",
                                                       nanoseconds: 99, instanceEnded: true))
        let resultBytes = try #require(BinaryMessages.encode(result))
        guard case .result(let r) = try #require(BinaryMessages.decode(resultBytes)) else {
            Issue.record("not a result"); return
        }
        #expect(r.id == 7 && r.status == .timedOut && r.code == -3 && r.detail == "d" && r.stderr == "e" && r.instanceEnded)
        #expect(BinaryMessages.encode(.stop) == nil, "other messages stay JSON")
    }

    @Test func startRoundTripsWithItsConfigAndGrant() throws {
        var config = ImageConfig(spec: FunctionSpec(name: "vadd", sources: []))
        config.memory = 512 << 20
        config.timeoutSeconds = 1.5
        config.args = ["/bitstreams/vadd.xclbin", ""]
        config.env = ["B": "2", "A": "1=x"]
        config.accelerator = .fpga
        config.mode = .persistent
        var identity = FPGAIdentity()
        identity.deviceName = "card"
        identity.deviceType = .gpu
        identity.globalMemory = 3 << 30
        config.fpga = identity
        let grant = FPGAGrantInfo(card: "fpga1", reconfigureNanoseconds: 100_000_000, loadedBitstream: nil)
        let start = WorkerMessage.start(StartInstance(function: "vadd", config: config, fpga: grant,
                                                      stopsAfterRequest: true))
        let bytes = try #require(BinaryMessages.encode(start))
        guard case .start(let back) = try #require(BinaryMessages.decode(bytes)) else { Issue.record("not a start"); return }
        #expect(back.config == config && back.function == "vadd" && back.stopsAfterRequest)
        #expect(back.fpga?.card == "fpga1" && back.fpga?.reconfigureNanoseconds == 100_000_000 && back.fpga?.loadedBitstream == nil)
        for cut in 1..<bytes.count { #expect(BinaryMessages.decode(Array(bytes.prefix(cut))) == nil) }
    }

    @Test func truncatedOrLyingMessagesDoNotDecode() throws {
        let bytes = try #require(BinaryMessages.encode(.invoke(InvokeRequest(id: 1, environment: ["KEY=value"], timeoutSeconds: 1))))
        for cut in 1..<bytes.count {
            #expect(BinaryMessages.decode(Array(bytes.prefix(cut))) == nil, "cut at \(cut)")
        }
        var lying = bytes
        lying[17] = 0xff  // the environment count
        #expect(BinaryMessages.decode(lying) == nil)
        #expect(BinaryMessages.decode([9, 0, 0]) == nil)
    }
}

@Suite("FPGA inventory")
struct FPGAInventoryTests {
    @Test func grantsOneInstanceAtATimeAndPrefersTheCardHoldingTheFunctionsBitstream() async throws {
        let events = EventLog()
        let inventory = FPGAInventory(count: 2, reconfigureCost: .milliseconds(100)) { events.add($0) }
        let a = try await inventory.acquire(tenant: "t1", function: "vadd", instance: "vadd-1", patience: .zero)
        let b = try await inventory.acquire(tenant: "t2", function: "sobel", instance: "sobel-1", patience: .zero)
        #expect(a.card != b.card)
        await #expect(throws: FPGAAllocationError.self) {
            try await inventory.acquire(tenant: "t3", function: "x", instance: "x-1", patience: .milliseconds(50))
        }
        await inventory.release(card: a.card, stopped: InstanceStopped(loadedBitstream: "uuid-vadd", reconfigurations: 1, wedged: false), reason: "done")
        await inventory.release(card: b.card, stopped: nil, reason: "crashed")
        let again = try await inventory.acquire(tenant: "t1", function: "vadd", instance: "vadd-2", patience: .zero)
        #expect(again.card == a.card && again.loadedBitstream == "uuid-vadd", "same function, same card, no reconfiguration")
        let other = try await inventory.acquire(tenant: "t2", function: "sobel", instance: "sobel-2", patience: .zero)
        #expect(other.loadedBitstream == nil, "a card whose instance died without saying holds nothing known")
        #expect(events.kinds == ["grant", "grant", "release", "release", "grant", "grant"])
    }

    @Test func aWaitingRequestGetsTheReleasedCardAndAWedgedCardLeavesService() async throws {
        let inventory = FPGAInventory(count: 1, reconfigureCost: .zero) { _ in }
        let first = try await inventory.acquire(tenant: "a", function: "f", instance: "f-1", patience: .zero)
        async let waiting = inventory.acquire(tenant: "b", function: "g", instance: "g-1", patience: .seconds(5))
        try await Task.sleep(for: .milliseconds(50))
        await inventory.release(card: first.card, stopped: InstanceStopped(loadedBitstream: "u", reconfigurations: 1, wedged: false), reason: "done")
        let second = try await waiting
        #expect(second.card == first.card && second.loadedBitstream == nil, "another function's bitstream is not reused")
        await inventory.release(card: second.card, stopped: InstanceStopped(loadedBitstream: nil, reconfigurations: 0, wedged: true), reason: "kernel never ended")
        #expect(await inventory.snapshot().first?.status == .outOfService)
        await #expect(throws: FPGAAllocationError.self) {
            try await inventory.acquire(tenant: "c", function: "h", instance: "h-1", patience: .seconds(5))
        }
    }
}

/// Grant events in the order the inventory recorded them.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func add(_ e: FPGAGrantEvent) { events.withLock { $0.append(e.kind.rawValue) } }
    var kinds: [String] { events.withLock { $0 } }
}
