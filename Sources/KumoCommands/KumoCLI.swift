import ArgumentParser
import Foundation
import LocalCommands

/// `kumo`: build and run unikernel functions. kumo-control answers every command; the `kumo`
/// launcher sends build and run to kumo-local, which starts faster.
public struct KumoCLI: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kumo",
        abstract: "Kumo: serverless functions as unikernels on KVM.",
        subcommands: [BuildCommand.self, RunCommand.self, ServeCommand.self, DeployCommand.self, InvokeCommand.self,
                      ListCommand.self, DescribeCommand.self, LogsCommand.self, RemoveCommand.self,
                      AcceleratorsCommand.self, TenantCommand.self, CallCommand.self, BenchCommand.self,
                      XclbinCommand.self, NodeCommand.self, NodesCommand.self])

    public init() {}

    /// Parses and runs a command, async or not (a main.swift cannot use @main).
    public static func runAsRoot() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
