import Foundation

/// Real etcd members (Debian's etcd-server) on free loopback ports with their own
/// data directories, started for one test and stopped with it: never the system service.
public final class EtcdMembers: @unchecked Sendable {  // processes, touched by the test that owns them
    public struct Member {
        public var name: String
        public var clientURL: String
        public var peerURL: String
        public var process: Process?
    }

    public static let executable = "/usr/bin/etcd"
    public let directory: String
    public private(set) var members: [Member]

    public var endpoints: [String] { members.map(\.clientURL) }

    /// Starts `count` members as one cluster and waits until it has a leader.
    public init(count: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestSetupError("etcd is missing at \(Self.executable): run scripts/setup.sh (it installs Debian's etcd-server)")
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

    public func start(_ i: Int) throws {
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
    public func kill(_ i: Int) {
        guard let process = members[i].process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        members[i].process = nil
    }

    /// Waits, with a deadline, until each listed member answers /health with a leader.
    public func waitUntilHealthy(_ indices: [Int], within seconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(seconds)
        for i in indices {
            while !Self.healthy(members[i].clientURL) {
                guard Date() < deadline else {
                    throw TestSetupError("etcd member \(members[i].name) not healthy within \(seconds) s")
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
public enum FreePorts {
    public static func take(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            guard let (fd, port) = LoopbackSocket.bind() else { throw TestSetupError("no free loopback port") }
            sockets.append(fd)
            ports.append(port)
        }
        return ports
    }
}

/// A test's setup could not be made; the message says what is missing.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
