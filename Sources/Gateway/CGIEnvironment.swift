import Cluster
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore

/// What a function sees of its request, as CGI passes it: the method, the
/// query (whole and per key), the body's length and type, and selected headers.
enum CGIEnvironment {
    static let forwardedHeaders: Set<String> = ["accept", "accept-language", "user-agent", "content-type"]
    static let maxBytes = 32 << 10

    static func make(head: HTTPRequest, uri: URI, function: String, bodyCount: Int) throws(GatewayError) -> [String] {
        var env = ["REQUEST_METHOD=\(head.method.rawValue)", "CONTENT_LENGTH=\(bodyCount)",
                   "KUMO_FUNCTION=\(function)", "QUERY_STRING=\(uri.query ?? "")"]
        for (key, value) in uri.queryParameters {
            let k = String(key)
            guard !k.isEmpty, k.count <= 64, k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                continue  // still in QUERY_STRING; only plain names become variables
            }
            env.append("QUERY_\(k)=\(value)")
        }
        for field in head.headerFields {
            let name = field.name.canonicalName
            // X- headers and a few standard ones; never credentials or cookies.
            guard name.hasPrefix("x-") || forwardedHeaders.contains(name), !name.hasPrefix("x-kumo-") else { continue }
            let key = name == "content-type" ? "CONTENT_TYPE" : "HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            env.append("\(key)=\(field.value)")
        }
        let total = env.reduce(0) { $0 + $1.utf8.count + 1 }
        guard total <= maxBytes else {
            throw .tooLarge("the query and headers make \(total) bytes of environment; at most \(maxBytes)")
        }
        guard !env.contains(where: { $0.utf8.contains(0) }) else {
            throw .badRequest("the query or a header contains a NUL byte")
        }
        return env
    }
}
