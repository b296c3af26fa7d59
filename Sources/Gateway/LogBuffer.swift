import Cluster
import Foundation
import Logging
import Synchronization

/// Function logs gathered in memory and written to SQLite in batches, so an
/// instance's reader thread never waits on the database.
final class LogBuffer: Sendable {
    static let maxLineBytes = 16 << 10
    static let keepPerFunction = 5_000
    private let pending = Mutex<[LogRecord]>([])
    private let store: any StateStore
    private let logger: Logger

    init(store: any StateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func append(function: String, instance: String, stream: String, text: String) {
        guard !text.isEmpty else { return }
        let record = LogRecord(id: nil, at: Date(), function: function, instance: instance, stream: stream,
                               text: String(text.utf8.count > Self.maxLineBytes ? text.prefix(Self.maxLineBytes) + "…" : text[...]))
        pending.withLock { $0.append(record) }
    }

    /// Writes what is pending; prunes old lines now and then.
    func flush(prune: Bool = false) async {
        let batch = pending.withLock { p in defer { p = [] }; return p }
        do {
            if !batch.isEmpty { try await store.append(batch) }
            if prune { try await store.pruneLogs(keep: Self.keepPerFunction) }
        } catch {
            logger.error("cannot write function logs: \(error)")
        }
    }

    func run() async {
        var rounds = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            rounds += 1
            await flush(prune: rounds % 600 == 0)
        }
        await flush()
    }
}
