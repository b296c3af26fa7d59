import Foundation
import Logging
import Node

/// What the gateway keeps in its data directory: the store, and the function logs
/// buffered ahead of it. Opened before the node, which reports into it.
public struct GatewayState: Sendable {
    let store: Store
    let logs: LogBuffer

    /// Opens (or creates) the data directory and its database.
    public static func open(_ configuration: GatewayConfiguration, logger: Logger) throws -> GatewayState {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let store = try Store(path: configuration.databasePath)
        return GatewayState(store: store, logs: LogBuffer(store: store, logger: logger))
    }

    /// Records a node's FPGA grants and releases (the grant/release record, `kumo accelerators --grants`).
    public func grantRecorder(logger: Logger) -> @Sendable (FPGAGrantEvent) -> Void {
        let store = self.store
        return { event in
            do {
                try store.record(GrantRecord(id: nil, at: event.at, kind: event.kind.rawValue, card: event.card,
                                             tenant: event.tenant, function: event.function, instance: event.instance,
                                             detail: event.detail))
            } catch { logger.error("cannot record an FPGA \(event.kind.rawValue): \(error)") }
        }
    }

    /// Where a node's instances' log lines go.
    public var logSink: NodeScheduler.LogSink {
        let logs = self.logs
        return { function, instance, line in logs.append(function: function, instance: instance, stream: line.stream, text: line.text) }
    }
}
