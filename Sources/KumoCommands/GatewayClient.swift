import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

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
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        if let token { request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.replaceOrAdd(name: k, value: v) }
        do {
            let response = try await Self.client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let data = try await response.body.collect(upTo: Self.maxReply)
            var fields: [String: String] = [:]
            for (k, v) in response.headers { fields[k] = fields[k].map { $0 + ", " + v } ?? v }
            return Reply(status: Int(response.status.code), headers: fields, body: Data(buffer: data))
        } catch let error as IOError {
            throw .unreachable(base, String(cString: strerror(error.errnoCode)).lowercased())
        } catch {
            throw .unreachable(base, "\(error)")
        }
    }

    /// The most of an answer the CLI reads (a function's response or its logs).
    static let maxReply = 1 << 30

    /// One client for the process (never shut down: the process ends first). A refused
    /// connection fails at once instead of being retried until the request's timeout.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

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
