import Cluster
import Foundation
import HTTPTypes
import Hummingbird

/// Every refusal the gateway gives: an HTTP status, a message that says what
/// to do, and Retry-After where waiting helps.
public enum GatewayError: Error, HTTPResponseError, CustomStringConvertible {
    case badRequest(String)
    case unauthorized(String)
    case forbidden(String)
    case notFound(String)
    case methodNotAllowed(String, allow: [String])
    case conflict(String)
    case tooLarge(String)
    case busy(String, retryAfter: Int)
    case unavailable(String, retryAfter: Int)
    case badGateway(String)
    case internalError(String)

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .tooLarge: return .contentTooLarge
        case .busy: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        case .badGateway: return .badGateway
        case .internalError: return .internalServerError
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let m), .unauthorized(let m), .forbidden(let m), .notFound(let m), .methodNotAllowed(let m, _), .conflict(let m),
             .tooLarge(let m), .busy(let m, _), .unavailable(let m, _), .badGateway(let m), .internalError(let m):
            return m
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let (status, headers, body) = parts()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Status, headers and JSON body, for any HTTP layer.
    func parts() -> (HTTPResponse.Status, HTTPFields, [UInt8]) {
        var headers: HTTPFields = [.contentType: "application/json"]
        switch self {
        case .busy(_, let seconds), .unavailable(_, let seconds): headers[.retryAfter] = "\(seconds)"
        case .unauthorized: headers[.wwwAuthenticate] = "Bearer realm=\"kumo\""
        case .methodNotAllowed(_, let methods): headers[.allow] = methods.joined(separator: ", ")
        default: break
        }
        let body = (try? JSONEncoder().encode(["error": description])) ?? Data()
        return (status, headers, [UInt8](body))
    }
}
