import AsyncHTTPClient
import Cluster
import Foundation
import KumoSupport
import Logging
import NIOCore

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

    /// One client for the process (never shut down, so never torn down under a request):
    /// redirects are answered, not followed (a callback could otherwise be bounced anywhere),
    /// and nothing is decompressed or kept between callbacks but pooled connections.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(6)))
        configuration.decompression = .disabled
        configuration.connectionPool.retryConnectionEstablishment = false  // a refusal is an attempt's outcome
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    init(policy: CallbackPolicy, logger: Logger, report: @escaping @Sendable (Delivery, String) -> Void) {
        self.policy = policy
        self.logger = logger
        self.report = report
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
            let request: HTTPClientRequest
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
    private func prepare(_ delivery: Delivery) throws(CallbackPolicy.Refusal) -> HTTPClientRequest {
        let url = delivery.url
        let https = url.scheme?.lowercased() == "https"
        let host = url.host ?? ""
        let address = try policy.vet(host: host, port: url.port ?? (https ? 443 : 80))
        var target = url
        if !https, var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) {
            parts.host = address.contains(":") ? "[\(address)]" : address
            target = parts.url ?? url
        }
        var request = HTTPClientRequest(url: target.absoluteString)
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        if !https { request.headers.replaceOrAdd(name: "Host", value: host + (url.port.map { ":\($0)" } ?? "")) }
        request.headers.add(name: "X-Kumo-Call-Id", value: delivery.callID)
        request.headers.add(name: "X-Kumo-Function", value: delivery.function)
        request.headers.add(name: "X-Kumo-Http-Status", value: "\(delivery.httpStatus)")
        if let code = delivery.code { request.headers.add(name: "X-Kumo-Status", value: "\(code)") }
        return request
    }

    /// One POST, ended at the deadline whatever the connection is doing; the answer's body
    /// is not read (only its status counts).
    private func post(_ request: HTTPClientRequest) async -> (Int, String?) {
        do {
            let response = try await Self.client.execute(request, deadline: .now() + .seconds(Self.attemptDeadline.components.seconds))
            return (Int(response.status.code), nil)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return (0, "no answer within \(Self.attemptDeadline.components.seconds) s")
        } catch {
            return (0, "\(error)")
        }
    }
}
