import Cluster
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KumoSupport
import Logging
import Synchronization

/// POSTs async-call results to their callback URLs from a pool of its own
/// (a slow or silent receiver holds a callback slot, never an async-call slot),
/// with a bounded queue, a hard deadline per attempt, no redirects, and only
/// to addresses the policy allows.
actor CallbackSender {
    struct Delivery: Sendable {
        var callID: String
        var function: String
        var url: URL
        var body: Data
        var httpStatus: Int
        var code: Int?
    }

    let policy: CallbackPolicy
    let logger: Logger
    /// Where the outcome goes: the function's log, which only its owner reads.
    let report: @Sendable (Delivery, String) -> Void
    static let concurrency = 4
    static let queueLimit = 1000
    static let attempts = 3
    static let attemptDeadline: Duration = .seconds(5)
    private var queue: [Delivery] = []
    private var running = 0
    private let session: URLSession

    init(policy: CallbackPolicy, logger: Logger, report: @escaping @Sendable (Delivery, String) -> Void) {
        self.policy = policy
        self.logger = logger
        self.report = report
        let configuration = URLSessionConfiguration.ephemeral
        // Past the attempt's own deadline, so that deadline is the one that ends a silent attempt.
        configuration.timeoutIntervalForRequest = 6
        configuration.timeoutIntervalForResource = 6
        configuration.httpShouldSetCookies = false
        configuration.urlCredentialStorage = nil
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    func enqueue(_ delivery: Delivery) {
        guard queue.count < Self.queueLimit else {
            report(delivery, "not sent: \(Self.queueLimit) callbacks are already waiting")
            return
        }
        queue.append(delivery)
        pump()
    }

    private func pump() {
        while running < Self.concurrency, !queue.isEmpty {
            let delivery = queue.removeFirst()
            running += 1
            Task {
                let outcome = await send(delivery)
                report(delivery, outcome)
                finished()
            }
        }
    }

    private func finished() {
        running -= 1
        pump()
    }

    /// Three tries, each under a hard deadline; the outcome in words.
    private func send(_ delivery: Delivery) async -> String {
        var last = ""
        for attempt in 0..<Self.attempts {
            if attempt > 0 { try? await Task.sleep(for: .seconds(attempt)) }
            let request: URLRequest
            do { request = try prepare(delivery) } catch { return "refused: \(error)" }
            let (status, failure) = await post(request)
            if let failure { last = failure } else {
                last = "HTTP \(status)" + ((300..<400).contains(status) ? " (redirects are not followed)" : "")
                if (200..<300).contains(status) { return last }
            }
        }
        logger.info("async call \(delivery.callID): callback failed: \(last)")
        return "failed: " + last
    }

    /// The request, vetted now (DNS answers change): a plain-http callback goes to
    /// the very address vetted; an https one needs its name for TLS.
    private func prepare(_ delivery: Delivery) throws(CallbackPolicy.Refusal) -> URLRequest {
        let url = delivery.url
        let https = url.scheme?.lowercased() == "https"
        let host = url.host ?? ""
        let address = try policy.vet(host: host, port: url.port ?? (https ? 443 : 80))
        var target = url
        if !https, var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) {
            parts.host = address.contains(":") ? "[\(address)]" : address
            target = parts.url ?? url
        }
        var request = URLRequest(url: target, timeoutInterval: 6)
        request.httpMethod = "POST"
        request.httpBody = delivery.body
        if !https { request.setValue(host + (url.port.map { ":\($0)" } ?? ""), forHTTPHeaderField: "Host") }
        request.setValue(delivery.callID, forHTTPHeaderField: "X-Kumo-Call-Id")
        request.setValue(delivery.function, forHTTPHeaderField: "X-Kumo-Function")
        request.setValue("\(delivery.httpStatus)", forHTTPHeaderField: "X-Kumo-Http-Status")
        if let code = delivery.code { request.setValue("\(code)", forHTTPHeaderField: "X-Kumo-Status") }
        return request
    }

    /// One POST, cancelled at the deadline whatever the connection is doing.
    private func post(_ request: URLRequest) async -> (Int, String?) {
        await withCheckedContinuation { continuation in
            let once = Mutex(false)
            let finish: @Sendable (Int, String?) -> Void = { status, failure in
                guard once.withLock({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: (status, failure))
            }
            let task = session.dataTask(with: request) { _, response, error in
                if let error { finish(0, error.localizedDescription) } else {
                    finish((response as? HTTPURLResponse)?.statusCode ?? 0, nil)
                }
            }
            task.resume()
            let seconds = Self.attemptDeadline.seconds
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                finish(0, "no answer within \(Int(seconds)) s")  // first: the cancel's own error must not win
                task.cancel()
            }
        }
    }
}

/// Redirects are answered, not followed: a callback could otherwise be bounced anywhere.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
