import Cluster
import EventLoopHTTP
import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

extension Gateway {
    /// Every route; docs/openapi.yaml (served at /openapi.yaml) describes them.
    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: StateStoreErrorMiddleware())
        var table = RouteTable()
        func on(_ method: HTTPRequest.Method, _ path: String,
                _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
            table.add(method, path)
            router.on(RouterPath(path), method: method, use: handler)
        }
        on(.get, "/healthz") { _, _ in try await self.health() }
        on(.get, "/metrics") { request, _ in try await self.metrics(request) }
        on(.get, "/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        on(.post, "/function/:name") { request, context in try await self.invokeSync(request, context) }
        on(.post, "/async-function/:name") { request, context in try await self.invokeAsync(request, context) }
        on(.get, "/system/calls/:id") { _, context in try await self.callStatus(context) }
        on(.get, "/system/calls/:id/result") { _, context in try await self.callResult(context) }
        on(.get, "/system/functions") { request, _ in try await self.listFunctions(request) }
        on(.get, "/system/functions/:name") { request, context in try await self.describeFunction(request, context) }
        on(.put, "/system/functions/:name") { request, context in try await self.deploy(request, context) }
        on(.delete, "/system/functions/:name") { request, context in try await self.removeFunction(request, context) }
        on(.get, "/system/functions/:name/logs") { request, context in try await self.functionLogs(request, context) }
        on(.get, "/system/accelerators") { request, _ in try await self.accelerators(request) }
        on(.get, "/system/tenants") { request, _ in try await self.listTenants(request) }
        on(.post, "/system/tenants") { request, _ in try await self.createTenant(request) }
        if let cluster {
            on(.get, "/internal/v1/images/:hash") { request, context in try cluster.image(request, context, images: self.images) }
        }
        router.add(middleware: MethodNotAllowedMiddleware(table: table))
        return router
    }

    /// Runs the HTTP server until SIGINT/SIGTERM; `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) -> Void) async throws {
        let port = configuration.port
        let app = Application(
            router: router(),
            // Per connection: the caps first, then the idle deadline (which sees every request,
            // the fast lane's too: a head or body that stalls past it closes the connection).
            server: .http1(configuration: .init(additionalChannelHandlers: [
                ConnectionGuard(counts: self.connections),
                HTTPConnectionStateHandler(idleTimeout: self.configuration.idleTimeout, logger: self.logger),
                EventLoopResponder(route: FunctionRoute(gateway: self)),
            ])),
            configuration: .init(address: .hostname(configuration.host, port: port), serverName: "kumo"),
            onServerRunning: { [self] channel in
                let bound = channel.localAddress?.port ?? port
                let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
                membership.withLock { $0 = joinCluster(url: configuration.advertise ?? "http://\(host):\(bound)") }
                onRunning(bound)
            },
            logger: logger)
        let logWriter = Task { await logs.run() }
        await startBackground()
        defer { logWriter.cancel() }
        try await app.runService()
        // Leaves the cluster (its lease revoked) before the process ends.
        let leaving = membership.withLock { $0 }
        leaving?.cancel()
        await leaving?.value
        await shutdown()
    }

    // MARK: helpers shared by the handlers

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw GatewayError.internalError("cannot encode the answer: \(error)") }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func functionName(_ context: BasicRequestContext) throws(GatewayError) -> String {
        let name = context.parameters.get("name") ?? ""
        guard FunctionName.isValid(name) else {
            throw .badRequest("'\(name)' is not a function name: it \(FunctionName.rule)")
        }
        return name
    }

    /// The body, refused past `limit` bytes with 413 before it is all read where Content-Length tells.
    func body(_ request: Request, limit: Int) async throws(GatewayError) -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw .tooLarge("the body is \(length) bytes; this gateway takes at most \(limit) (kumo serve --body-limit)")
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw .tooLarge("the body is over \(limit) bytes, the most this gateway takes (kumo serve --body-limit)")
        } catch {
            throw .badRequest("cannot read the body: \(error)")
        }
    }

    func health() async throws -> Response {
        struct Health: Encodable {
            var status = "ok"
            var functions: Int
            var instances: Int
            var fpgas: Int
            var fpgasFree: Int
            var pooledProcesses: Int
            var guestMemory: UInt64
            var guestMemoryUsed: UInt64
        }
        let node = await self.node.capacity()
        return try json(Health(functions: deploymentCount, instances: node.instances, fpgas: node.fpgas, fpgasFree: node.fpgasFree,
                               pooledProcesses: node.pooledProcesses, guestMemory: node.guestMemory,
                               guestMemoryUsed: node.guestMemoryUsed))
    }
}
