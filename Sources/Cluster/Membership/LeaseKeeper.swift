import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Renews one lease from a thread of its own, through an HTTP client on an event loop
/// of its own: a node busy with its instances, or a starved task pool, cannot delay its
/// heartbeats (heartbeats delayed by load are what make false failure alarms).
/// It records how late each heartbeat left, for `kumo_node_heartbeat_delay_seconds`.
final class LeaseKeeper: Sendable {
    enum State: Equatable, Sendable { case keeping, lost, stopped }

    let endpoints: [String]
    let lease: Int64
    let ttlSeconds: Int64
    let logger: Logger
    private let state = Mutex(State.keeping)
    /// How late each heartbeat left against its schedule, seconds; the newest 10,000.
    private let delays = Mutex<[Double]>([])

    /// Its own thread's event loop and client, for the life of the process: one per node.
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(500)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }()

    init(endpoints: [String], lease: Int64, ttlSeconds: Int64, logger: Logger) {
        self.endpoints = endpoints
        self.lease = lease
        self.ttlSeconds = ttlSeconds
        self.logger = logger
    }

    var current: State { state.withLock { $0 } }
    func stop() { state.withLock { if $0 == .keeping { $0 = .stopped } } }

    /// The heartbeat delays seen so far (seconds), oldest first.
    var heartbeatDelays: [Double] { delays.withLock { $0 } }

    /// Starts the thread: a heartbeat every third of the TTL until stopped or lost.
    func start() {
        let thread = Thread { [self] in
            let every = Double(ttlSeconds) / 3
            var due = Date()
            var lastRenewed = Date()
            while current == .keeping {
                let late = max(0, Date().timeIntervalSince(due))
                delays.withLock { d in
                    d.append(late)
                    if d.count > 10_000 { d.removeFirst(d.count - 10_000) }
                }
                switch beat() {
                case .renewed: lastRenewed = Date()
                case .gone:
                    state.withLock { if $0 == .keeping { $0 = .lost } }
                    return
                case .unreachable:
                    // The lease may still hold; past its TTL it surely does not.
                    if Date().timeIntervalSince(lastRenewed) > Double(ttlSeconds) {
                        state.withLock { if $0 == .keeping { $0 = .lost } }
                        return
                    }
                }
                due = due.addingTimeInterval(every)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) } else { due = Date() }
            }
        }
        thread.name = "kumo-lease-\(lease)"
        thread.start()
    }

    enum Beat { case renewed, gone, unreachable }

    /// One keep-alive, to each endpoint in turn until one answers.
    private func beat() -> Beat {
        let body = Data("{\"ID\":\"\(lease)\"}".utf8)
        for endpoint in endpoints {
            do {
                let request = try HTTPClient.Request(url: endpoint + "/v3/lease/keepalive", method: .POST, body: .data(body))
                let response = try Self.http.execute(request: request, deadline: .now() + .seconds(max(1, ttlSeconds / 3))).wait()
                guard response.status == .ok, let bytes = response.body,
                      let answer = try? JSONDecoder().decode(EtcdWire.LeaseKeepAliveResponse.self, from: Data(bytes.readableBytesView)) else {
                    continue
                }
                return (answer.result?.TTL?.value ?? 0) > 0 ? .renewed : .gone
            } catch {
                logger.debug("heartbeat to \(endpoint) failed: \(error)")
            }
        }
        return .unreachable
    }
}
