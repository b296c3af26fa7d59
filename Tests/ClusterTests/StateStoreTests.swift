import Cluster
import Foundation
import Testing

/// The state store's decisions, against each implementation (the embedded default's
/// SQLite, on a real database file).
@Suite("State store: tenant-scoped queries and decisions")
struct StateStoreTests {
    static func stores() throws -> [any StateStore] {
        [try SQLiteStateStore(path: NSTemporaryDirectory() + "kumo-store-\(UUID().uuidString).sqlite")]
    }

    /// A tenant's grants are found even when others made many more since (filtered before the limit).
    @Test func aTenantsGrantsAreFilteredBeforeTheLimit() async throws {
        for store in try Self.stores() {
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
        for store in try Self.stores() {
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
}
