import Foundation
import Node
import NIOCore
import NIOHTTP1
import NIOPosix

/// The invoke request to a node and the reading of its answer.
extension ClusterNodes {
    /// Sends the invocation to the node; the node's departure ends the wait (`abandon`).
    /// The answer comes on the caller's event loop when it has one (the gateway's), on a
    /// connection of that loop.
    func request(_ deployment: Deployment, _ invocation: Invocation, to node: NodeRecord) throws(SchedulingError) -> NodeConnections.Call {
        guard let endpoint = endpoint(node.address) else {
            throw .unreachable(node: node.name, reason: "its address \(node.address.prefix(100)) is not http://HOST:PORT")
        }
        let head: HTTPRequestHead
        do { head = try invokeHead(deployment, invocation, host: endpoint.host) } catch {
            throw .remote(.failed, "cannot describe the invocation to node \(node.name): \(error)")
        }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        // The function's own timeout, plus time for a cold start and an image fetch.
        let limit = TimeAmount.seconds(Int64(deployment.config.timeoutSeconds.rounded(.up)) + 30)
        return connections.send(head, body: invocation.body, host: endpoint.host, port: endpoint.port, on: loop, deadline: .now() + limit)
    }

    /// The node's answer as an outcome, a refusal, or a request that never reached it.
    func interpret(_ result: Result<NodeConnections.Answer, any Error>, from node: NodeRecord) throws(SchedulingError) -> Attempt {
        let answer: NodeConnections.Answer
        switch result {
        case .success(let got): answer = got
        case .failure(let error):
            switch error as? NodeConnections.Failure {
            case .connect(let why)?: return .undelivered(node: node.name, reason: why)
            case .cancelled?: return .lostMidway(node: node.name, reason: "it left the cluster (its lease ended) while running the request")
            case .lost(let why)?: return .lostMidway(node: node.name, reason: why)
            default: throw .unreachable(node: node.name, reason: "\(error)")
            }
        }
        let output = Array(answer.body.readableBytesView)
        if answer.status == .ok, let outcome = RemoteWire.outcome(fromHeader: answer.headers.first(name: RemoteWire.outcomeHeader),
                                                                  output: output, node: node.name) {
            return .answered(outcome)
        }
        if let refusal = try? JSONDecoder().decode(RemoteWire.Refusal.self, from: Data(output)) {
            throw .remote(refusal.kind, "node \(node.name): \(refusal.message)")
        }
        throw .unreachable(node: node.name, reason: "it answered \(answer.status.code): \(String(decoding: output.prefix(200), as: UTF8.self))")
    }

    private func invokeHead(_ deployment: Deployment, _ invocation: Invocation, host: String) throws -> HTTPRequestHead {
        guard let environment = RemoteWire.environmentHeader(invocation.environment) else {
            throw SchedulingError.remote(.failed, "the request's environment is too large to send to a node")
        }
        let headers: HTTPHeaders = [
            "Host": host,
            "Authorization": "Bearer \(token)",
            RemoteWire.versionHeader: ClusterProtocol.version,
            RemoteWire.deploymentHeader: try deploymentHeader(deployment),
            RemoteWire.environmentHeader: environment,
            RemoteWire.imageSourcesHeader: imageSources(deployment.version).joined(separator: ","),
            "Content-Length": "\(invocation.body.count)",
        ]
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: RemoteWire.prefix + "/invoke", headers: headers)
    }

    /// `http://HOST:PORT` of a node, parsed once.
    private func endpoint(_ address: String) -> (host: String, port: Int)? {
        if let known = endpoints.withLock({ $0[address] }) { return known }
        guard let parsed = ClusterProtocol.endpoint(address) else { return nil }
        endpoints.withLock { if $0.count >= 1024 { $0.removeAll() }; $0[address] = parsed }
        return parsed
    }

    private func deploymentHeader(_ deployment: Deployment) throws -> String {
        let cap = caps.withLock { $0[deployment.tenant] } ?? (bytes: nil, uncapped: false)
        if let cached = encodedDeployments.withLock({ $0[deployment.name] }), cached.deployment == deployment,
           cached.bytes == cap.bytes, cached.uncapped == cap.uncapped { return cached.header }
        let header = try RemoteWire.header(RemoteWire.RemoteDeployment(deployment, tenantMemory: cap.bytes, uncapped: cap.uncapped))
        encodedDeployments.withLock { $0[deployment.name] = (deployment, cap.bytes, cap.uncapped, header) }
        return header
    }
}
