import Cluster
import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Metrics
import NIOCore

extension Gateway {
    static let statusHeader = HTTPField.Name("X-Kumo-Status")!
    static let detailHeader = HTTPField.Name("X-Kumo-Detail")!
    static let instanceHeader = HTTPField.Name("X-Kumo-Instance")!
    /// The node that ran the invocation.
    static let nodeHeader = HTTPField.Name("X-Kumo-Node")!
    static let coldHeader = HTTPField.Name("X-Kumo-Cold-Start")!
    static let durationHeader = HTTPField.Name("X-Kumo-Duration-Us")!
    static let callbackHeader = HTTPField.Name("X-Callback-Url")!

    /// 404 for a name nobody deployed. Counted without the name: a label per
    /// made-up name would let anyone grow the metrics without bound.
    func requireDeployed(_ name: String) throws(GatewayError) {
        guard deployment(named: name) == nil else { return }
        Counter(label: "kumo_unknown_function_requests_total").increment()
        throw Self.notDeployed(name)
    }

    static func notDeployed(_ name: String) -> GatewayError {
        .notFound("no function named '\(name)' is deployed; `kumo list` shows those that are")
    }

    /// POST /function/{name}: the body is the function's input, its output the response.
    /// (Most such requests never get here: FunctionRoute answers them on the event loop.)
    func invokeSync(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let body = try await self.body(request, limit: configuration.bodyLimit)
        let (status, headers, output) = await invocationParts(function: name, head: request.head, uri: request.uri, body: body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: output)))
    }

    /// One sync invocation, from the request's head and body to the response's parts.
    func invocationParts(function name: String, head: HTTPRequest, uri: URI, body: [UInt8]) async
        -> (HTTPResponse.Status, HTTPFields, [UInt8]) {
        do {
            guard FunctionName.isValid(name) else {
                throw GatewayError.badRequest("'\(name.prefix(100))' is not a function name: it \(FunctionName.rule)")
            }
            try requireDeployed(name)
            let environment = try CGIEnvironment.make(head: head, uri: uri, function: name, bodyCount: body.count)
            return Self.parts(for: await invoke(function: name, body: body, environment: environment))
        } catch let error as GatewayError {
            return error.parts()
        } catch {
            return GatewayError.internalError("\(error)").parts()
        }
    }

    static func parts(for reply: InvocationReply) -> (HTTPResponse.Status, HTTPFields, [UInt8]) {
        switch reply {
        case .refused(let error): return error.parts()
        case .completed(let outcome):
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            headers[Self.instanceHeader] = outcome.instance
            headers[Self.nodeHeader] = outcome.node
            headers[Self.coldHeader] = outcome.coldStart ? "true" : "false"
            headers[Self.durationHeader] = "\(outcome.result.nanoseconds / 1000)"
            if outcome.result.status != .succeeded {
                headers[Self.statusHeader] = "\(outcome.result.code)"
                headers[Self.detailHeader] = headerSafe(outcome.result.detail)
            }
            return (HTTPResponse.Status(code: reply.httpStatus), headers, outcome.output)
        }
    }

    /// Printable ASCII, at most 300 characters: safe as a header value.
    static func headerSafe(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init).prefix(300))
    }

    /// POST /async-function/{name}: accepted (committed) now, run later, result kept by id.
    func invokeAsync(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try functionName(context)
        try requireDeployed(name)
        var callback: String?
        if let raw = request.headers[Self.callbackHeader] {
            do { _ = try CallbackPolicy.checkForm(raw) } catch { throw GatewayError.badRequest(error.description) }
            callback = raw
        }
        let owner = deployment(named: name)?.tenant ?? ""
        let pendingCap = configuration.asyncPendingPerTenant
        let tooMany = GatewayError.busy("\(pendingCap) async calls to this tenant's functions are pending; retry later", retryAfter: 5)
        // Refused before the body is read; checked again, atomically, where the call is recorded.
        if try await store.pendingCalls(tenant: owner) >= pendingCap { throw tooMany }
        let body = try await self.body(request, limit: configuration.bodyLimit)
        let environment = try CGIEnvironment.make(head: request.head, uri: request.uri, function: name, bodyCount: body.count)
        let id = UUID().uuidString.lowercased()
        let encoded = String(decoding: try JSONEncoder().encode(environment), as: UTF8.self)
        let accepted: Bool
        do {
            accepted = try await store.insert(CallRecord(id: id, function: name, state: .queued, body: Data(body), environment: encoded,
                                                   callback: callback, created: Date()),
                                        tenant: owner, pendingBelow: pendingCap)
        } catch {
            throw GatewayError.internalError("cannot accept the call: \(error)")
        }
        guard accepted else { throw tooMany }
        await asyncCalls.submit(id)
        await asyncCalls.pruneIfDue(retention: configuration.asyncRetention, maxBytes: configuration.asyncStorageBytes)
        return try json(AcceptedCall(id: id, function: name, state: "queued", statusURL: "/system/calls/\(id)",
                                 resultURL: "/system/calls/\(id)/result"), status: .accepted)
    }

    func call(_ context: BasicRequestContext) async throws -> CallRecord {
        let id = context.parameters.get("id") ?? ""
        guard id.count <= 64, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw GatewayError.badRequest("'\(id.prefix(64))' is not a call id")
        }
        guard let call = try await store.call(id) else {
            throw GatewayError.notFound("no async call \(id)")
        }
        return call
    }

    /// GET /system/calls/{id}: where the call is.
    func callStatus(_ context: BasicRequestContext) async throws -> Response {
        let call = try await self.call(context)
        return try json(CallStatus(id: call.id, function: call.function, state: call.state.rawValue,
                               httpStatus: call.httpStatus, code: call.code, detail: call.detail,
                               responseBytes: call.response?.count, created: call.created, finished: call.finished))
    }

    /// GET /system/calls/{id}/result: the response as the sync call would have given it; 202 while pending.
    func callResult(_ context: BasicRequestContext) async throws -> Response {
        let call = try await self.call(context)
        guard call.state == .done, let status = call.httpStatus else {
            return try json(["id": call.id, "state": call.state.rawValue], status: .accepted)
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if status != 200, let code = call.code { headers[Self.statusHeader] = "\(code)" }
        if status != 200, let detail = call.detail { headers[Self.detailHeader] = Self.headerSafe(detail) }
        return Response(status: HTTPResponse.Status(code: status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: call.response ?? Data())))
    }
}
