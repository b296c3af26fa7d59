import Foundation
import Testing
@testable import Gateway

/// Queries of the gateway's SQLite state, on a real database file.
@Suite("Store: tenant-scoped queries")
struct StoreTests {
    func store() throws -> Store {
        try Store(path: NSTemporaryDirectory() + "kumo-store-\(UUID().uuidString).sqlite")
    }

    /// A tenant's grants are found even when others made many more since (filtered before the limit).
    @Test func aTenantsGrantsAreFilteredBeforeTheLimit() throws {
        let store = try store()
        func grant(_ tenant: String) throws {
            try store.record(GrantRecord(id: nil, at: Date(), kind: "grant", card: "fpga0", tenant: tenant,
                                         function: "f", instance: "f-1", detail: ""))
        }
        try grant("alice")
        for _ in 0..<60 { try grant("bob") }
        #expect(try store.grants(tenant: "alice", limit: 50).map(\.tenant) == ["alice"])
        #expect(try store.grants(tenant: nil, limit: 50).count == 50)
    }

    @Test func aDeployOfAnotherTenantsNameIsRefusedInTheTransaction() throws {
        let store = try store()
        let alice = TenantRecord(name: "alice", tokenHash: "a", admin: false, created: Date())
        let bob = TenantRecord(name: "bob", tokenHash: "b", admin: false, created: Date())
        let admin = TenantRecord(name: "admin", tokenHash: "c", admin: true, created: Date())
        for tenant in [alice, bob, admin] { #expect(try store.insert(tenant)) }
        let record = FunctionRecord(name: "victim", tenant: "alice", image: "h1", imageBytes: 1, config: "{}", limits: "{}",
                                    created: Date(), updated: Date())
        #expect(try store.deploy(record, by: alice).created)
        var takeover = record
        takeover.image = "h2"
        #expect(throws: Store.DeployRefusal.self) { try store.deploy(takeover, by: bob) }
        #expect(try store.function("victim")?.image == "h1")
        // The admin may replace it; the owner stays alice.
        let replaced = try store.deploy(takeover, by: admin)
        #expect(!replaced.created && replaced.record.tenant == "alice" && replaced.record.image == "h2")
    }
}
