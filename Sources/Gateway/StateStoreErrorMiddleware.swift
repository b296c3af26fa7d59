import Cluster
import Hummingbird

/// When the cluster's state store (etcd) cannot answer, what needs it answers 503
/// with a reason, while invocations of known functions go on from memory.
struct StateStoreErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as EtcdError {
            switch error {
            case .unavailable, .compacted:
                throw GatewayError.unavailable("the cluster's state store is unreachable (\(error)); deploys, removals, tenants and "
                                               + "async calls wait for it, while invocations of deployed functions go on", retryAfter: 2)
            case .refused, .malformed, .badEndpoint:
                throw GatewayError.internalError("the cluster's state store refused the change: \(error)")
            }
        }
    }
}
