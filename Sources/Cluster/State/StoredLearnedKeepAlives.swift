import Foundation
import Node

/// A node's learned keep-alives in the state store, under the node's name: SQLite for the
/// embedded default, etcd in a cluster. A restarted node starts from what it learned.
public struct StoredLearnedKeepAlives: LearnedKeepAliveStore {
    let store: any StateStore
    let node: String

    public init(store: any StateStore, node: String) {
        self.store = store
        self.node = node
    }

    public func histograms() async throws -> [String: IdleTimeHistogram] {
        var found: [String: IdleTimeHistogram] = [:]
        for (function, json) in try await store.learnedKeepAlives(node: node) {
            // One that does not decode, or does not make sense, is learned again from nothing.
            guard let histogram = try? JSONDecoder().decode(IdleTimeHistogram.self, from: Data(json.utf8)),
                  histogram.isWellFormed else { continue }
            found[function] = histogram
        }
        return found
    }

    public func save(_ histogram: IdleTimeHistogram, function: String) async throws {
        try await store.saveLearnedKeepAlive(node: node, function: function,
                                             json: String(decoding: try JSONEncoder().encode(histogram), as: UTF8.self))
    }
}
