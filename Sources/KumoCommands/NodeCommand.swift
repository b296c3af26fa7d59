import ArgumentParser
import Cluster
import Dispatch
import Foundation
import Logging
import Node
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

    @OptionGroup var node: NodeOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let nodeName = name ?? ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? ""
        guard NodeName.isValid(nodeName) else {
            throw ValidationError("--name '\(nodeName.prefix(80))' must be 1-63 lowercase letters, digits or '-', not starting with '-'")
        }
        guard (2...60).contains(ttl) else { throw ValidationError("--ttl must be 2...60 seconds") }
        let env = ProcessInfo.processInfo.environment
        let data = ((dataDir ?? env["KUMO_DATA"] ?? (NSHomeDirectory() + "/.local/share/kumo-node")) as NSString).standardizingPath
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let nodeConfig = try node.configuration(dataDirectory: data)
        var logger = Logger(label: "kumo.node")
        logger.logLevel = common.verbose ? .debug : .info
        let client: EtcdClient
        do { client = try EtcdClient(endpoints: [etcd], logger: logger) } catch { throw fail(error) }

        let agent = NodeAgent(name: nodeName, configuration: nodeConfig, logger: logger)
        let membership = NodeMembership(etcd: client, name: nodeName, ttlSeconds: Int64(ttl), logger: logger) {
            await agent.record()
        }
        await agent.start()
        var registration: NodeMembership.Registration
        do { registration = try await membership.register() } catch {
            await agent.shutdown()
            throw fail(error)
        }
        print("kumo: node \(nodeName) registered in etcd (lease \(registration.lease), ttl \(ttl)s, \(nodeConfig.fpgaCount) FPGAs)")
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
        await Self.untilStopped()
        work.cancel()
        _ = await work.result
        await agent.shutdown()
    }

    /// Returns on SIGINT or SIGTERM.
    static func untilStopped() async {
        let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let stopped = Mutex(false)
        let sources = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler {
                stopped.withLock { $0 = true }
                waiting.withLock { $0.take() }?.resume()
            }
            source.resume()
            return source
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            waiting.withLock { $0 = done }
            // A signal that came before the continuation was stored.
            if stopped.withLock({ $0 }) { waiting.withLock { $0.take() }?.resume() }
        }
        sources.forEach { $0.cancel() }
    }
}

/// The node this agent runs: a LocalNode, replaced by a fresh one when the lease is lost.
final class NodeAgent: Sendable {
    let name: String
    let configuration: LocalNode.Configuration
    let logger: Logger
    private let current: Mutex<LocalNode>

    init(name: String, configuration: LocalNode.Configuration, logger: Logger) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        current = Mutex(Self.makeNode(configuration, logger: logger))
    }

    static func makeNode(_ configuration: LocalNode.Configuration, logger: Logger) -> LocalNode {
        LocalNode(configuration: configuration, logger: logger,
                  onGrant: { event in logger.info("fpga \(event.kind.rawValue)", metadata: ["card": "\(event.card)", "tenant": "\(event.tenant)"]) },
                  logSink: { function, instance, line in
                      logger.info("\(line.text)", metadata: ["function": "\(function)", "instance": "\(instance)", "stream": "\(line.stream)"])
                  })
    }

    var node: LocalNode { current.withLock { $0 } }

    func start() async { await node.start() }
    func shutdown() async { await node.shutdown() }

    /// Stops every instance (their cards go back free) and starts over with an empty node.
    func restart() async {
        let old = node
        await old.shutdown()
        let fresh = Self.makeNode(configuration, logger: logger)
        current.withLock { $0 = fresh }
        await fresh.start()
    }

    func record() async -> NodeRecord {
        let node = self.node
        return NodeRecord(name: name, version: ClusterProtocol.version, lease: 0, registered: Date(), published: Date(),
                          capacity: await node.capacity(), cards: await node.accelerators())
    }
}
