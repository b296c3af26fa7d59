import Cluster
import Foundation
import Logging
import Synchronization

/// Function logs and FPGA grant records gathered in memory and written to the store in
/// batches, so neither an instance's reader thread nor a cold start waits on the database
/// (a grant written as it happened woke a writer that took the CPU from the start, ~300 µs).
final class RecordBuffer: Sendable {
    static let maxLineBytes = 16 << 10
    static let keepPerFunction = 5_000
    private let pending = Mutex<[LogRecord]>([])
    private let pendingGrants = Mutex<[GrantRecord]>([])
    private let flushing = Atomic<Bool>(false)
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

    func append(_ grant: GrantRecord) {
        pendingGrants.withLock { $0.append(grant) }
    }

    /// Writes what is pending (grants in the order they happened); prunes old lines now and then.
    func flush(prune: Bool = false) async {
        // One flush at a time, so that batches reach the store in order; the other waits (a write's length).
        while !flushing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { await Task.yield() }
        defer { flushing.store(false, ordering: .releasing) }
        for grant in pendingGrants.withLock({ p in defer { p = [] }; return p }) {
            do { try await store.record(grant) } catch { logger.error("cannot record an FPGA \(grant.kind): \(error)") }
        }
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
