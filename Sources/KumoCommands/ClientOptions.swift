import ArgumentParser
import Foundation
import Yams

/// Where the gateway is and who we are: flag, then environment, then the
/// config file ($KUMO_CONFIG or ~/.config/kumo/config.yaml: gateway:, token:).
struct ClientOptions: ParsableArguments {
    @Option(help: "The gateway's URL (else KUMO_GATEWAY, the config file, http://localhost:8080).")
    var gateway: String?

    @Option(help: "A tenant's token (else KUMO_TOKEN, the config file's token or token_file).")
    var token: String?

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    static let defaultGateway = "http://localhost:8080"

    func client() throws -> GatewayClient {
        let env = ProcessInfo.processInfo.environment
        let file = try Self.configFile(env)
        var url = gateway ?? env["KUMO_GATEWAY"] ?? file["gateway"] ?? Self.defaultGateway
        while url.hasSuffix("/") { url.removeLast() }
        var token = token ?? env["KUMO_TOKEN"] ?? file["token"]
        if token == nil, let path = file["token_file"] {
            token = (try? String(contentsOfFile: (path as NSString).expandingTildeInPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return GatewayClient(base: url, token: token?.isEmpty == true ? nil : token)
    }

    static func configFile(_ env: [String: String]) throws -> [String: String] {
        let path = env["KUMO_CONFIG"] ?? (NSHomeDirectory() + "/.config/kumo/config.yaml")
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        do {
            guard let text = String(data: data, encoding: .utf8),
                  let map = try Yams.load(yaml: text) as? [String: Any] else { return [:] }
            return map.compactMapValues { $0 as? String }
        } catch {
            throw ValidationError("\(path) is not valid YAML (keys gateway, token, token_file): \(error)")
        }
    }
}

/// Fixed-width columns for people.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { i in ([header] + rows).map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
    for row in [header] + rows {
        let cells = row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
        print(cells.joined(separator: "  "))
    }
}

func printJSON(_ data: Data) {
    if let object = try? JSONSerialization.jsonObject(with: data),
       let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
        print(String(decoding: pretty, as: UTF8.self))
    } else {
        print(String(decoding: data, as: UTF8.self))
    }
}

func ago(_ date: Date) -> String {
    let s = Int(Date().timeIntervalSince(date))
    if s < 60 { return "\(s)s ago" }
    if s < 3600 { return "\(s / 60)m ago" }
    if s < 86_400 { return "\(s / 3600)h ago" }
    return "\(s / 86_400)d ago"
}
