import ArgumentParser
import Foundation
import Functions
import Cluster
import Gateway
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

    @Option(help: "Emulated FPGAs on this node.")
    var fpgas = 2

    @Option(name: .customLong("fpga-reconfigure"), help: "Modelled time to load a new bitstream, e.g. 100ms.")
    var fpgaReconfigure = "100ms"

    @Option(name: .customLong("fpga-wait"), help: "How long a request waits for a free FPGA before 503.")
    var fpgaWait = "2s"

    @Option(help: "Instance processes kept started ahead of need.")
    var pool = 2

    @Option(name: .customLong("body-limit"), help: "Largest request body, e.g. 6M.")
    var bodyLimit = "6M"

    @Option(name: .customLong("image-limit"), help: "Largest image a deploy may upload, e.g. 64M (at most 256M).")
    var imageLimit = "256M"

    @Option(name: .customLong("max-instances"), help: "Default per-function instance maximum (deploy may set its own).")
    var maxInstances = 4

    @Option(help: "Default per-function queue bound past the maximum (then 429).")
    var queue = 32

    @Option(name: .customLong("keep-alive"), help: "Default time an idle instance stays warm, e.g. 60s.")
    var keepAlive = "60s"

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

    @Option(name: .customLong("guest-memory"), help: "Guest memory (FPGA device memory included) promised to instances at once, e.g. 16G (default: two thirds of the host's).")
    var guestMemory: String?

    @Option(name: .customLong("tenant-memory"), help: "Of it, what one tenant without a cap of its own may hold (default: half).")
    var tenantMemory: String?

    @Option(name: .customLong("memory-wait"), help: "How long a start that does not fit waits for memory before 503.")
    var memoryWait = "2s"

    @Flag(name: .customLong("test-hooks"), help: .hidden)
    var testHooks = false

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try configuration()
        let nodeConfig = try nodeConfiguration(dataDirectory: config.dataDirectory)
        var logger = Logger(label: "kumo.serve")
        logger.logLevel = common.verbose ? .debug : .info
        GatewayMetrics.bootstrap()
        let gateway: Gateway
        do {
            let state = try GatewayState.open(config, logger: logger)
            let node = LocalNode(configuration: nodeConfig, logger: logger, onGrant: state.grantRecorder,
                                 logSink: state.logSink)
            gateway = try await Gateway(configuration: config, state: state, node: node, logger: logger)
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
            print("kumo: serving on \(url) (\(nodeConfig.fpgaCount) FPGAs, data in \(config.dataDirectory))")
            fflush(nil)
        }
        try? FileManager.default.removeItem(atPath: urlFile)
    }

    func configuration() throws -> GatewayConfiguration {
        let env = ProcessInfo.processInfo.environment
        let data = dataDir ?? env["KUMO_DATA"] ?? (NSHomeDirectory() + "/.local/share/kumo")
        var c = GatewayConfiguration(dataDirectory: (data as NSString).standardizingPath)
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port") }
        c.port = port
        c.host = host
        c.idleTimeout = try duration(idleTimeout, "--idle-timeout", max: 3600)
        guard c.idleTimeout > .zero else { throw ValidationError("--idle-timeout must be more than 0") }
        guard (1...1_000_000).contains(maxConnections), (1...maxConnections).contains(maxClientConnections) else {
            throw ValidationError("--max-connections must be 1...1000000 and --max-client-connections 1...--max-connections")
        }
        c.maxConnections = maxConnections
        c.asyncRetention = try duration(asyncRetention, "--async-retention", max: 366 * 86_400)
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
        let keep = try duration(keepAlive, "--keep-alive", max: 86_400)
        c.defaultLimits = InstanceLimits(maxInstances: maxInstances, queueLimit: queue,
                                         keepAliveSeconds: Double(keep.components.seconds) + Double(keep.components.attoseconds) / 1e18)
        return c
    }

    /// The node in this process: its pool, cards and guest memory.
    func nodeConfiguration(dataDirectory: String) throws -> LocalNode.Configuration {
        guard let executable = Bundle.main.executablePath else { throw fail("cannot find the kumo executable for instances") }
        var launch = InstanceLaunch(executable: executable, hiddenPaths: [dataDirectory])
        launch.testHooks = testHooks
        var c = LocalNode.Configuration(launch: launch)
        guard (0...64).contains(fpgas) else { throw ValidationError("--fpgas must be 0...64") }
        c.fpgaCount = fpgas
        c.fpgaReconfigure = try duration(fpgaReconfigure, "--fpga-reconfigure", max: 600)
        c.fpgaPatience = try duration(fpgaWait, "--fpga-wait", max: 600)
        guard (0...64).contains(pool) else { throw ValidationError("--pool must be 0...64") }
        c.poolSize = pool
        if let guestMemory {
            guard let bytes = Sizes.parse(guestMemory), bytes >= 8 << 20 else {
                throw ValidationError("--guest-memory '\(guestMemory)' is not a size like 16G (at least 8M)")
            }
            c.guestMemory = bytes
            c.tenantMemory = bytes / 2
        }
        if let tenantMemory {
            guard let bytes = Sizes.parse(tenantMemory), bytes >= 8 << 20, bytes <= c.guestMemory else {
                throw ValidationError("--tenant-memory '\(tenantMemory)' is not a size like 8G, at most --guest-memory")
            }
            c.tenantMemory = bytes
        }
        c.memoryPatience = try duration(memoryWait, "--memory-wait", max: 600)
        return c
    }

    func duration(_ text: String, _ flag: String, max: Double) throws -> Duration {
        guard let s = Durations.parse(text), s >= 0, s <= max else {
            throw ValidationError("\(flag) '\(text)' is not a duration like 100ms or 2s (at most \(Int(max))s)")
        }
        return .nanoseconds(Int64(s * 1e9))
    }
}
