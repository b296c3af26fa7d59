import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a CLI request to the gateway failed, in words that say what to do.
enum ClientError: Error, CustomStringConvertible {
    case unreachable(String, String)
    case http(Int, String)
    case badResponse(String)

    var description: String {
        switch self {
        case .unreachable(let url, let why):
            return "cannot reach the gateway at \(url) (\(why)). Start it with `kumo serve`, or point --gateway / KUMO_GATEWAY at it"
        case .http(let status, let message): return "the gateway answered \(status): \(message)"
        case .badResponse(let why): return "the gateway's answer makes no sense: \(why)"
        }
    }
}

/// The CLI's side of the HTTP API.
struct GatewayClient {
    let base: String
    let token: String?

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    func send(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Data? = nil,
              headers: [String: String] = [:], timeout: TimeInterval = 600) async throws(ClientError) -> Reply {
        guard var components = URLComponents(string: base + path) else {
            throw .unreachable(base, "not a URL; use e.g. http://localhost:8080")
        }
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else { throw .unreachable(base, "not a URL; use e.g. http://localhost:8080") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw ClientError.badResponse("not HTTP") }
            var fields: [String: String] = [:]
            for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
            return Reply(status: http.statusCode, headers: fields, body: data)
        } catch let error as ClientError {
            throw error
        } catch {
            throw .unreachable(base, error.localizedDescription)
        }
    }

    /// Sends, and turns any answer but 2xx into an error carrying the gateway's message.
    func expectOK(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Data? = nil,
                  headers: [String: String] = [:]) async throws(ClientError) -> Reply {
        let reply = try await send(method, path, query: query, body: body, headers: headers)
        guard (200..<300).contains(reply.status) else { throw .http(reply.status, Self.message(reply)) }
        return reply
    }

    static func message(_ reply: Reply) -> String {
        if let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        return String(decoding: reply.body.prefix(500), as: UTF8.self)
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: Reply) throws(ClientError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(type, from: reply.body) } catch { throw .badResponse("\(error)") }
    }
}
