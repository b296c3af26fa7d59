import Foundation
import KumoTestSupport
import Testing

/// Real etcd members (Debian's etcd-server) on free loopback ports with their own
/// data directories, started for one test and stopped with it: never the system service.
final class EtcdMembers: @unchecked Sendable {  // processes, touched by the test that owns them
    struct Member {
        var name: String
        var clientURL: String
        var peerURL: String
        var process: Process?
    }

    static let executable = "/usr/bin/etcd"
    let directory: String
    private(set) var members: [Member]

    var endpoints: [String] { members.map(\.clientURL) }

    /// Starts `count` members as one cluster and waits until it has a leader.
    init(count: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            Issue.record("etcd is missing at \(Self.executable): run scripts/setup.sh (it installs Debian's etcd-server)")
            throw CocoaError(.fileNoSuchFile)
        }
        directory = NSTemporaryDirectory() + "kumo-etcd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try FreePorts.take(count * 2)
        members = (0..<count).map { i in
            Member(name: "m\(i)", clientURL: "http://127.0.0.1:\(ports[2 * i])", peerURL: "http://127.0.0.1:\(ports[2 * i + 1])")
        }
        for i in members.indices { try start(i) }
        try waitUntilHealthy(members.indices.map { $0 })
    }

    deinit {
        // Killed, not stopped: a graceful stop waits seconds for peers already gone, and the data goes too.
        for i in members.indices { kill(i) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    func start(_ i: Int) throws {
        let cluster = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let member = members[i]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--name", member.name, "--data-dir", "\(directory)/\(member.name)",
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
            "--initial-cluster", cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", (directory as NSString).lastPathComponent,
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        members[i].process = process
    }

    /// Kills member `i` (SIGKILL).
    func kill(_ i: Int) {
        guard let process = members[i].process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        members[i].process = nil
    }

    /// Waits, with a deadline, until each listed member answers /health with a leader.
    func waitUntilHealthy(_ indices: [Int], within seconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(seconds)
        for i in indices {
            while !Self.healthy(members[i].clientURL) {
                guard Date() < deadline else {
                    Issue.record("etcd member \(members[i].name) not healthy within \(seconds) s")
                    throw CocoaError(.executableLoad)
                }
                usleep(50_000)
            }
        }
    }

    static func healthy(_ url: String) -> Bool {
        guard let data = try? Data(contentsOf: URL(string: url + "/health")!),
              let text = String(data: data, encoding: .utf8) else { return false }
        return text.contains("\"health\":\"true\"")
    }
}

/// Ports free on 127.0.0.1 right now (bound and released; etcd binds them next).
enum FreePorts {
    static func take(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let (fd, port) = try #require(LoopbackSocket.bind())
            sockets.append(fd)
            ports.append(port)
        }
        return ports
    }
}
