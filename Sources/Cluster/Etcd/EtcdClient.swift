import AsyncHTTPClient
import Foundation
import KumoSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A client of etcd's v3 API through its JSON gateway (the members' client URLs):
/// key-value reads and writes, transactions, leases and watches, over several
/// endpoints with failover. Calls go to the endpoint that last answered; one that
/// does not answer passes the call to the next.
public final class EtcdClient: Sendable {
    public let endpoints: [String]
    let http: HTTPClient
    let logger: Logger
    /// A unary call's limit, per endpoint tried.
    let callTimeout: TimeAmount
    private let preferred = Mutex(0)

    /// `endpoints`: http://HOST:PORT, one per member (a comma-separated list is split).
    public init(endpoints: [String], callTimeout: Duration = .seconds(2), logger: Logger) throws(EtcdError) {
        let list = endpoints.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !list.isEmpty else { throw .badEndpoint("") }
        for endpoint in list {
            guard let url = URL(string: endpoint), url.scheme == "http", let host = url.host, !host.isEmpty, url.port != nil,
                  url.path.isEmpty || url.path == "/" else { throw .badEndpoint(endpoint) }
        }
        self.endpoints = list.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.logger = logger
        self.callTimeout = .nanoseconds(Int64(clamping: callTimeout.wholeNanoseconds))
        http = ClusterHTTP.client
    }

    /// The order to try endpoints in: the one that last answered first.
    func rotation() -> [Int] {
        let first = preferred.withLock { $0 }
        return (0..<endpoints.count).map { (first + $0) % endpoints.count }
    }

    func answered(_ index: Int) {
        preferred.withLock { $0 = index }
    }

    /// One unary call: POST `path` with `body` as JSON, decoded as `Response`.
    /// `idempotent`: whether a call that may have reached a member can be sent again elsewhere.
    func call<Request: Encodable, Response: Decodable>(_ path: String, _ body: Request, as: Response.Type,
                                                       idempotent: Bool = true) async throws(EtcdError) -> Response {
        let payload: Data
        do { payload = try JSONEncoder().encode(body) } catch { throw .malformed("cannot encode the request: \(error)") }
        var tried = Attempts()
        // Rounds over every member: an election after a member's death takes a moment.
        for round in 0..<Self.rounds {
            if round > 0 { try? await Task.sleep(for: .milliseconds(150 * round)) }
            for index in rotation() {
                let endpoint = endpoints[index]
                let status: HTTPResponseStatus
                let data: Data
                do {
                    (status, data) = try await post(endpoint + path, payload)
                } catch {
                    tried.note(endpoint, "\(error)")
                    // A call that never reached a member is safe to send again; a write that may have is not.
                    if !idempotent && !Self.neverSent(error) { throw .unavailable(tried.lines) }
                    continue
                }
                guard status == .ok else {
                    let failure = try? JSONDecoder().decode(EtcdWire.Failure.self, from: data)
                    let message = failure?.message ?? failure?.error ?? String(decoding: data.prefix(200), as: UTF8.self)
                    // No leader, or a member that is stopping: another member may serve.
                    if status == .serviceUnavailable || Self.leaderless(message) {
                        tried.note(endpoint, message)
                        continue
                    }
                    answered(index)
                    throw .refused(code: failure?.code ?? Int(status.code), message: message)
                }
                answered(index)
                do { return try JSONDecoder().decode(Response.self, from: data) } catch {
                    throw .malformed("\(path): \(error)")
                }
            }
        }
        throw .unavailable(tried.lines)
    }

    /// Why each endpoint failed, the latest reason for each, in the order first tried.
    struct Attempts {
        private var reasons: [(endpoint: String, reason: String)] = []
        mutating func note(_ endpoint: String, _ reason: String) {
            if let at = reasons.firstIndex(where: { $0.endpoint == endpoint }) {
                reasons[at].reason = reason
            } else {
                reasons.append((endpoint, reason))
            }
        }
        var lines: [String] { reasons.map { "\($0.endpoint): \($0.reason)" } }
    }

    private func post(_ url: String, _ payload: Data) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload))
        let response = try await http.execute(request, timeout: callTimeout)
        return (response.status, Data(try await response.body.collect(upTo: Self.maxResponse).readableBytesView))
    }

    /// How many times each member is tried before a call gives up.
    static let rounds = 3

    /// Larger answers than this are refused: a range asks for a bounded page.
    static let maxResponse = 64 << 20

    static func leaderless(_ message: String) -> Bool {
        message.contains("no leader") || message.contains("leader changed") || message.contains("server stopped")
    }

    /// Errors raised before any byte of the request left: connecting failed.
    static func neverSent(_ error: Error) -> Bool {
        if let client = error as? HTTPClientError, client == .connectTimeout { return true }
        if error is NIOConnectionError { return true }
        let text = "\(error)"
        return text.contains("connectTimeout") || text.contains("Connection refused") || text.contains("connectionRefused")
    }

    /// The range that holds every key starting with `prefix` (etcd's range_end).
    static func rangeEnd(ofPrefix prefix: String) -> Data {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])  // the empty prefix, or all 0xff: every key from it on
    }
}
