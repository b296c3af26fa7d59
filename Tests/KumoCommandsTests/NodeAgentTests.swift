import Cluster
import Foundation
import KumoTestSupport
import Logging
import Testing

/// `kumo node` processes registering in a real etcd: membership under a lease,
/// a name that is alive refused, a killed node lost within its TTL, a frozen
/// node back clean under a new lease.
@Suite("Cluster: node agents in etcd", .serialized)
struct NodeAgentTests {
    /// A `kumo node` process with its own data directory and log.
    final class NodeProcess: @unchecked Sendable {  // one test drives it
        let process = Process()
        let directory = NSTemporaryDirectory() + "kumo-node-\(UUID().uuidString.prefix(8))"
        var log: String { (try? String(contentsOfFile: directory + ".log", encoding: .utf8)) ?? "" }

        init(_ arguments: [String]) throws {
            FileManager.default.createFile(atPath: directory + ".log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + ".log"))
            process.executableURL = URL(fileURLWithPath: try ServeHarness.kumo)
            process.arguments = ["node", "--data-dir", directory, "--pool", "1", "--port", "0"] + arguments
            process.standardOutput = log
            process.standardError = log
            try process.run()
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                kill(process.processIdentifier, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: directory + ".log")
        }

        /// Waits, with a deadline, for the process to exit; its status, or nil if it did not.
        func exitStatus(within seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            return process.isRunning ? nil : process.terminationStatus
        }
    }

    static func nodes(_ etcd: EtcdMembers) async throws -> [NodeStatus] {
        try await NodeStatus.list(try EtcdClient(endpoints: etcd.endpoints, logger: Logger(label: "test")))
    }

    /// Polls the node list until `condition` holds, or fails after `seconds`.
    @discardableResult
    static func wait(_ etcd: EtcdMembers, within seconds: Double, for what: String,
                     _ condition: ([NodeStatus]) -> Bool) async throws -> [NodeStatus] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            let nodes = try await Self.nodes(etcd)
            if condition(nodes) { return nodes }
            guard ContinuousClock.now < deadline else {
                Issue.record("not within \(seconds) s: \(what); nodes: \(nodes.map { "\($0.name)=\($0.state)" })")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func state(_ name: String, _ nodes: [NodeStatus]) -> NodeStatus? { nodes.first { $0.name == name } }

    @Test func aNodeRegistersIsListedAndIsLostSoonAfterItIsKilled() async throws {
        guard KVMRequirement.check() else { return }
        let etcd = try EtcdMembers(count: 1)
        let node = try NodeProcess(["--etcd", etcd.endpoints[0], "--name", "n1", "--ttl", "2", "--fpgas", "2"])
        let nodes = try await Self.wait(etcd, within: 30, for: "n1 alive") { Self.state("n1", $0)?.state == .alive }
        let record = try #require(Self.state("n1", nodes)?.record)
        #expect(record.capacity.fpgas == 2 && record.cards.map(\.name) == ["fpga0", "fpga1"])
        #expect(record.version == ClusterProtocol.version && record.lease != 0)
        // Its heartbeats, from a thread of their own, are timed and published.
        let beating = try await Self.wait(etcd, within: 15, for: "n1's heartbeat delays published") {
            (Self.state("n1", $0)?.record?.heartbeatDelays?.count ?? 0) >= 3
        }
        let delays = try #require(Self.state("n1", beating)?.record?.heartbeatDelays)
        #expect(delays.p50 <= delays.p999 && delays.p999 <= delays.max && delays.max < 2000)

        // `kumo nodes --json`: an array of objects with at least name and state.
        let list = Process()
        let pipe = Pipe()
        list.executableURL = URL(fileURLWithPath: try ServeHarness.kumo)
        list.arguments = ["nodes", "--etcd", etcd.endpoints[0], "--json"]
        list.standardOutput = pipe
        try list.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        list.waitUntilExit()
        let objects = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Any]])
        #expect(objects.contains { $0["name"] as? String == "n1" && $0["state"] as? String == "alive" })

        // A second node of the same name is refused while the first is alive.
        let twin = try NodeProcess(["--etcd", etcd.endpoints[0], "--name", "n1", "--ttl", "2"])
        #expect(twin.exitStatus(within: 30) == 1)
        #expect(twin.log.contains("a node named n1 is alive"))

        // Lost once its 2 s lease runs out; the bound leaves room for a loaded CI machine
        // (scripts/bench-cluster.sh measures how long it takes).
        kill(node.process.processIdentifier, SIGKILL)
        try await Self.wait(etcd, within: 10, for: "n1 lost after kill -9") { Self.state("n1", $0)?.state == .lost }
    }

    /// A node's real cards (libvirt's test driver here) are published like emulated ones, with their kind and PCI address.
    @Test func aNodesRealCardsArePublishedWithTheirKind() async throws {
        let etcd = try EtcdMembers(count: 1)
        let host = "libvirt:test://" + RealCardsTests.hosts + "host-cards.xml"
        let node = try NodeProcess(["--etcd", etcd.endpoints[0], "--name", "pci1", "--fpgas", host])
        let nodes = try await Self.wait(etcd, within: 30, for: "pci1 alive") { Self.state("pci1", $0)?.state == .alive }
        let record = try #require(Self.state("pci1", nodes)?.record)
        #expect(record.capacity.fpgas == 2 && record.capacity.fpgasFree == 2)
        #expect(record.cards.map(\.kind) == [.pci, .pci])
        #expect(record.cards.map { $0.pci?.address } == ["0000:3b:00.0", "0000:86:00.0"])
        #expect(node.log.contains("kumo: fpga0: AMD Alveo U200 at 0000:3b:00.0"), "\(node.log)")
        let list = Process()
        let pipe = Pipe()
        list.executableURL = URL(fileURLWithPath: try ServeHarness.kumo)
        list.arguments = ["nodes", "--etcd", etcd.endpoints[0]]
        list.standardOutput = pipe
        try list.run()
        let table = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        list.waitUntilExit()
        #expect(table.contains("2/2 free pci"), "\(table)")
    }

    @Test func aFrozenNodeIsLostThenComesBackCleanUnderANewLease() async throws {
        guard KVMRequirement.check() else { return }
        let etcd = try EtcdMembers(count: 1)
        let node = try NodeProcess(["--etcd", etcd.endpoints[0], "--name", "frozen", "--ttl", "2"])
        let before = try await Self.wait(etcd, within: 30, for: "frozen alive") { Self.state("frozen", $0)?.state == .alive }
        let firstLease = try #require(Self.state("frozen", before)?.record?.lease)
        kill(node.process.processIdentifier, SIGSTOP)
        try await Self.wait(etcd, within: 10, for: "frozen lost while stopped") { Self.state("frozen", $0)?.state == .lost }
        kill(node.process.processIdentifier, SIGCONT)
        let after = try await Self.wait(etcd, within: 20, for: "frozen back") {
            guard let lease = Self.state("frozen", $0)?.record?.lease else { return false }
            return lease != firstLease
        }
        #expect(Self.state("frozen", after)?.record?.capacity.instances == 0)
        #expect(node.log.contains("lease lost") && node.log.contains("registered again"))
    }

    @Test func badFlagsAndAnUnreachableEtcdAreRefusedAtOnce() throws {
        let port = try FreePorts.take(1)[0]
        let cases: [([String], String)] = [
            (["--etcd", "http://127.0.0.1:\(port)", "--name", "Bad_Name"], "--name"),
            (["--etcd", "http://127.0.0.1:\(port)", "--name", "n1", "--ttl", "1"], "--ttl"),
            (["--etcd", "127.0.0.1:\(port)", "--name", "n1"], "is not of the form http://HOST:PORT"),
            (["--etcd", "http://127.0.0.1:\(port)", "--name", "n1", "--advertise", "https://n1:9101"], "--advertise 'https://n1:9101' must be http://HOST:PORT"),
            (["--etcd", "http://127.0.0.1:\(port)", "--name", "n1"], "etcd is unreachable"),
        ]
        for (arguments, message) in cases {
            let node = try NodeProcess(arguments)
            let status = node.exitStatus(within: 30)
            #expect(status != nil && status != 0, "kumo node \(arguments) should have failed")
            #expect(node.log.contains(message), "kumo node \(arguments): \(node.log)")
        }
    }
}
