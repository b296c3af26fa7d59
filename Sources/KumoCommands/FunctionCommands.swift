import ArgumentParser
import Cluster
import Foundation
import Gateway
import LocalCommands
import Node

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List deployed functions.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        do {
            let reply = try await gateway.expectOK("GET", "/system/functions")
            if client.json { return printJSON(reply.body) }
            let functions = try gateway.decode([FunctionInfo].self, reply)
            printTable(["NAME", "TENANT", "MODE", "ACCEL", "INSTANCES", "IMAGE", "UPDATED"], functions.map {
                [$0.name, $0.tenant, $0.mode, $0.accelerator, "\($0.instances?.count ?? 0)/\($0.limits.maxInstances)",
                 String($0.image.prefix(12)), ago($0.updated)]
            })
        } catch { throw fail(error) }
    }
}

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show one function and its instances.")
    @Argument(help: "The function.") var name: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        do {
            let reply = try await gateway.expectOK("GET", "/system/functions/\(name)")
            if client.json { return printJSON(reply.body) }
            let f = try gateway.decode(FunctionInfo.self, reply)
            print("""
                name:        \(f.name)
                tenant:      \(f.tenant)
                image:       \(f.image) (\(formatBytes(f.imageBytes)))
                mode:        \(f.mode)
                accelerator: \(f.accelerator)
                memory:      \(f.memory >> 20) MiB
                timeout:     \(f.timeoutSeconds)s
                limits:      \(f.limits.minInstances)...\(f.limits.maxInstances) instances, \(f.limits.concurrency) in flight each, queue \(f.limits.queueLimit), keep-alive \(f.limits.keepAlive)
                deployed:    \(ago(f.created)), updated \(ago(f.updated))
                """)
            for s in f.scaling ?? [] { print(Self.scaling(s, f.limits)) }
            let instances = f.instances ?? []
            print("instances:   \(instances.isEmpty ? "none (scaled to zero)" : "")")
            if !instances.isEmpty {
                printTable(["  ID", "STATE", "FPGA", "SERVED", "STARTED"], instances.map {
                    ["  " + $0.id, $0.busy ? "busy" : "idle \(Int($0.idleSeconds))s", $0.fpga ?? "-", "\($0.served)", ago($0.started)]
                })
            }
        } catch { throw fail(error) }
    }

    /// One node's autoscaler and keep-alive, in a few lines.
    static func scaling(_ s: ScalingStatus, _ limits: InstanceLimits) -> String {
        var lines = [String(format: "scaling:     node %@: %d instances (%d starting), desired %d: %@",
                            s.node, s.instances, s.starting, s.desired, s.reason),
                     String(format: "             in flight: %.2f over 60 s, %.2f over 6 s%@; %d queued", s.stableConcurrency, s.panicConcurrency,
                            s.panicking ? " (panic)" : "", s.queued)]
        if let w = s.learned {
            lines.append(String(format: "             keep-alive auto (%@, %d idle times): pre-warm after %.1fs idle, warm until %.1fs idle; %d pre-warms",
                                w.basis.rawValue, s.idleTimes, w.prewarmSeconds, w.warmUntil, s.prewarms))
        } else {
            lines.append("             keep-alive \(limits.keepAlive)")
        }
        return lines.joined(separator: "\n")
    }
}

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a function; its instances stop.")
    @Argument(help: "The function.") var name: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        do {
            let reply = try await gateway.expectOK("DELETE", "/system/functions/\(name)")
            if client.json { return printJSON(reply.body) }
            print("removed \(name)")
        } catch { throw fail(error) }
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Show a function's logs: its stderr, persistent-mode console output, failures.")
    @Argument(help: "The function.") var name: String
    @Flag(name: .shortAndLong, help: "Keep printing new lines as they come.") var follow = false
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        var cursor: Int64 = 0
        do {
            repeat {
                let reply = try await gateway.expectOK("GET", "/system/functions/\(name)/logs",
                                                       query: [URLQueryItem(name: "after", value: "\(cursor)")])
                let page = try gateway.decode(LogLines.self, reply)
                for line in page.lines {
                    if client.json {
                        let data = (try? JSONEncoder().encode(line)) ?? Data()
                        print(String(decoding: data, as: UTF8.self))
                    } else {
                        let stamp = ISO8601DateFormatter().string(from: line.at)
                        let text = line.text.hasSuffix("\n") ? String(line.text.dropLast()) : line.text
                        print("\(stamp) \(line.instance) \(line.stream): \(text)")
                    }
                }
                fflush(nil)
                cursor = page.next
                if page.lines.isEmpty { if follow { try await Task.sleep(for: .milliseconds(500)) } else { break } }
            } while true
        } catch { throw fail(error) }
    }
}

struct AcceleratorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accelerators", abstract: "The FPGAs: kind (emulated or a PCI card), state, tenant, bitstream, since when; recent grants.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let gateway = try client.client()
        do {
            let reply = try await gateway.expectOK("GET", "/system/accelerators")
            if client.json { return printJSON(reply.body) }
            let inventory = try gateway.decode(AcceleratorInventory.self, reply)
            printTable(["FPGA", "KIND", "PCI", "ID", "GROUP", "DRIVER", "STATE", "TENANT", "FUNCTION", "BITSTREAM", "SINCE", "GRANTS",
                        "RECONFIGS"], inventory.cards.map {
                [$0.name, $0.kind.rawValue, $0.pci?.address ?? "-", $0.pci?.id ?? "-", $0.pci.map { "\($0.iommuGroup)" } ?? "-",
                 $0.pci.map(\.boundDriver) ?? "-", $0.status.rawValue, $0.tenant ?? "-", $0.function ?? "-",
                 $0.loadedBitstream.map { String($0.prefix(8)) } ?? "-", ago($0.since), "\($0.grants)", "\($0.reconfigurations)"]
            })
            for card in inventory.cards { if let pci = card.pci { print("\(card.name): \(pci.model), \(pci.passthrough)") } }
            if !inventory.grants.isEmpty {
                print("\nrecent grants:")
                printTable(["  WHEN", "EVENT", "FPGA", "TENANT", "FUNCTION", "INSTANCE", "DETAIL"], inventory.grants.prefix(10).map {
                    ["  " + ago($0.at), $0.kind, $0.card, $0.tenant, $0.function, $0.instance, $0.detail]
                })
            }
        } catch { throw fail(error) }
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create or list tenants (admin token).",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its token (shown once).")
        @Argument(help: "The tenant's name.") var name: String
        @Option(help: "Guest memory its instances may hold at once, e.g. 2G (default: kumo serve --tenant-memory).")
        var memory: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let gateway = try client.client()
            do {
                var fields = ["name": name]
                if let memory { fields["memory"] = memory }
                let body = try JSONEncoder().encode(fields)
                let reply = try await gateway.expectOK("POST", "/system/tenants", body: body,
                                                       headers: ["Content-Type": "application/json"])
                if client.json { return printJSON(reply.body) }
                let created = try gateway.decode([String: String].self, reply)
                print(created["token"] ?? "")
            } catch { throw fail(error) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let gateway = try client.client()
            do {
                let reply = try await gateway.expectOK("GET", "/system/tenants")
                if client.json { return printJSON(reply.body) }
                struct Tenant: Decodable { var name: String; var admin: Bool; var created: Date }
                printTable(["TENANT", "ADMIN", "CREATED"], try gateway.decode([Tenant].self, reply).map {
                    [$0.name, $0.admin ? "yes" : "", ago($0.created)]
                })
            } catch { throw fail(error) }
        }
    }
}
