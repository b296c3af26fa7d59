@testable import Cluster
import Foundation
import Functions
@testable import Node
import Testing

/// Where the gateway sends a request, decided from node records as etcd holds them.
@Suite("Placement: bitstream affinity, the load balancer's policies, the gateway's view of cards")
struct PlacementTests {
    static func deployment(_ name: String, tenant: String = "alice", bitstream: String? = nil, maxInstances: Int = 4) -> Deployment {
        var config = ImageConfig(spec: FunctionSpec(name: name, sources: []), bitstream: bitstream)
        if bitstream != nil { config.accelerator = .fpga }
        return Deployment(name: name, tenant: tenant, imagePath: "", version: "v1", config: config,
                          limits: InstanceLimits(maxInstances: maxInstances))
    }

    static func card(_ name: String, holding bitstream: String? = nil, function: String? = nil, tenant: String? = nil,
                     status: FPGACardState.Status = .free, since: Date = Date(timeIntervalSince1970: 1000)) -> FPGACardState {
        FPGACardState(name: name, status: status, since: since, loadedBitstream: bitstream, lastFunction: function,
                      lastTenant: tenant, reconfigurations: 0, grants: 0)
    }

    static func node(_ name: String, instances: Int = 0, cards: [FPGACardState] = [], published: Date = Date(),
                     images: [String]? = nil) -> NodeRecord {
        let capacity = NodeCapacity(instances: instances, fpgas: cards.count, fpgasFree: cards.filter { $0.status == .free }.count,
                                    pooledProcesses: 0, guestMemory: 8 << 30, guestMemoryUsed: 0)
        return NodeRecord(name: name, address: "http://127.0.0.1:1", version: ClusterProtocol.version, lease: 1,
                          registered: Date(), published: published, capacity: capacity, cards: cards, images: images)
    }

    static func choose(_ d: Deployment, _ candidates: [Placement.Candidate], policy: Placement.Policy = Placement.Policy(),
                       turn: Int = 0) -> (node: String, reason: Placement.Reason)? {
        var random = SystemRandomNumberGenerator()
        return Placement.choose(for: d, among: candidates, policy: policy, turn: turn, using: &random)
    }

    /// Another function of the same tenant that loads the same bitstream goes to the card holding it,
    /// even on the busier node; another tenant's function with that bitstream does not.
    @Test func aColdStartGoesToTheCardHoldingItsBitstreamForTheSameTenantOnly() {
        let busy = Self.node("n1", instances: 5, cards: [Self.card("fpga0", holding: "B", function: "f1", tenant: "alice")])
        let idle = Self.node("n2", cards: [Self.card("fpga0", holding: "C", function: "g", tenant: "alice")])
        let candidates = [busy, idle].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        let hit = Self.choose(Self.deployment("f2", bitstream: "B"), candidates)
        #expect(hit?.node == "n1" && hit?.reason == .bitstreamHit)
        let other = Self.choose(Self.deployment("f3", tenant: "bob", bitstream: "B"), candidates)
        #expect(other?.node == "n2" && other?.reason == .leastLoaded)
        // Random placement ignores what the cards hold.
        let random = Self.choose(Self.deployment("f2", bitstream: "B"), candidates, policy: Placement.Policy(coldStart: .random))
        #expect(random?.reason == .random)
    }

    /// A cold start goes to a node holding the function's image read and sealed, even a busier
    /// one; a card holding the bitstream and a never-configured card still come first.
    @Test func aColdStartPrefersANodeThatHoldsTheImagePreloaded() {
        let preloaded = Self.node("n1", instances: 3, images: ["v0", "v1"])
        let idle = Self.node("n2", images: ["v0"])
        let plain = [preloaded, idle].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        let hit = Self.choose(Self.deployment("f"), plain)
        #expect(hit?.node == "n1" && hit?.reason == .preloaded)
        // Nodes that publish no images (an older kumo) are ranked by load alone.
        let unknown = [Self.node("n1", instances: 3), Self.node("n2")].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        #expect(Self.choose(Self.deployment("f"), unknown).map { "\($0.node) \($0.reason)" } == "n2 leastLoaded")

        let holder = Self.node("n1", cards: [Self.card("fpga0", holding: "B", function: "f", tenant: "alice")])
        let blank = Self.node("n2", cards: [Self.card("fpga0")], images: ["v1"])
        let used = Self.node("n3", cards: [Self.card("fpga0", holding: "Y", function: "y", tenant: "alice")], images: ["v1"])
        let fpga = [holder, blank, used].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        #expect(Self.choose(Self.deployment("f", bitstream: "B"), fpga)?.reason == .bitstreamHit)
        let blankFirst = Self.choose(Self.deployment("g", bitstream: "Z"), Array(fpga.dropFirst()))
        #expect(blankFirst?.node == "n2" && blankFirst?.reason == .preloaded)
        let noBlank = [holder, used].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        #expect(Self.choose(Self.deployment("g", bitstream: "Z"), noBlank).map { "\($0.node) \($0.reason)" } == "n3 preloaded")
    }

    /// Without a holder, a cold start takes a never-configured card before evicting one, then the card idle longest.
    @Test func withoutAHolderANeverConfiguredCardThenTheLongestIdleIsTaken() {
        let old = Date(timeIntervalSince1970: 1000), recent = Date(timeIntervalSince1970: 2000)
        let recentNode = Self.node("n1", cards: [Self.card("fpga0", holding: "X", function: "x", tenant: "alice", since: recent)])
        let oldNode = Self.node("n2", cards: [Self.card("fpga0", holding: "Y", function: "y", tenant: "alice", since: old)])
        let emptyNode = Self.node("n3", cards: [Self.card("fpga0")])
        let all = [recentNode, oldNode, emptyNode].map { Placement.Candidate(record: $0, inFlight: 0, warm: false) }
        #expect(Self.choose(Self.deployment("f", bitstream: "Z"), all)?.node == "n3")
        #expect(Self.choose(Self.deployment("f", bitstream: "Z"), Array(all.prefix(2)))?.node == "n2")
        // No free card anywhere: no placement (the gateway answers 503).
        let full = Self.node("n4", cards: [Self.card("fpga0", status: .granted)])
        #expect(Self.choose(Self.deployment("f", bitstream: "Z"), [Placement.Candidate(record: full, inFlight: 0, warm: false)]) == nil)
    }

    /// Least-of-two keeps a function on its warm nodes while they have room, and spreads past that.
    @Test func warmNodesTakeRequestsWhileTheyHaveRoom() {
        let d = Self.deployment("hello", maxInstances: 2)
        let roomy = [Placement.Candidate(record: Self.node("n1"), inFlight: 1, warm: true),
                     Placement.Candidate(record: Self.node("n2", instances: 0), inFlight: 0, warm: false)]
        #expect(Self.choose(d, roomy)?.node == "n1")
        let full = [Placement.Candidate(record: Self.node("n1"), inFlight: 2, warm: true),
                    Placement.Candidate(record: Self.node("n2"), inFlight: 0, warm: false)]
        let spread = Self.choose(d, full)
        #expect(spread?.node == "n2" && spread?.reason == .leastLoaded)
        // Of two warm nodes, the one with fewer requests in flight (two candidates: both are always drawn).
        let two = [Placement.Candidate(record: Self.node("n1"), inFlight: 1, warm: true),
                   Placement.Candidate(record: Self.node("n2"), inFlight: 0, warm: true)]
        for _ in 0..<20 { #expect(Self.choose(d, two)?.node == "n2") }
    }

    /// A node whose CPU is shared takes fewer requests before its in-flight count shows it.
    @Test func ofTwoNodesTheOneExpectedToAnswerSoonerTakesTheRequest() {
        let d = Self.deployment("spin")
        let slow = Placement.Candidate(record: Self.node("slow"), inFlight: 0, warm: true, slowdown: 5)
        let fast = Placement.Candidate(record: Self.node("fast"), inFlight: 1, warm: true, slowdown: 1)
        for _ in 0..<20 { #expect(Self.choose(d, [slow, fast])?.node == "fast") }
        let busy = Placement.Candidate(record: Self.node("fast"), inFlight: 3, warm: true, slowdown: 1)
        let idle = Placement.Candidate(record: Self.node("slow"), inFlight: 0, warm: true, slowdown: 3)
        for _ in 0..<20 { #expect(Self.choose(d, [busy, idle])?.node == "slow") }
    }

    /// The slowdown weighs requests by their CPU time: many short requests that ran at full speed
    /// do not hide a long one that got a fifth of the CPU. It follows a change within seconds and
    /// is unknown again when not refreshed.
    @Test func aNodesSlowdownWeighsRequestsByTheirWork() {
        var shared = NodeSlowdown()
        let start = ContinuousClock.now
        for i in 0..<9 { shared.add(wall: 1_000_000, cpu: 1_000_000, at: start + .milliseconds(10 * i)) }
        shared.add(wall: 100_000_000, cpu: 20_000_000, at: start + .milliseconds(100))
        let value = shared.value(at: start + .milliseconds(100))
        #expect(value > 3.5 && value < 4.0, "\(value)")  // (9 + 100) / (9 + 20)
        // Later samples at full speed bring it back toward 1.
        for i in 1...20 { shared.add(wall: 10_000_000, cpu: 10_000_000, at: start + .milliseconds(100 + 200 * i)) }
        #expect(shared.value(at: start + .seconds(4)) < 1.5)
        #expect(shared.value(at: start + .seconds(7)) == 0, "unrefreshed for 2 s: unknown")
        #expect(NodeSlowdown().value(at: start) == 0)
    }

    @Test func roundRobinVisitsEveryFittingNodeInTurn() {
        let nodes = ["n3", "n1", "n2"].map { Placement.Candidate(record: Self.node($0), inFlight: 0, warm: $0 == "n1") }
        let policy = Placement.Policy(balance: .roundRobin)
        let order = (0..<6).compactMap { Self.choose(Self.deployment("f"), nodes, policy: policy, turn: $0)?.node }
        #expect(order == ["n1", "n2", "n3", "n1", "n2", "n3"])
    }

    /// A request that follows another by less than a publish interval sees the card that one left loaded.
    @Test func theGatewaysCardViewAppliesItsOwnPlacementsUntilANewerRecord() {
        let view = CardView()
        let published = Date()
        let record = Self.node("n1", cards: [Self.card("fpga0"), Self.card("fpga1", holding: "Q", function: "q", tenant: "alice")],
                               published: published)
        let first = Self.deployment("f1", bitstream: "B")
        let id = view.place(first, on: "n1")
        let running = view.current(record)
        #expect(running.cards[0].status == .granted && running.capacity.fpgasFree == 1)
        view.finished(id, on: "n1", instanceEnded: true)
        let ended = view.current(record)
        #expect(ended.cards[0].status == .free && ended.cards[0].loadedBitstream == "B" && ended.cards[0].lastTenant == "alice")
        let candidates = [Placement.Candidate(record: ended, inFlight: 0, warm: false)]
        #expect(Self.choose(Self.deployment("f2", bitstream: "B"), candidates)?.reason == .bitstreamHit)
        // A record published after the release speaks for itself: the placement is forgotten.
        var newer = record
        newer.published = Date().addingTimeInterval(CardView.settle + 1)
        #expect(view.current(newer).cards[0].loadedBitstream == nil)
    }
}
