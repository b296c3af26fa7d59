import Cluster
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A gateway's part in a cluster (`kumo serve --etcd`): it registers under a lease,
/// follows every function any gateway deploys into its own memory (an invocation
/// never reads etcd), and keeps a copy of each function's image, pulled from a
/// gateway that holds it and offered in turn: any gateway can serve any node.
public final class GatewayCluster: Sendable {
    let etcd: EtcdClient
    public let name: String
    let token: String
    let logger: Logger
    let ttlSeconds: Int64 = 10
    private let address = Mutex("")
    private let lease = Mutex<Int64>(0)

    static let holders = "/kumo/state/image-holders/"

    public init(etcd: EtcdClient, name: String, token: String, logger: Logger) {
        self.etcd = etcd
        self.name = name
        self.token = token
        self.logger = logger
    }

    /// This gateway's base URL: where nodes fetch images from.
    var url: String { address.withLock { $0 } }
    /// Images a node may fetch from: this gateway, which holds every image it routes.
    public var imageSources: [String] { [url] }

    /// Registers, then keeps the lease and follows the functions until cancelled.
    func run(gateway: Gateway, url: String) async {
        address.withLock { $0 = url }
        async let follow: Void = followFunctions(gateway)
        async let peers: Void = followGateways(gateway)
        await keepRegistered(gateway)
        await follow
        await peers
    }

    /// A gateway that leaves (stopped, or its lease ran out) leaves its accepted async
    /// calls to those still here: each takes what it can (one wins each call).
    private func followGateways(_ gateway: Gateway) async {
        while !Task.isCancelled {
            do {
                let listed = try await etcd.range(prefix: ClusterKeys.gateways, keysOnly: true)
                for try await events in etcd.watch(prefix: ClusterKeys.gateways, from: listed.revision + 1) {
                    guard events.contains(where: { if case .delete = $0 { true } else { false } }) else { continue }
                    await gateway.asyncCalls.takeOver()
                }
            } catch {
                logger.warning("gateway \(name): following the other gateways: \(error); listing again")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func keepRegistered(_ gateway: Gateway) async {
        while !Task.isCancelled {
            do {
                let granted = try await etcd.grantLease(ttlSeconds: ttlSeconds)
                lease.withLock { $0 = granted.id }
                try await etcd.put(ClusterKeys.gateways + name, Array(url.utf8), lease: granted.id)
                for hash in Set(gateway.deploymentsNow.map(\.version)) { try await hold(hash) }
                while !Task.isCancelled, try await etcd.keepAlive(granted.id) != nil {
                    try? await Task.sleep(for: .seconds(Double(ttlSeconds) / 3))
                }
            } catch {
                logger.warning("gateway \(name): keeping its registration: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        // Stopping: this gateway and the images it offered leave at once.
        let current = lease.withLock { $0 }
        if current != 0 { try? await etcd.revoke(current) }
    }

    /// Says in etcd that this gateway holds image `hash` (until its lease ends).
    func hold(_ hash: String) async throws {
        let current = lease.withLock { $0 }
        guard current != 0 else { return }  // registration will offer it
        try await etcd.put(Self.holders + hash + "/" + name, Array(url.utf8), lease: current)
    }

    /// Every function in etcd, then each change: an image missing here is pulled first.
    private func followFunctions(_ gateway: Gateway) async {
        let fetcher: ImageFetcher
        do { fetcher = try ImageFetcher(directory: gateway.images.directory, token: token, limit: gateway.configuration.imageLimit) } catch {
            return logger.error("gateway \(name): cannot use the image directory: \(error)")
        }
        while !Task.isCancelled {
            do {
                let listed = try await etcd.range(prefix: EtcdStateStore.functionsPrefix)
                // Removed while this gateway was not following: gone from etcd now too (a deploy
                // made here since the listing is there, and stays).
                let known = Set(listed.values.map(\.key))
                for name in gateway.deploymentsNow.map(\.name) where !known.contains(EtcdStateStore.functionsPrefix + name) {
                    if try await etcd.get(EtcdStateStore.functionsPrefix + name) == nil { gateway.setDeployment(nil, name: name) }
                }
                for kv in listed.values { await adopt(kv, gateway, fetcher) }
                for try await events in etcd.watch(prefix: EtcdStateStore.functionsPrefix, from: listed.revision + 1) {
                    for event in events {
                        switch event {
                        case .put(let kv): await adopt(kv, gateway, fetcher)
                        case .delete(let key, _): gateway.setDeployment(nil, name: String(key.dropFirst(EtcdStateStore.functionsPrefix.count)))
                        }
                    }
                }
            } catch {
                logger.warning("gateway \(name): following functions: \(error); listing again")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Makes a deployed function servable here: its image pulled from a holder, then the
    /// function in memory. Retried a few times: a holder may be registering meanwhile.
    private func adopt(_ kv: EtcdKeyValue, _ gateway: Gateway, _ fetcher: ImageFetcher) async {
        guard let record = try? JSONDecoder().decode(FunctionRecord.self, from: Data(kv.value)),
              gateway.deployment(named: record.name)?.version != record.image
                || access(gateway.images.path(record.image), F_OK) != 0 else { return }
        for attempt in 1...Self.adoptAttempts {
            do {
                let holders = try await etcd.range(prefix: Self.holders + record.image + "/").values
                    .map { String(decoding: $0.value, as: UTF8.self) }.filter { $0 != url }
                _ = try await fetcher.image(record.image, sources: holders)
                gateway.setDeployment(try gateway.deployment(from: record), name: record.name)
                try await hold(record.image)
                return
            } catch {
                if attempt == Self.adoptAttempts {
                    logger.error("gateway \(name): cannot take \(record.name) (image \(record.image.prefix(12))): \(error)")
                }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    static let adoptAttempts = 5

    /// GET /internal/v1/images/{hash}: an image, for the cluster's nodes and gateways.
    func image(_ request: Request, _ context: BasicRequestContext, images: ImageCache) throws -> Response {
        guard ClusterToken.accepts(request.headers[.authorization], token: token) else {
            throw GatewayError.unauthorized("only the cluster's nodes and gateways may fetch images")
        }
        let hash = context.parameters.get("hash") ?? ""
        guard ImageFetcher.isHash(hash), let data = FileManager.default.contents(atPath: images.path(hash)) else {
            throw GatewayError.notFound("no image \(hash.prefix(64)) here")
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
