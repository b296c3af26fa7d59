import HTTPTypes
import NIOCore

/// A response as status, headers and body; the responder adds Content-Length.
public typealias EventLoopAnswer = (HTTPResponse.Status, HTTPFields, [UInt8])

/// A route answered on the event loop by `EventLoopResponder`: the request's parts
/// are gathered there and handed over whole, with no async streams on the way.
public protocol EventLoopRoute: Sendable {
    /// What the route needs from a request it takes (a function's name, say).
    associatedtype Match: Sendable

    /// The match when this route answers the request; nil passes it to the server's router.
    func match(_ head: HTTPRequest) -> Match?

    /// The most body bytes the route takes.
    var bodyLimit: Int { get }

    /// The answer to a body over `bodyLimit` (`length`: what Content-Length announced, if it did).
    func tooLarge(length: Int?) -> EventLoopAnswer

    /// Answers the request. `done` may run on any thread, once. `executor` runs tasks on
    /// the request's event loop, for work that cannot block.
    func answer(_ match: Match, head: HTTPRequest, body: ByteBuffer, executor: EventLoopTaskExecutor,
                done: @escaping @Sendable (EventLoopAnswer) -> Void)

    /// Called once an answer is flushed to the connection (for trace marks).
    func flushed()
}

extension EventLoopRoute {
    public func flushed() {}
}
