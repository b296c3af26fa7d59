import Cluster
import Foundation
import Logging
import Node

/// What the gateway keeps: the state store, and the function logs buffered ahead
/// of it. Opened before the node, which reports into it. A node agent (`kumo node`)
/// keeps one on the cluster's store too, for its instances' lines and grant record.
public struct GatewayState: Sendable {
    let store: any StateStore
    /// Function logs and the node's FPGA grants and releases, on their way to the store.
    let logs: RecordBuffer

    /// The embedded default: SQLite in the data directory (created if missing).
    public static func open(_ configuration: GatewayConfiguration, logger: Logger) throws -> GatewayState {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        return GatewayState(store: try SQLiteStateStore(path: configuration.databasePath), logger: logger)
    }

    /// Where a node of this process keeps what its keep-alives learned.
    public func learnedKeepAlives(node: String) -> StoredLearnedKeepAlives {
        StoredLearnedKeepAlives(store: store, node: node)
    }

    public init(store: any StateStore, logger: Logger) {
        self.store = store
        logs = RecordBuffer(store: store, logger: logger)
    }

    /// Records a node's FPGA grants and releases (the grant/release record, `kumo accelerators --grants`).
    public var grantRecorder: @Sendable (FPGAGrantEvent) -> Void {
        let logs = self.logs
        return { event in
            logs.append(GrantRecord(id: nil, at: event.at, kind: event.kind.rawValue, card: event.card, tenant: event.tenant,
                                     function: event.function, instance: event.instance, detail: event.detail))
        }
    }

    /// Writes the buffered log lines and grants to the store every 100 ms until cancelled (then once more).
    public func writeLogs() async { await logs.run() }

    /// Where a node's instances' log lines go.
    public var logSink: NodeScheduler.LogSink {
        let logs = self.logs
        return { function, instance, line in logs.append(function: function, instance: instance, stream: line.stream, text: line.text) }
    }
}
