import Cluster
import Foundation
import KumoSupport
import Logging

/// Runs accepted async calls. Each is in the state store before the 202 goes out;
/// a call the server was running when it died goes back to the queue on start
/// (in a cluster: the queue of a gateway still there, see `takeOver`).
actor AsyncCallRunner {
    let store: any StateStore
    let concurrency: Int
    let callbacks: CallbackSender
    let logger: Logger
    private var queue: [String] = []
    /// Calls queued or running here.
    private var held: Set<String> = []
    private var running = 0
    private var gateway: Gateway?

    init(store: any StateStore, concurrency: Int, callbacks: CallbackSender, logger: Logger) {
        self.store = store
        self.concurrency = max(concurrency, 1)
        self.callbacks = callbacks
        self.logger = logger
    }

    func start(gateway: Gateway) async {
        self.gateway = gateway
        await takeOver()
    }

    /// Queues the unfinished calls that are this gateway's to run: at start, and in a
    /// cluster each time another gateway leaves (its calls are taken over).
    func takeOver() async {
        do {
            let unfinished = try await store.unfinishedCalls().map(\.id).filter { !held.contains($0) }
            if !unfinished.isEmpty { logger.info("resuming \(unfinished.count) accepted async calls") }
            for id in unfinished { submit(id) }
        } catch {
            logger.error("cannot read the async call queue: \(error)")
        }
        pump()
    }

    private var lastPrune = ContinuousClock.now

    /// Drops finished calls past their retention (or past the storage cap), at most
    /// once per minute (or per retention, when that is shorter).
    func pruneIfDue(retention: Duration, maxBytes: Int) async {
        let now = ContinuousClock.now
        guard now - lastPrune >= min(retention, .seconds(60)) else { return }
        lastPrune = now
        let seconds = retention.seconds
        do {
            let removed = try await store.pruneCalls(finishedBefore: Date().addingTimeInterval(-seconds), maxBytes: maxBytes)
            if removed > 0 { logger.info("dropped \(removed) finished async calls past their retention") }
        } catch {
            logger.error("cannot prune async calls: \(error)")
        }
    }

    func submit(_ id: String) {
        guard held.insert(id).inserted else { return }
        queue.append(id)
        pump()
    }

    private func pump() {
        guard gateway != nil else { return }
        while running < concurrency, !queue.isEmpty {
            let id = queue.removeFirst()
            running += 1
            Task {
                await process(id)
                finishOne(id)
            }
        }
    }

    private func finishOne(_ id: String) {
        running -= 1
        held.remove(id)
        pump()
    }

    private func process(_ id: String) async {
        guard let gateway, var call = try? await store.call(id), call.state != .done else { return }
        call.state = .running
        try? await store.update(call)
        let environment = (try? JSONDecoder().decode([String].self, from: Data(call.environment.utf8))) ?? []
        let reply = await gateway.invoke(function: call.function, body: [UInt8](call.body),
                                         environment: environment + ["KUMO_CALL_ID=\(id)"])
        call.state = .done
        call.finished = Date()
        call.httpStatus = reply.httpStatus
        switch reply {
        case .completed(let outcome):
            call.code = Int(outcome.result.code)
            call.detail = outcome.result.detail
            call.response = Data(outcome.output)
        case .refused(let error):
            call.detail = error.description
            call.response = Data()
        }
        do { try await store.update(call) } catch { logger.error("cannot record async call \(id): \(error)") }
        if let callback = call.callback, let url = URL(string: callback) {
            await callbacks.enqueue(.init(callID: id, function: call.function, url: url, body: call.response ?? Data(),
                                          httpStatus: call.httpStatus ?? 0, code: call.code))
        }
    }
}
