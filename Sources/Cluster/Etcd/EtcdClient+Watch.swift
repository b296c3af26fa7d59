import AsyncHTTPClient
import Foundation
import NIOCore

extension EtcdClient {
    /// Changes to keys under `prefix` from `revision` on, in order, in batches (one
    /// batch per revision or more). A dropped stream, or a member that goes away, is
    /// resumed on any member from the revision after the last event delivered, so no
    /// change is missed or seen twice. Ends with `EtcdError.compacted` when etcd no
    /// longer holds `revision`'s history: the caller lists again and watches anew.
    public func watch(prefix: String, from revision: Int64) -> AsyncThrowingStream<[EtcdEvent], Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var next = revision
                var pause = Duration.milliseconds(100)
                while !Task.isCancelled {
                    var failures = Attempts()
                    for index in rotation() where !Task.isCancelled {
                        do {
                            try await follow(endpoint: index, prefix: prefix, from: &next) { events in
                                continuation.yield(events)
                            }
                            pause = .milliseconds(100)
                            failures.note(endpoints[index], "the stream ended")
                        } catch let error as EtcdError {
                            if case .compacted = error { return continuation.finish(throwing: error) }
                            failures.note(endpoints[index], "\(error)")
                        } catch {
                            failures.note(endpoints[index], "\(error)")
                        }
                    }
                    logger.debug("etcd watch resuming", metadata: ["prefix": "\(prefix)", "from": "\(next)",
                                                                   "why": "\(failures.lines.joined(separator: "; "))"])
                    // Every member failed: wait a little before the next round, longer each time.
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// One watch stream on one member, until it ends; `next` follows the events delivered.
    private func follow(endpoint index: Int, prefix: String, from next: inout Int64,
                        deliver: ([EtcdEvent]) -> Void) async throws {
        let create = EtcdWire.WatchCreate(create_request: .init(key: Data(prefix.utf8), range_end: Self.rangeEnd(ofPrefix: prefix),
                                                                start_revision: .init(next)))
        var request = HTTPClientRequest(url: endpoints[index] + "/v3/watch")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(create)))
        let response = try await http.execute(request, deadline: .distantFuture)
        guard response.status == .ok else { throw EtcdError.refused(code: Int(response.status.code), message: "watch: \(response.status)") }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending += chunk.readableBytesView
            guard pending.count <= Self.maxResponse else { throw EtcdError.malformed("a watch message over \(Self.maxResponse) bytes") }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.isEmpty else { continue }
                let message: EtcdWire.WatchResponse
                do { message = try JSONDecoder().decode(EtcdWire.WatchResponse.self, from: line) } catch {
                    throw EtcdError.malformed("a watch message: \(error)")
                }
                if let failure = message.error {
                    throw EtcdError.refused(code: failure.code ?? 0, message: failure.message ?? failure.error ?? "watch failed")
                }
                guard let result = message.result else { continue }
                if let compacted = result.compact_revision?.value, compacted > 0 { throw EtcdError.compacted(revision: compacted) }
                if result.canceled == true { throw EtcdError.refused(code: 0, message: result.cancel_reason ?? "the watch was canceled") }
                if result.created == true { answered(index) }
                let events: [EtcdEvent] = (result.events ?? []).compactMap { event in
                    guard let kv = event.kv else { return nil }
                    return event.type == "DELETE" ? .delete(key: kv.record.key, revision: kv.record.modRevision) : .put(kv.record)
                }
                if let last = events.last {
                    next = last.revision + 1
                    deliver(events)
                }
            }
        }
    }
}
