import AsyncHTTPClient

/// The HTTP client a process uses to reach the cluster (etcd's members, node agents,
/// other gateways). It lives as long as the process, so it needs no shutdown; each call
/// carries its own deadline. A refused connection fails at once, so a caller moves on
/// to the next member or node instead of retrying until its deadline.
enum ClusterHTTP {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(500)
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
