import ArgumentParser
import Cluster
import Foundation
import Functions
import Gateway
import LocalCommands
import Tender

/// `kumo deploy DIR`: build if stale, upload, register.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Build a function (if stale) and deploy it to the gateway.")

    @Argument(help: "A function directory (function.yaml) or a built image (.kumo).")
    var target: String

    @Option(help: "Deploy under this name instead of the function's own.")
    var name: String?

    @Option(name: .customLong("max-instances"), help: "Most instances at once (default: function.yaml's, else the server's).")
    var maxInstances: Int?

    @Option(help: "Requests that may wait past the maximum before 429 (default: the server's).")
    var queue: Int?

    @Option(name: .customLong("min-instances"), help: "Instances kept warm however idle the function is (default: function.yaml's, else 0).")
    var minInstances: Int?

    @Option(help: "Requests in flight per instance the autoscaler aims at (default: function.yaml's, else 1).")
    var concurrency: Int?

    @Option(name: .customLong("keep-alive"), help: "How long an idle instance stays warm: auto (learned from the function's idle times), or a duration like 0, 30s, 10m (default: function.yaml's, else the server's).")
    var keepAlive: String?

    @OptionGroup var client: ClientOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let gateway = try client.client()
        let config: ImageConfig, path: String
        do {
            (_, config, path) = try loadTargetWithPath(target, logger: common.logger())
        } catch {
            throw fail(error)
        }
        let function = name ?? config.name
        guard FunctionName.isValid(function) else { throw fail("'\(function)' \(FunctionName.rule)") }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)") }
        var query: [URLQueryItem] = []
        if let maxInstances { query.append(URLQueryItem(name: "max_instances", value: "\(maxInstances)")) }
        if let queue { query.append(URLQueryItem(name: "queue", value: "\(queue)")) }
        if let minInstances { query.append(URLQueryItem(name: "min_instances", value: "\(minInstances)")) }
        if let concurrency { query.append(URLQueryItem(name: "concurrency", value: "\(concurrency)")) }
        if let keepAlive {
            guard KeepAlive(keepAlive) != nil else { throw fail("--keep-alive '\(keepAlive)' \(KeepAlive.rule)") }
            query.append(URLQueryItem(name: "keep_alive", value: keepAlive))
        }
        progress("uploading \(function) (\(formatBytes(bytes.count))) to \(gateway.base)")
        let reply: GatewayClient.Reply
        do { reply = try await gateway.expectOK("PUT", "/system/functions/\(function)", query: query, body: bytes) }
        catch { throw fail(error) }
        if client.json { return printJSON(reply.body) }
        let info = try gateway.decode(FunctionInfo.self, reply)
        let verb = reply.status == 201 ? "deployed" : "updated"
        print("\(verb) \(info.name): image \(info.image.prefix(12)), mode \(info.mode)\(info.accelerator == "fpga" ? ", fpga" : ""), tenant \(info.tenant)")
        print("invoke: kumo invoke \(info.name) < input   or   curl -X POST \(gateway.base)/function/\(info.name) --data-binary @input")
    }
}

func formatBytes(_ n: Int) -> String {
    n < 1 << 20 ? String(format: "%.1f KB", Double(n) / 1024) : String(format: "%.1f MB", Double(n) / 1_048_576)
}
