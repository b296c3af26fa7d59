import Cluster
import HTTPTypes
import Hummingbird

/// The gateway's routes as data, so that a known path asked with a method it
/// does not take gets 405 with Allow (the router alone would say 404).
struct RouteTable {
    private(set) var routes: [(method: HTTPRequest.Method, path: String)] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String) { routes.append((method, path)) }

    /// The methods `path` takes; empty when no route has its shape.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") ? !$1.isEmpty : $0 == $1 }
        }.map(\.method.rawValue)
    }
}

/// Placed after every route, so it wraps only the router's not-found answer.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    let table: RouteTable

    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        let allowed = table.methods(for: request.uri.path)
        guard !allowed.isEmpty else { return try await next(request, context) }
        throw GatewayError.methodNotAllowed("\(request.method) is not allowed on \(request.uri.path); use \(allowed.joined(separator: " or "))",
                                            allow: allowed)
    }
}
