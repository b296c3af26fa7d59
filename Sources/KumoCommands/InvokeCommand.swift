import ArgumentParser
import Cluster
import Foundation
import Gateway
import LocalCommands

/// `kumo invoke NAME < input`: stdin is the body, the function's output is stdout.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a deployed function: stdin is its input, its output goes to stdout.",
        discussion: "Exit status: 0 on success; the function's own status when it fails; 124 on timeout; 1 otherwise.")

    @Argument(help: "The function.")
    var name: String

    @Option(name: [.customShort("H"), .customLong("header")], help: "An extra header, 'X-Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "A query argument key=value (repeatable).")
    var query: [String] = []

    @Flag(name: .customLong("async"), help: "Queue the call; print its id (see `kumo call ID`).")
    var async = false

    @Option(help: "With --async: a URL the result is POSTed to.")
    var callback: String?

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        var fields: [String: String] = [:]
        for h in headers {
            let parts = h.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("-H '\(h)' is not 'Name: value'") }
            fields[parts[0]] = parts[1]
        }
        if let callback { fields["X-Callback-Url"] = callback }
        if !fields.keys.contains(where: { $0.lowercased() == "content-type" }) {
            fields["Content-Type"] = "application/octet-stream"
        }
        var items: [URLQueryItem] = []
        for q in query {
            let parts = q.split(separator: "=", maxSplits: 1).map(String.init)
            items.append(URLQueryItem(name: parts[0], value: parts.count > 1 ? parts[1] : ""))
        }
        let body = isatty(0) == 1 ? Data() : FileHandle.standardInput.readDataToEndOfFile()
        let path = (async ? "/async-function/" : "/function/") + name
        let reply: GatewayClient.Reply
        do { reply = try await gateway.send("POST", path, query: items, body: body, headers: fields) } catch { throw fail(error) }
        if async {
            guard reply.status == 202 else { throw fail("\(name): HTTP \(reply.status): \(GatewayClient.message(reply))") }
            if client.json { return printJSON(reply.body) }
            let accepted = try gateway.decode(AcceptedCall.self, reply)
            print(accepted.id)
            return
        }
        try Self.finish(reply, name: name)
    }

    /// Writes the output; maps the HTTP answer to an exit status.
    static func finish(_ reply: GatewayClient.Reply, name: String) throws {
        switch reply.status {
        case 200:
            FileHandle.standardOutput.write(reply.body)
        case 500, 504:
            FileHandle.standardOutput.write(reply.body)
            let code = reply.header("X-Kumo-Status").flatMap { Int32($0) } ?? 1
            let detail = reply.header("X-Kumo-Detail") ?? "failed"
            FileHandle.standardError.write(Data("kumo: \(name): \(detail) (HTTP \(reply.status))\n".utf8))
            throw ExitCode(reply.status == 504 ? 124 : code == 0 ? 1 : code)
        default:
            var message = GatewayClient.message(reply)
            if let retry = reply.header("Retry-After") { message += " (retry after \(retry)s)" }
            throw fail("\(name): HTTP \(reply.status): \(message)")
        }
    }
}

/// `kumo call ID`: an async call's state, or its result.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Show an async call (kumo invoke --async); --wait prints its result.")

    @Argument(help: "The call id.")
    var id: String

    @Flag(help: "Wait until it is done, then print its output as `kumo invoke` would.")
    var wait = false

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        do {
            if wait {
                while true {
                    let reply = try await gateway.send("GET", "/system/calls/\(id)/result")
                    if reply.status == 202 { try await Task.sleep(for: .milliseconds(200)); continue }
                    if reply.status == 404 || reply.status == 400 {
                        throw fail("HTTP \(reply.status): \(GatewayClient.message(reply))")
                    }
                    return try InvokeCommand.finish(reply, name: id)
                }
            }
            let reply = try await gateway.expectOK("GET", "/system/calls/\(id)")
            if client.json { return printJSON(reply.body) }
            let call = try gateway.decode(CallStatus.self, reply)
            printTable(["CALL", "FUNCTION", "STATE", "HTTP", "STATUS", "CREATED"],
                       [[call.id, call.function, call.state, call.httpStatus.map { "\($0)" } ?? "-",
                         call.code.map { "\($0)" } ?? "-", ago(call.created)]])
            if let detail = call.detail, call.httpStatus != 200 { print("detail: \(detail)") }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail(error)
        }
    }
}
