import ArgumentParser
import Cluster
import Foundation
import Functions
import Gateway
import InstanceWire
import KumoSupport
import LocalCommands
import Logging
import Node

/// `kumo serve`: gateway, scheduler and one local node in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway, the scheduler and this node (state in SQLite in --data-dir).",
        discussion: """
            On first start it creates the admin tenant and writes its token to DATA/admin-token.
            The bound URL is written to DATA/gateway.url. SIGINT/SIGTERM stop it gracefully.
            """)

    @Option(help: "TCP port (0: any free one).")
    var port = 8080

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .customLong("data-dir"), help: "Where state, images and the admin token live (default: $KUMO_DATA or ~/.local/share/kumo).")
    var dataDir: String?

    @Option(name: .customLong("body-limit"), help: "Largest request body, e.g. 6M.")
    var bodyLimit = "6M"

    @Option(name: .customLong("image-limit"), help: "Largest image a deploy may upload, e.g. 64M (at most 256M).")
    var imageLimit = "256M"

    @Option(name: .customLong("max-instances"), help: "Default per-function instance maximum (deploy may set its own).")
    var maxInstances = 4

    @Option(help: "Default per-function queue bound past the maximum (then 429).")
    var queue = 32

    @Option(name: .customLong("keep-alive"), help: "Default time an idle instance stays warm: auto (learned per function) or a duration like 60s.")
    var keepAlive = "auto"

    @Option(name: .customLong("keep-alive-fallback"), help: "What keep_alive: auto holds to until a function's idle times say more, e.g. 60s.")
    var keepAliveFallback = "60s"

    @Option(name: .customLong("callback-allow"), help: "An address range async-call callbacks may reach although it is private or loopback, e.g. 10.1.0.0/16 (repeatable).")
    var callbackAllow: [String] = []

    @Option(name: .customLong("idle-timeout"), help: "Close a connection whose request stalls or that sits idle this long, e.g. 30s.")
    var idleTimeout = "30s"

    @Option(name: .customLong("max-connections"), help: "Open connections at most; past it, 503.")
    var maxConnections = 4096

    @Option(name: .customLong("max-client-connections"), help: "Open connections one client address may hold; past it, 503.")
    var maxClientConnections = 256

    @Option(name: .customLong("async-retention"), help: "How long a finished async call and its result are kept, e.g. 24h.")
    var asyncRetention = "24h"

    @Option(name: .customLong("async-storage"), help: "Most bytes of finished async calls kept (oldest go first), e.g. 1G.")
    var asyncStorage = "1G"

    @Option(name: .customLong("async-pending"), help: "Async calls a tenant's functions may have pending; past it, 429.")
    var asyncPending = 1000

    @Option(help: "Run as one gateway of a cluster: etcd client URLs, comma-separated. Instances then run on the `kumo node` agents registered there, not in this process.")
    var etcd: String?

    @Option(help: "This gateway's name in the cluster (default: a random one).")
    var name: String?

    @Option(help: "In a cluster, the URL nodes and other gateways reach this gateway at (default: http://HOST:PORT).")
    var advertise: String?

    @Option(help: "In a cluster, which node a request goes to when the function may be warm: least-of-two (of two random nodes where it is warm, the one where it should wait least: requests in flight weighted by the function's recent service time there), round-robin or random.")
    var balance = Placement.Balance.leastOfTwo

    @Option(help: "In a cluster, where a cold start goes: affinity (a free FPGA holding the function's bitstream, then the least loaded node) or random.")
    var placement = Placement.ColdStart.affinity

    @OptionGroup var node: NodeOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try configuration()
        var logger = Logger(label: "kumo.serve")
        logger.logLevel = common.verbose ? .debug : .info
        GatewayMetrics.bootstrap()
        // The embedded node (none for a cluster's gateway); its real cards go back to their host drivers when it stops.
        let local = etcd == nil ? try node.configuration(dataDirectory: config.dataDirectory) : nil
        defer { local?.1?.giveBackReporting() }
        let gateway: Gateway
        do {
            if var (nodeConfig, _) = local {
                let state = try GatewayState.open(config, logger: logger)
                nodeConfig.scaling.store = state.learnedKeepAlives(node: nodeConfig.name)
                let node = LocalNode(configuration: nodeConfig, logger: logger, onGrant: state.grantRecorder, logSink: state.logSink)
                gateway = try await Gateway(configuration: config, state: state, node: node, logger: logger)
            } else {
                gateway = try await clusterGateway(config, etcd: etcd ?? "", logger: logger)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail("cannot open \(config.dataDirectory): \(error)")
        }
        if try await gateway.ensureAdmin() {
            print("kumo: created the admin tenant; its token is in \(config.adminTokenPath)")
        } else {
            print("kumo: admin token: \(config.adminTokenPath)")
        }
        let urlFile = config.urlFilePath
        try? FileManager.default.removeItem(atPath: urlFile)
        let host = config.host
        try await gateway.run { port in
            let url = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
            try? (url + "\n").write(toFile: urlFile, atomically: true, encoding: .utf8)
            let runs = etcd == nil ? "\(local?.0.fpgas.count ?? 0) FPGAs" : "a gateway of the cluster in etcd \(etcd ?? "")"
            print("kumo: serving on \(url) (\(runs), data in \(config.dataDirectory))")
            fflush(nil)
        }
        try? FileManager.default.removeItem(atPath: urlFile)
    }

    /// A gateway of a cluster: state in etcd, instances on the registered nodes.
    func clusterGateway(_ config: GatewayConfiguration, etcd: String, logger: Logger) async throws -> Gateway {
        let gatewayName = name ?? "gw-" + UUID().uuidString.prefix(8).lowercased()
        guard NodeName.isValid(gatewayName) else {
            throw ValidationError("--name '\(gatewayName.prefix(80))' must be 1-63 lowercase letters, digits or '-'")
        }
        let client: EtcdClient
        let token: String
        do {
            client = try EtcdClient(endpoints: [etcd], logger: logger)
            token = try await ClusterToken.ensure(client)
        } catch { throw fail(error) }
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let state = GatewayState(store: EtcdStateStore(etcd: client, gateway: gatewayName), logger: logger)
        let cluster = GatewayCluster(etcd: client, name: gatewayName, token: token, logger: logger)
        let nodes = ClusterNodes(view: NodeView(etcd: client, logger: logger), token: token,
                                 policy: Placement.Policy(balance: balance, coldStart: placement), logger: logger) { _ in cluster.imageSources }
        return try await Gateway(configuration: config, state: state, node: nodes, cluster: cluster, logger: logger)
    }

    func configuration() throws -> GatewayConfiguration {
        let env = ProcessInfo.processInfo.environment
        let data = dataDir ?? env["KUMO_DATA"] ?? (NSHomeDirectory() + "/.local/share/kumo")
        var c = GatewayConfiguration(dataDirectory: (data as NSString).standardizingPath)
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port") }
        c.port = port
        c.host = host
        c.advertise = advertise
        c.idleTimeout = try parseDuration(idleTimeout, "--idle-timeout", max: 3600)
        guard c.idleTimeout > .zero else { throw ValidationError("--idle-timeout must be more than 0") }
        guard (1...1_000_000).contains(maxConnections), (1...maxConnections).contains(maxClientConnections) else {
            throw ValidationError("--max-connections must be 1...1000000 and --max-client-connections 1...--max-connections")
        }
        c.maxConnections = maxConnections
        c.asyncRetention = try parseDuration(asyncRetention, "--async-retention", max: 366 * 86_400)
        guard let storage = Sizes.parse(asyncStorage), storage > 0, storage <= 1 << 40 else {
            throw ValidationError("--async-storage '\(asyncStorage)' is not a size like 1G")
        }
        c.asyncStorageBytes = Int(storage)
        guard (1...1_000_000).contains(asyncPending) else { throw ValidationError("--async-pending must be 1...1000000") }
        c.asyncPendingPerTenant = asyncPending
        c.maxClientConnections = maxClientConnections
        c.callbackPolicy = CallbackPolicy(allowed: try callbackAllow.map { text in
            guard let range = CallbackPolicy.Range(text) else {
                throw ValidationError("--callback-allow '\(text)' is not an address or a range like 10.1.0.0/16")
            }
            return range
        })
        guard let limit = Sizes.parse(bodyLimit), limit > 0, limit <= 1 << 30 else {
            throw ValidationError("--body-limit '\(bodyLimit)' is not a size like 6M (at most 1G)")
        }
        c.bodyLimit = Int(limit)
        guard let images = Sizes.parse(imageLimit), images > 0, images <= FrameIO.maxBlob else {
            throw ValidationError("--image-limit '\(imageLimit)' is not a size like 64M (at most 256M, what an instance's start can carry)")
        }
        c.imageLimit = Int(images)
        guard (1...256).contains(maxInstances) else { throw ValidationError("--max-instances must be 1...256") }
        guard (0...10_000).contains(queue) else { throw ValidationError("--queue must be 0...10000") }
        guard let keep = KeepAlive(keepAlive) else { throw ValidationError("--keep-alive '\(keepAlive)' \(KeepAlive.rule)") }
        let fallback = try parseDuration(keepAliveFallback, "--keep-alive-fallback", max: KeepAlive.maxSeconds)
        c.defaultLimits = InstanceLimits(maxInstances: maxInstances, queueLimit: queue, keepAliveSeconds: fallback.seconds)
            .applying(Scaling(keepAlive: keep))
        return c
    }
}

extension Placement.Balance: ExpressibleByArgument {}
extension Placement.ColdStart: ExpressibleByArgument {}
