import Cluster
import Foundation
import KumoTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing

/// The etcd client against real etcd members started by each test.
@Suite("etcd client", .serialized)
struct EtcdClientTests {
    static let logger = Logger(label: "test")

    func client(_ members: EtcdMembers, endpoints: [String]? = nil) throws -> EtcdClient {
        try EtcdClient(endpoints: endpoints ?? members.endpoints, logger: Self.logger)
    }

    @Test func keysAreWrittenReadListedAndDeleted() async throws {
        let etcd = try EtcdMembers(count: 1)
        let client = try client(etcd)
        #expect(try await client.get("/kumo/none") == nil)
        let first = try await client.put("/kumo/fn/a", Array("one".utf8))
        try await client.put("/kumo/fn/b", Array("two".utf8))
        try await client.put("/kumo/fn/c", [0, 255, 10])
        try await client.put("/kumo/fo", Array("outside".utf8))
        let a = try #require(try await client.get("/kumo/fn/a"))
        #expect(a.value == Array("one".utf8) && a.version == 1 && a.createRevision == first)
        let all = try await client.range(prefix: "/kumo/fn/")
        #expect(all.values.map(\.key) == ["/kumo/fn/a", "/kumo/fn/b", "/kumo/fn/c"])
        #expect(all.values[2].value == [0, 255, 10])
        #expect(!all.more && all.revision >= first + 3)
        let page = try await client.range(prefix: "/kumo/fn/", limit: 2)
        #expect(page.values.count == 2 && page.more)
        let before = try await client.range(prefix: "/kumo/fn/", revision: first)
        #expect(before.values.map(\.key) == ["/kumo/fn/a"])
        #expect(try await client.delete("/kumo/fn/a") == 1)
        #expect(try await client.delete("/kumo/fn/a") == 0)
        #expect(try await client.delete(prefix: "/kumo/fn/") == 2)
        #expect(try await client.range(prefix: "/kumo/").values.map(\.key) == ["/kumo/fo"])
    }

    @Test func ofTwoRacingCreatesExactlyOneWins() async throws {
        let etcd = try EtcdMembers(count: 1)
        let client = try client(etcd)
        for round in 0..<10 {
            let key = "/kumo/grants/card\(round)"
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for gateway in ["g1", "g2"] {
                    group.addTask {
                        try await client.transaction(if: [.absent(key)], then: [.put(key, Array(gateway.utf8))],
                                                     else: [.get(key)]).succeeded
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
        let lost = try await client.transaction(if: [.absent("/kumo/grants/card0")], then: [.put("/kumo/grants/card0", [1])],
                                                else: [.get("/kumo/grants/card0")])
        #expect(!lost.succeeded)
        #expect(lost.reads.first?.first.map { String(decoding: $0.value, as: UTF8.self) }.map { ["g1", "g2"].contains($0) } == true)
        let current = try #require(try await client.get("/kumo/grants/card0"))
        let swapped = try await client.transaction(if: [EtcdCondition("/kumo/grants/card0", .modRevision(current.modRevision))],
                                                   then: [.delete("/kumo/grants/card0")])
        #expect(swapped.succeeded)
        #expect(try await client.get("/kumo/grants/card0") == nil)
    }

    @Test func leasedKeysGoWithTheirLease() async throws {
        let etcd = try EtcdMembers(count: 1)
        let client = try client(etcd)
        let lease = try await client.grantLease(ttlSeconds: 30)
        #expect(lease.ttlSeconds == 30)
        try await client.put("/kumo/nodes/n1", Array("alive".utf8), lease: lease.id)
        #expect(try await client.get("/kumo/nodes/n1")?.lease == lease.id)
        let left = try #require(try await client.keepAlive(lease.id))
        #expect(left > 25 && left <= 30)
        try await client.revoke(lease.id)
        #expect(try await client.get("/kumo/nodes/n1") == nil)
        #expect(try await client.keepAlive(lease.id) == nil)
        try await client.revoke(lease.id)  // already gone: not an error
        // A lease nobody renews expires, and its keys with it. Its TTL leaves room for a loaded
        // machine between the grant and the put: a 1 s lease once expired in between in CI.
        let short = try await client.grantLease(ttlSeconds: 4)
        try await client.put("/kumo/nodes/n2", [1], lease: short.id)
        let deadline = ContinuousClock.now + .seconds(20)
        while try await client.get("/kumo/nodes/n2") != nil {
            #expect(ContinuousClock.now < deadline, "the key outlived its 4 s lease by 16 s")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        // A put with a lease that does not exist is refused, with etcd's reason.
        await #expect(throws: EtcdError.self) { try await client.put("/kumo/nodes/n3", [1], lease: 12345) }
    }

    @Test func aWatchSeesEveryChangeInOrderAcrossAMembersDeath() async throws {
        let etcd = try EtcdMembers(count: 3)
        let client = try client(etcd)
        let start = try await client.put("/kumo/other", [0]) + 1
        var events = client.watch(prefix: "/kumo/fn/", from: start).makeAsyncIterator()
        try await client.put("/kumo/fn/a", [1])
        try await client.put("/kumo/elsewhere", [9])
        try await client.delete("/kumo/fn/a")
        var seen: [EtcdEvent] = []
        while seen.count < 2, let batch = try await events.next() { seen += batch }
        #expect(seen.map(\.key) == ["/kumo/fn/a", "/kumo/fn/a"])
        guard case .put(let kv) = seen[0], case .delete = seen[1] else {
            Issue.record("expected a put then a delete, saw \(seen)")
            return
        }
        #expect(kv.value == [1])
        // The member the client talks to dies; writes go on through the others and the watch resumes.
        etcd.kill(0)
        for i in 0..<5 { try await client.put("/kumo/fn/k\(i)", [UInt8(i)]) }
        var after: [EtcdEvent] = []
        while after.count < 5, let batch = try await events.next() { after += batch }
        #expect(after.map(\.key) == (0..<5).map { "/kumo/fn/k\($0)" })
        #expect(after.map(\.revision) == after.map(\.revision).sorted())
    }

    @Test func aWatchFromACompactedRevisionSaysSo() async throws {
        let etcd = try EtcdMembers(count: 1)
        let client = try client(etcd)
        let old = try await client.put("/kumo/fn/a", [1])
        let latest = try await client.put("/kumo/fn/a", [2])
        try await Self.compact(etcd.endpoints[0], revision: latest)
        var events = client.watch(prefix: "/kumo/fn/", from: old).makeAsyncIterator()
        await #expect(throws: EtcdError.compacted(revision: latest)) { _ = try await events.next() }
    }

    @Test func callsFailOverToAMemberThatAnswers() async throws {
        let etcd = try EtcdMembers(count: 3)
        let dead = "http://127.0.0.1:\(try FreePorts.take(1)[0])"
        let client = try client(etcd, endpoints: [dead] + etcd.endpoints)
        try await client.put("/kumo/x", [1])
        etcd.kill(1)
        for i in 0..<5 { try await client.put("/kumo/x\(i)", [UInt8(i)]) }
        #expect(try await client.range(prefix: "/kumo/x").values.count == 6)
    }

    @Test func badEndpointsAndNoMembersGiveClearErrors() async throws {
        for bad in ["", "127.0.0.1:2379", "https://127.0.0.1:2379", "http://:2379", "http://host", "http://h:1/v3"] {
            #expect(throws: EtcdError.self) { try EtcdClient(endpoints: [bad], logger: Self.logger) }
        }
        let ports = try FreePorts.take(2)
        let client = try EtcdClient(endpoints: ["http://127.0.0.1:\(ports[0]),http://127.0.0.1:\(ports[1])"],
                                    callTimeout: .seconds(1), logger: Self.logger)
        #expect(client.endpoints.count == 2)
        do {
            _ = try await client.get("/kumo/x")
            Issue.record("a get with no etcd answered")
        } catch {
            guard case .unavailable(let tried) = error else { Issue.record("unexpected \(error)"); return }
            #expect(tried.count == 2)
            #expect("\(error)".contains("etcd is unreachable"))
        }
    }

    /// Compacts the store's history (an operator's act, done here through the gateway directly).
    static func compact(_ endpoint: String, revision: Int64) async throws {
        var request = URLRequest(url: URL(string: endpoint + "/v3/kv/compaction")!)
        request.httpMethod = "POST"
        request.httpBody = Data("{\"revision\":\"\(revision)\",\"physical\":true}".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }
}
