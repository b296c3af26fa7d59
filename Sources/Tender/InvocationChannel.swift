/// One request for a persistent instance: the body, CGI-style environment
/// strings, and the time the guest has to answer it.
public struct GuestRequest: Sendable {
    public var body: [UInt8]
    public var environment: [String]
    public var timeoutSeconds: Double

    public init(body: [UInt8], environment: [String], timeoutSeconds: Double) {
        self.body = body
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What a persistent guest answered: its status (0 success) and body.
public struct GuestResponse: Sendable, Equatable {
    public var status: Int32
    public var body: [UInt8]

    public init(status: Int32, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// Where a persistent guest's requests come from and its responses go.
/// Called on the vCPU thread, which blocks in `next()` while the instance idles.
public protocol InvocationChannel: AnyObject, Sendable {
    /// Delivers the answer to the request last handed out.
    func respond(_ response: GuestResponse)
    /// Blocks until the next request; nil tells the guest to exit.
    func next() -> GuestRequest?
}
