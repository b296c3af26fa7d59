/// What an etcd call can fail with, each saying what to do next.
public enum EtcdError: Error, Equatable, CustomStringConvertible {
    /// No endpoint answered; each tried endpoint with why it failed.
    case unavailable([String])
    /// etcd answered with an error (a gRPC status code and its message).
    case refused(code: Int, message: String)
    /// An answer that is not what etcd's v3 JSON gateway sends.
    case malformed(String)
    /// A watch's start revision was compacted away: list again, then watch from the list's revision + 1.
    case compacted(revision: Int64)
    /// An endpoint that is not an http:// URL with a host and a port.
    case badEndpoint(String)

    public var description: String {
        switch self {
        case .unavailable(let tried):
            return "etcd is unreachable (\(tried.joined(separator: "; "))); check that its members run and that --etcd names them"
        case .refused(let code, let message): return "etcd refused the request: \(message) (code \(code))"
        case .malformed(let what): return "etcd sent an answer Kumo cannot read: \(what)"
        case .compacted(let revision): return "etcd compacted its history past revision \(revision); list again before watching"
        case .badEndpoint(let endpoint):
            return "etcd endpoint \"\(endpoint)\" is not of the form http://HOST:PORT (several: comma-separated)"
        }
    }

    /// gRPC's NOT_FOUND, which etcd uses for an unknown lease.
    static let notFound = 5
}
