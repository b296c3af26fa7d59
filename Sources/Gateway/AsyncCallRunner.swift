import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// Runs accepted async calls. Each is in SQLite before the 202 goes out; a
/// call the server was running when it died goes back to the queue on start.
actor AsyncCallRunner {
    let store: Store
    let concurrency: Int
    let logger: Logger
    private var queue: [String] = []
    private var running = 0
    private var gateway: Gateway?

    init(store: Store, concurrency: Int, logger: Logger) {
        self.store = store
        self.concurrency = max(concurrency, 1)
        self.logger = logger
    }

    func start(gateway: Gateway) {
        self.gateway = gateway
        do {
            let unfinished = try store.unfinishedCalls()
            if !unfinished.isEmpty { logger.info("resuming \(unfinished.count) accepted async calls") }
            queue += unfinished.map(\.id)
        } catch {
            logger.error("cannot read the async call queue: \(error)")
        }
        pump()
    }

    func submit(_ id: String) {
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
                finishOne()
            }
        }
    }

    private func finishOne() {
        running -= 1
        pump()
    }

    private func process(_ id: String) async {
        guard let gateway, var call = try? store.call(id), call.state != .done else { return }
        call.state = .running
        try? store.update(call)
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
        do { try store.update(call) } catch { logger.error("cannot record async call \(id): \(error)") }
        if let callback = call.callback, let url = URL(string: callback) {
            call.callbackResult = await deliver(call, to: url)
            try? store.update(call)
        }
    }

    /// POSTs the result to the caller's URL, three tries.
    private func deliver(_ call: CallRecord, to url: URL) async -> String {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = call.response ?? Data()
        request.setValue(call.id, forHTTPHeaderField: "X-Kumo-Call-Id")
        request.setValue(call.function, forHTTPHeaderField: "X-Kumo-Function")
        request.setValue("\(call.httpStatus ?? 0)", forHTTPHeaderField: "X-Kumo-Http-Status")
        if let code = call.code { request.setValue("\(code)", forHTTPHeaderField: "X-Kumo-Status") }
        var last = ""
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .seconds(attempt)) }
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                last = "HTTP \(status)"
                if (200..<300).contains(status) { return last }
            } catch {
                last = "\(error.localizedDescription)"
            }
        }
        logger.warning("async call \(call.id): callback to \(url) failed: \(last)")
        return "failed: " + last
    }
}
