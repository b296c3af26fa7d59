import ArgumentParser
import Cluster
import Foundation
import LocalCommands
import Logging

/// `kumo nodes`: the cluster's nodes, from etcd.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the cluster's nodes: state (alive or lost), last report, load, and each FPGA's bitstream.")

    @Option(help: "etcd client URLs, comma-separated (default: $KUMO_ETCD).")
    var etcd: String?

    @Flag(help: "Print JSON: an array of objects with name, state and, for a live node, its record.")
    var json = false

    func run() async throws {
        guard let endpoints = etcd ?? ProcessInfo.processInfo.environment["KUMO_ETCD"] else {
            throw ValidationError("say where etcd is: --etcd http://HOST:PORT or KUMO_ETCD")
        }
        let nodes: [NodeStatus]
        do {
            let client = try EtcdClient(endpoints: [endpoints], logger: Logger(label: "kumo.nodes"))
            nodes = try await NodeStatus.list(client)
        } catch { throw fail(error) }
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(nodes), as: UTF8.self))
            return
        }
        if nodes.isEmpty { return print("no node has registered (start one: kumo node --etcd \(endpoints) --name NAME)") }
        printTable(["NAME", "STATE", "REGISTERED", "REPORTED", "HEARTBEAT LATE p99.9", "INSTANCES", "MEMORY", "IMAGES PRELOADED", "FPGAS", "BITSTREAMS"],
                   nodes.map { node in
            guard let r = node.record else { return [node.name, "lost", "-", "-", "-", "-", "-", "-", "-", "-"] }
            let bitstreams = r.cards.map { "\($0.name):\($0.loadedBitstream.map { String($0.prefix(8)) } ?? "-")" }
            let kinds = Set(r.cards.map(\.kind.rawValue)).sorted().joined(separator: "+")
            let late = r.heartbeatDelays.map { "\($0.p999) ms of \($0.count)" } ?? "-"
            return [node.name, "alive", ago(r.registered), ago(r.published), late, "\(r.capacity.instances)",
                    "\(formatBytes(Int(r.capacity.guestMemoryUsed)))/\(formatBytes(Int(r.capacity.guestMemory)))",
                    r.images.map { "\($0.count)" } ?? "-", "\(r.capacity.fpgasFree)/\(r.capacity.fpgas) free" + (kinds.isEmpty ? "" : " " + kinds), bitstreams.isEmpty ? "-" : bitstreams.joined(separator: " ")]
        })
    }
}
