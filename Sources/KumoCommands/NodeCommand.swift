import ArgumentParser
import Cluster
import Foundation
import Gateway
import Hummingbird
import InstanceWire
import LocalCommands
import Logging
import Node
import NodeAgent
import Synchronization

/// `kumo node`: this machine's node agent in a cluster. It runs instances as
/// `kumo serve`'s node does, registers in etcd under a lease, and publishes what it
/// has and uses; when its lease is lost it drops everything it runs and registers anew.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run this machine's node agent: register in etcd under a lease and publish capacity and load.",
        discussion: """
            Gateways (kumo serve --etcd) find it in etcd. If the node stays unreachable past its lease's TTL
            (frozen, cut off), the cluster counts it lost; when it comes back it stops its instances, releases
            its cards and registers again, clean. SIGINT/SIGTERM revoke the lease: the node leaves at once.
            """)

    @Option(help: "etcd client URLs, comma-separated, e.g. http://127.0.0.1:2379.")
    var etcd: String

    @Option(help: "This node's name in the cluster: lowercase letters, digits and '-' (default: the host name).")
    var name: String?

    @Option(name: .customLong("data-dir"), help: "Where the node keeps its files (default: $KUMO_DATA or ~/.local/share/kumo-node).")
    var dataDir: String?

    @Option(help: "Seconds the node's lease lasts without renewal (it is renewed every third of it).")
    var ttl = 5

    @Option(help: "TCP port of the node's internal API, which the cluster's gateways call (0: any free one).")
    var port = 9101

    @Option(help: "Address the internal API listens on.")
    var host = "127.0.0.1"

    @Option(help: "The URL gateways reach the internal API at (default: http://HOST:PORT).")
    var advertise: String?

    @OptionGroup var node: NodeOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let nodeName = name ?? ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? ""
        guard NodeName.isValid(nodeName) else {
            throw ValidationError("--name '\(nodeName.prefix(80))' must be 1-63 lowercase letters, digits or '-', not starting with '-'")
        }
        guard (2...60).contains(ttl) else { throw ValidationError("--ttl must be 2...60 seconds") }
        if let advertise, ClusterProtocol.endpoint(advertise) == nil {
            throw ValidationError("--advertise '\(advertise.prefix(100))' must be http://HOST:PORT (gateways reach a node's API over plain HTTP)")
        }
        let env = ProcessInfo.processInfo.environment
        let data = ((dataDir ?? env["KUMO_DATA"] ?? (NSHomeDirectory() + "/.local/share/kumo-node")) as NSString).standardizingPath
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let (nodeConfig, cards) = try node.configuration(dataDirectory: data)
        defer { cards?.giveBackReporting() }
        var logger = Logger(label: "kumo.node")
        logger.logLevel = common.verbose ? .debug : .info
        let client: EtcdClient
        do { client = try EtcdClient(endpoints: [etcd], logger: logger) } catch { throw fail(error) }

        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port") }
        let token: String
        do { token = try await ClusterToken.ensure(client) } catch { throw fail(error) }
        var config = nodeConfig
        config.name = nodeName
        // Instances' log lines and the cards' grant record go to the cluster's store: any gateway shows them.
        let state = GatewayState(store: EtcdStateStore(etcd: client, gateway: nodeName), logger: logger)
        let logWriter = Task { await state.writeLogs() }
        let agent = NodeRunner(name: nodeName, configuration: config, state: state, logger: logger)
        let images = try ImageFetcher(directory: data + "/images", token: token, limit: FrameIO.maxBlob)
        let api = NodeAPI(node: { agent.node }, images: images, token: token, bodyLimit: 64 << 20, logger: logger)
        let (bound, boundPort) = AsyncStream.makeStream(of: Int.self)
        let app = api.application(host: host, port: port) { boundPort.yield($0) }
        // Runs until SIGINT or SIGTERM.
        let server = Task {
            defer { boundPort.finish() }
            try await app.runService()
        }
        var listening: Int?
        for await port in bound {
            listening = port
            break
        }
        guard let listening else {
            let why = await server.result
            throw fail("the internal API could not listen on \(host):\(port): \(why)")
        }
        let address = advertise ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(listening)"
        agent.address = address

        let membership = NodeMembership(etcd: client, name: nodeName, ttlSeconds: Int64(ttl), logger: logger) {
            await agent.record()
        }
        await agent.start()
        var registration: NodeMembership.Registration
        do { registration = try await membership.register() } catch {
            server.cancel()
            await agent.shutdown()
            throw fail(error)
        }
        print("kumo: node \(nodeName) registered in etcd (lease \(registration.lease), ttl \(ttl)s, \(nodeConfig.fpgas.count) FPGAs), serving gateways on \(address)")
        fflush(nil)
        let work = Task {
            while !Task.isCancelled {
                await membership.keep(registration)
                guard !Task.isCancelled else { return }
                // Lost: others may hold this node's work and cards now. Drop everything, then come back clean.
                await agent.restart()
                while !Task.isCancelled {
                    do {
                        registration = try await membership.register()
                        logger.info("registered again after losing the lease", metadata: ["lease": "\(registration.lease)"])
                        break
                    } catch {
                        logger.warning("cannot register again: \(error)")
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
        _ = await server.result
        work.cancel()
        _ = await work.result
        await agent.shutdown()
        logWriter.cancel()
        await logWriter.value  // the last lines reach the store
    }
}

/// The node this agent runs: a LocalNode, replaced by a fresh one when the lease is lost.
final class NodeRunner: Sendable {
    let name: String
    let configuration: LocalNode.Configuration
    let state: GatewayState
    let logger: Logger
    private let current: Mutex<LocalNode>
    private let advertised = Mutex("")

    /// The internal API's URL, published in the node's record.
    var address: String {
        get { advertised.withLock { $0 } }
        set { advertised.withLock { $0 = newValue } }
    }

    init(name: String, configuration: LocalNode.Configuration, state: GatewayState, logger: Logger) {
        self.name = name
        self.configuration = configuration
        self.state = state
        self.logger = logger
        current = Mutex(Self.makeNode(configuration, state: state, logger: logger))
    }

    static func makeNode(_ configuration: LocalNode.Configuration, state: GatewayState, logger: Logger) -> LocalNode {
        let record = state.grantRecorder
        var configuration = configuration
        configuration.scaling.store = state.learnedKeepAlives(node: configuration.name)
        return LocalNode(configuration: configuration, logger: logger,
                         onGrant: { event in
                             record(event)
                             logger.info("fpga \(event.kind.rawValue)", metadata: ["card": "\(event.card)", "tenant": "\(event.tenant)",
                                                                                "function": "\(event.function)", "detail": "\(event.detail)"])
                         },
                         logSink: state.logSink)
    }

    var node: LocalNode { current.withLock { $0 } }

    func start() async { await node.start() }
    func shutdown() async { await node.shutdown() }

    /// Stops every instance (their cards go back free) and starts over with an empty node.
    func restart() async {
        let old = node
        await old.shutdown()
        let fresh = Self.makeNode(configuration, state: state, logger: logger)
        current.withLock { $0 = fresh }
        await fresh.start()
    }

    func record() async -> NodeRecord {
        let node = self.node
        // Images live at IMAGES/HASH.kumo (ImageFetcher): the hash is the name.
        let preloaded = node.preloadedImages.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        return NodeRecord(name: name, address: address, version: ClusterProtocol.version, lease: 0, registered: Date(), published: Date(),
                          capacity: await node.capacity(), cards: await node.accelerators(),
                          images: preloaded.filter(ImageFetcher.isHash).sorted())
    }
}
