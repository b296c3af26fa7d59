import Foundation
import Testing
@testable import KumoCommands
@testable import LocalCommands

/// A real `kumo serve` process on a free port with its own data directory.
final class ServeHarness: @unchecked Sendable {
    let dataDir: String
    let arguments: [String]
    /// Added to the test's own environment (KUMO_TRACE=1, say).
    let environment: [String: String]
    private(set) var process: Process?
    private(set) var url = ""
    private(set) var adminToken = ""

    init(dataDir: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws {
        self.dataDir = dataDir ?? NSTemporaryDirectory() + "kumo-serve-" + UUID().uuidString
        self.arguments = arguments
        self.environment = environment
        try start()
    }

    deinit { process?.terminate() }

    static var kumo: String {
        get throws { try #require(EndlessKernelTests.kumo, "the kumo executable was not built beside the tests") }
    }

    func start() throws {
        try? FileManager.default.removeItem(atPath: dataDir + "/gateway.url")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.kumo)
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDir, "--pool", "1"] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dataDir + "/serve.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDir + "/serve.log"))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: dataDir + "/gateway.url", encoding: .utf8), !text.isEmpty {
                url = text.trimmingCharacters(in: .whitespacesAndNewlines)
                // Only the gateway that created the admin tenant has its token (in a cluster, the first).
                adminToken = ((try? String(contentsOfFile: dataDir + "/admin-token", encoding: .utf8)) ?? "")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        Issue.record("kumo serve did not start: \(serveLog)")
        throw CancellationError()
    }

    var serveLog: String { (try? String(contentsOfFile: dataDir + "/serve.log", encoding: .utf8)) ?? "" }

    /// SIGKILL: no cleanup at all, as a crash or an OOM kill.
    func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func stop() {
        process?.terminate()
        process?.waitUntilExit()
        process = nil
    }

    func client(token: String? = nil) -> GatewayClient {
        GatewayClient(base: url, token: token ?? adminToken)
    }

    /// The image of a function directory (relative to the checkout), built if stale.
    static func image(_ directory: String) throws -> Data {
        let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
        let builder = ImageBuilder(toolchain: try Toolchain.prepare(root: root), logger: .init(label: "test"))
        let path = try builder.buildIfStale(directory: root + "/" + directory)
        return try #require(FileManager.default.contents(atPath: path))
    }

    /// A new tenant's token.
    func tenant(_ name: String) async throws -> String {
        let reply = try await client().expectOK("POST", "/system/tenants", body: Data(#"{"name":"\#(name)"}"#.utf8))
        return try #require(reply.json["token"] as? String)
    }

    var port: Int { get throws { try #require(URL(string: url)?.port) } }

    /// Builds a function directory (relative to the checkout) and uploads it as `name`.
    @discardableResult
    func deploy(_ directory: String, as name: String? = nil, token: String? = nil, query: String = "") async throws -> GatewayClient.Reply {
        let bytes = try Self.image(directory)
        let function = name ?? (directory as NSString).lastPathComponent
        var items: [URLQueryItem] = []
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            items.append(URLQueryItem(name: kv[0], value: kv.count > 1 ? kv[1] : ""))
        }
        return try await client(token: token).send("PUT", "/system/functions/\(function)", query: items, body: bytes)
    }

    func invoke(_ name: String, _ body: String = "", query: String = "", headers: [String: String] = [:]) async throws -> GatewayClient.Reply {
        try await client().send("POST", "/function/\(name)" + (query.isEmpty ? "" : "?" + query),
                                body: Data(body.utf8), headers: headers)
    }

    /// Runs the kumo CLI against this server.
    func cli(_ arguments: [String], stdin: String = "", token: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.kumo)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["KUMO_GATEWAY"] = url
        env["KUMO_TOKEN"] = token ?? adminToken
        env["KUMO_CONFIG"] = "/nonexistent"
        process.environment = env
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

extension GatewayClient.Reply {
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
}
