import ArgumentParser
import Cluster
import Foundation
import Functions
import HostCards
import LocalCommands
import Node

/// What a node is made of: `kumo serve`'s node in the embedded default, and `kumo node`'s.
struct NodeOptions: ParsableArguments {
    @Option(help: "This node's FPGAs: a number of emulated cards, libvirt (the host's real cards, through qemu:///system), or libvirt:URI.")
    var fpgas = "2"

    @Option(name: .customLong("fpga-pci-id"), help: "A PCI id (vendor:device in hex, e.g. 10ee:5001) that --fpgas libvirt takes as a card, beside the known ones; repeatable.")
    var fpgaPCIIDs: [String] = []

    @Option(name: .customLong("fpga-reconfigure"), help: "Modelled time to load a new bitstream, e.g. 100ms.")
    var fpgaReconfigure = "100ms"

    @Option(name: .customLong("fpga-wait"), help: "How long a request waits for a free FPGA before 503.")
    var fpgaWait = "2s"

    @Option(help: "Instance processes kept started ahead of need.")
    var pool = 2

    @Option(name: .customLong("guest-memory"), help: "Guest memory (FPGA device memory included) promised to instances at once, e.g. 16G (default: two thirds of the host's).")
    var guestMemory: String?

    @Option(name: .customLong("tenant-memory"), help: "Of it, what one tenant without a cap of its own may hold (default: half).")
    var tenantMemory: String?

    @Option(name: .customLong("memory-wait"), help: "How long a start that does not fit waits for memory before 503.")
    var memoryWait = "2s"

    @Option(name: .customLong("learned-keep-alive"), help: "What keep_alive: auto learns with: kumo (the default) or hybrid (Shahrad et al.'s policy as published).")
    var learnedKeepAlive = LearnedPolicy.kumo

    @Option(name: .customLong("keep-alive-bin"), help: "The learned keep-alive's idle-time bin, e.g. 60s; a replay compressed N times uses 60s/N.")
    var keepAliveBin = "60s"

    @Flag(name: .customLong("test-hooks"), help: .hidden)
    var testHooks = false

    /// The node's configuration; its instances never see `dataDirectory`. Real cards are
    /// bound to vfio-pci here: give them back with `PreparedCards.giveBack` when the node stops.
    func configuration(dataDirectory: String) throws -> (LocalNode.Configuration, PreparedCards?) {
        // Instances run kumo-local: it starts faster and each pooled process holds less.
        guard let executable = KumoExecutables.sibling(KumoExecutables.local),
              FileManager.default.isExecutableFile(atPath: executable) else {
            throw fail("cannot find kumo-local beside kumo-control for instances; `swift build` builds both")
        }
        var launch = InstanceLaunch(executable: executable, hiddenPaths: [dataDirectory])
        launch.testHooks = testHooks
        var c = LocalNode.Configuration(launch: launch)
        let source = try FPGASource(fpgas)
        let known: KnownCards
        do { known = try KnownCards.builtIn.adding(fpgaPCIIDs) } catch { throw ValidationError("--fpga-pci-id \(error)") }
        c.fpgaReconfigure = try parseDuration(fpgaReconfigure, "--fpga-reconfigure", max: 600)
        c.fpgaPatience = try parseDuration(fpgaWait, "--fpga-wait", max: 600)
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
        c.memoryPatience = try parseDuration(memoryWait, "--memory-wait", max: 600)
        c.scaling.policy = learnedKeepAlive
        let bin = try parseDuration(keepAliveBin, "--keep-alive-bin", max: 3600).seconds
        guard bin >= 0.01 else { throw ValidationError("--keep-alive-bin '\(keepAliveBin)' must be at least 10ms") }
        c.scaling.binSeconds = bin
        let (hardware, prepared) = try source.cards(known: known)
        c.fpgas = hardware
        return (c, prepared)
    }
}

extension LearnedPolicy: ExpressibleByArgument {}

/// A duration flag ("100ms", "2s") in 0...max seconds.
func parseDuration(_ text: String, _ flag: String, max: Double) throws -> Duration {
    guard let s = Durations.parse(text), s >= 0, s <= max else {
        throw ValidationError("\(flag) '\(text)' is not a duration like 100ms or 2s (at most \(Int(max))s)")
    }
    return .nanoseconds(Int64(s * 1e9))
}
