import Cluster
import Foundation
import InstanceWire
import Node

/// What `kumo serve` was started with.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (the chosen one is written to DATA/gateway.url).
    public var port = 8080
    /// In a cluster, the URL nodes and other gateways reach this one at (default: http://HOST:PORT).
    public var advertise: String?
    public var dataDirectory: String
    /// Largest request body accepted, bytes.
    public var bodyLimit = 6 << 20
    /// Largest image a deploy uploads, bytes; streamed to disk, never held whole in
    /// memory. At most what an instance takes as its image (FrameIO.maxBlob).
    public var imageLimit = FrameIO.maxBlob
    public var defaultLimits = InstanceLimits()
    /// Where async-call callbacks may go (public addresses, and the ranges allowed here).
    public var callbackPolicy = CallbackPolicy()
    /// A connection whose request head or body stalls, or that sits idle between
    /// requests, this long is closed (slow clients cannot hold descriptors forever).
    public var idleTimeout: Duration = .seconds(30)
    /// Open connections in all, and from one client address.
    public var maxConnections = 4096
    public var maxClientConnections = 256
    /// Finished async calls (and their results) are kept this long, and at most
    /// this many bytes of them; a tenant's functions may have this many pending.
    public var asyncRetention: Duration = .seconds(24 * 3600)
    public var asyncStorageBytes = 1 << 30
    public var asyncPendingPerTenant = 1000
    /// Async calls run at most this many at once.
    public var asyncConcurrency = 4

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    var databasePath: String { dataDirectory + "/kumo.sqlite" }
    var imageDirectory: String { dataDirectory + "/images" }
    public var adminTokenPath: String { dataDirectory + "/admin-token" }
    public var urlFilePath: String { dataDirectory + "/gateway.url" }
}
