import Cluster
import Foundation
import KumoTestSupport
import Logging
import Testing

/// The state store's decisions, against each implementation: the embedded default's
/// SQLite on a real database file, and etcd on a real member.
@Suite("State store: tenant-scoped queries and decisions", .serialized)
final class StateStoreTests {
    let etcd: EtcdMembers

    init() throws {
        etcd = try EtcdMembers(count: 1)
    }

    func stores() throws -> [any StateStore] {
        [try SQLiteStateStore(path: NSTemporaryDirectory() + "kumo-store-\(UUID().uuidString).sqlite"),
         EtcdStateStore(etcd: try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test")), gateway: "g1")]
    }

    /// A tenant's grants are found even when others made many more since (filtered before the limit).
    @Test func aTenantsGrantsAreFilteredBeforeTheLimit() async throws {
        for store in try stores() {
            func grant(_ tenant: String) async throws {
                try await store.record(GrantRecord(at: Date(), kind: "grant", card: "fpga0", tenant: tenant,
                                                   function: "f", instance: "f-1", detail: ""))
            }
            try await grant("alice")
            for _ in 0..<60 { try await grant("bob") }
            #expect(try await store.grants(tenant: "alice", limit: 50).map(\.tenant) == ["alice"])
            #expect(try await store.grants(tenant: nil, limit: 50).count == 50)
        }
    }

    @Test func aDeployOfAnotherTenantsNameIsRefusedInTheSameStep() async throws {
        for store in try stores() {
            let alice = TenantRecord(name: "alice", tokenHash: "a", admin: false, created: Date())
            let bob = TenantRecord(name: "bob", tokenHash: "b", admin: false, created: Date())
            let admin = TenantRecord(name: "admin", tokenHash: "c", admin: true, created: Date())
            for tenant in [alice, bob, admin] { #expect(try await store.insert(tenant)) }
            #expect(try await !store.insert(alice))
            let record = FunctionRecord(name: "victim", tenant: "alice", image: "h1", imageBytes: 1, config: "{}", limits: "{}",
                                        created: Date(), updated: Date())
            #expect(try await store.deploy(record, by: alice).created)
            var takeover = record
            takeover.image = "h2"
            await #expect(throws: DeployRefusal.self) { try await store.deploy(takeover, by: bob) }
            #expect(try await store.function("victim")?.image == "h1")
            // The admin may replace it; the owner stays alice.
            let replaced = try await store.deploy(takeover, by: admin)
            #expect(!replaced.created && replaced.record.tenant == "alice" && replaced.record.image == "h2")
        }
    }

    @Test func tokensFindTheirTenantAndNamesAreUnique() async throws {
        for store in try stores() {
            #expect(try await !store.hasAdmin())
            #expect(try await store.insert(TenantRecord(name: "alice", tokenHash: "ha", admin: false, created: Date(), memoryLimit: 1 << 30)))
            #expect(try await !store.insert(TenantRecord(name: "alice", tokenHash: "hx", admin: false, created: Date())))
            #expect(try await !store.insert(TenantRecord(name: "mallory", tokenHash: "ha", admin: false, created: Date())))
            #expect(try await store.insert(TenantRecord(name: "admin", tokenHash: "hb", admin: true, created: Date())))
            #expect(try await store.hasAdmin())
            #expect(try await store.tenant(tokenHash: "ha")?.name == "alice")
            #expect(try await store.tenant(tokenHash: "ha")?.memoryLimit == 1 << 30)
            #expect(try await store.tenant(tokenHash: "nope") == nil)
            #expect(try await store.tenants().map(\.name) == ["admin", "alice"])
        }
    }

    @Test func functionsAreListedPerTenantAndTheirImagesCounted() async throws {
        for store in try stores() {
            let alice = TenantRecord(name: "alice", tokenHash: "a", admin: false, created: Date())
            let bob = TenantRecord(name: "bob", tokenHash: "b", admin: false, created: Date())
            for tenant in [alice, bob] { #expect(try await store.insert(tenant)) }
            for (name, owner, image) in [("f1", alice, "i1"), ("f2", bob, "i2"), ("f3", alice, "i1")] {
                _ = try await store.deploy(FunctionRecord(name: name, tenant: owner.name, image: image, imageBytes: 1, config: "{}",
                                                          limits: "{}", created: Date(), updated: Date()), by: owner)
            }
            #expect(try await store.functions(tenant: "alice").map(\.name) == ["f1", "f3"])
            #expect(try await store.functions(tenant: nil).count == 3)
            #expect(try await store.imagesInUse() == ["i1", "i2"])
            try await store.deleteFunction("f2")
            #expect(try await store.function("f2") == nil)
            #expect(try await store.imagesInUse() == ["i1"])
        }
    }

    /// Each node's learned keep-alives: kept per node, only for functions that exist, gone with the function.
    @Test func learnedKeepAlivesArePerNodeAndGoWithTheirFunction() async throws {
        for store in try stores() {
            let alice = TenantRecord(name: "alice", tokenHash: "a", admin: false, created: Date())
            #expect(try await store.insert(alice))
            _ = try await store.deploy(FunctionRecord(name: "f1", tenant: "alice", image: "i1", imageBytes: 1, config: "{}",
                                                      limits: "{}", created: Date(), updated: Date()), by: alice)
            try await store.saveLearnedKeepAlive(node: "n1", function: "f1", json: "{\"a\":1}")
            try await store.saveLearnedKeepAlive(node: "n1", function: "f1", json: "{\"a\":2}")
            try await store.saveLearnedKeepAlive(node: "n2", function: "f1", json: "{\"b\":1}")
            try await store.saveLearnedKeepAlive(node: "n1", function: "gone", json: "{}")
            #expect(try await store.learnedKeepAlives(node: "n1") == ["f1": "{\"a\":2}"], "\(type(of: store))")
            #expect(try await store.learnedKeepAlives(node: "n2") == ["f1": "{\"b\":1}"])
            try await store.deleteFunction("f1")
            #expect(try await store.learnedKeepAlives(node: "n1").isEmpty)
            #expect(try await store.learnedKeepAlives(node: "n2").isEmpty)
        }
    }

    /// Of many concurrent calls, exactly the cap's worth are accepted; finishing one makes room.
    @Test func thePendingCapHoldsUnderConcurrencyAndFinishingMakesRoom() async throws {
        for store in try stores() {
            // Calls count against the tenant that owns their function.
            let alice = TenantRecord(name: "alice", tokenHash: "a", admin: false, created: Date())
            #expect(try await store.insert(alice))
            _ = try await store.deploy(FunctionRecord(name: "f", tenant: "alice", image: "i", imageBytes: 1, config: "{}", limits: "{}",
                                                      created: Date(), updated: Date()), by: alice)
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        try await store.insert(Self.call("c\(i)"), tenant: "alice", pendingBelow: 5)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(accepted == 5)
            #expect(try await store.pendingCalls(tenant: "alice") == 5)
            #expect(try await store.pendingCalls(tenant: "bob") == 0)
            let queued = try await store.unfinishedCalls()
            #expect(queued.count == 5)
            var first = try #require(queued.first)
            first.state = .running
            try await store.update(first)
            // A gateway that died while running it: back in the queue.
            #expect(try await store.unfinishedCalls().allSatisfy { $0.state == .queued })
            first.state = .done
            first.finished = Date()
            first.response = Data("ok".utf8)
            try await store.update(first)
            #expect(try await store.pendingCalls(tenant: "alice") == 4)
            #expect(try await store.call(first.id)?.response == Data("ok".utf8))
            #expect(try await store.insert(Self.call("late"), tenant: "alice", pendingBelow: 5))
            #expect(try await store.pruneCalls(finishedBefore: Date().addingTimeInterval(60), maxBytes: 1 << 20) == 1)
            #expect(try await store.call(first.id) == nil)
        }
    }

    /// In a cluster, a gateway runs the async calls it accepted; those of a gateway that left
    /// the cluster go to one still there, and a live gateway's calls are never taken.
    @Test func aLeavingGatewaysAsyncCallsAreTakenOverOnce() async throws {
        let client = try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test"))
        let (g1, g2, g3) = (EtcdStateStore(etcd: client, gateway: "g1"), EtcdStateStore(etcd: client, gateway: "g2"),
                            EtcdStateStore(etcd: client, gateway: "g3"))
        var leases: [String: Int64] = [:]
        for name in ["g1", "g2", "g3"] {
            let lease = try await client.grantLease(ttlSeconds: 30)
            leases[name] = lease.id
            try await client.put(ClusterKeys.gateways + name, Array("http://\(name)".utf8), lease: lease.id)
        }
        for i in 0..<3 { #expect(try await g1.insert(Self.call("h\(i)"), tenant: "alice", pendingBelow: 10)) }
        #expect(try await g2.unfinishedCalls().isEmpty, "g1 is alive: its calls stay its own")
        #expect(try await g1.unfinishedCalls().count == 3)
        // g1 leaves (its lease ends): g2 and g3 race for its calls; each call goes to one of them.
        try await client.revoke(try #require(leases["g1"]))
        async let two = g2.unfinishedCalls()
        async let three = g3.unfinishedCalls()
        let (byTwo, byThree) = try await (two, three)
        #expect(Set(byTwo.map(\.id)).isDisjoint(with: byThree.map(\.id)) && byTwo.count + byThree.count == 3)
        #expect(try await g1.unfinishedCalls().isEmpty, "a gateway coming back under g1 finds them taken")
    }

    static func call(_ id: String) -> CallRecord {
        CallRecord(id: id, function: "f", state: .queued, body: Data("body".utf8), environment: "[]", created: Date())
    }

    /// Lines come back in order after an id, a page at a time; pruning keeps the newest per function.
    @Test func logsPageInOrderAndPruneKeepsTheNewest() async throws {
        for store in try stores() {
            let lines = (0..<30).map { LogRecord(at: Date(), function: $0 % 3 == 0 ? "g" : "f", instance: "i", stream: "stdout", text: "line \($0)") }
            try await store.append(lines)
            let first = try await store.logs(function: "f", after: 0, limit: 10)
            #expect(first.map(\.text) == lines.filter { $0.function == "f" }.prefix(10).map(\.text))
            let rest = try await store.logs(function: "f", after: try #require(first.last?.id), limit: 100)
            #expect(rest.count == 10)
            // Three more writes of "h": pruning keeps at least the newest 4 lines (whole batches in etcd).
            for batch in 0..<3 {
                try await store.append((0..<5).map { LogRecord(at: Date(), function: "h", instance: "i", stream: "stdout", text: "h \(batch).\($0)") })
            }
            try await store.pruneLogs(keep: 4)
            let h = try await store.logs(function: "h", after: 0, limit: 100).map(\.text)
            #expect((4...5).contains(h.count) && h.suffix(4) == ["h 2.1", "h 2.2", "h 2.3", "h 2.4"])
            let f = try await store.logs(function: "f", after: 0, limit: 100).map(\.text)
            #expect(f.count >= 4 && f.suffix(4) == lines.filter { $0.function == "f" }.suffix(4).map(\.text))
        }
    }
}
