import ArgumentParser
import Foundation
import Logging

/// `kumo`: build and run unikernel functions.
public struct KumoCLI: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kumo",
        abstract: "Kumo: serverless functions as unikernels on KVM.",
        subcommands: [BuildCommand.self, RunCommand.self, ServeCommand.self, DeployCommand.self, InvokeCommand.self,
                      ListCommand.self, DescribeCommand.self, LogsCommand.self, RemoveCommand.self,
                      AcceleratorsCommand.self, TenantCommand.self, CallCommand.self, BenchCommand.self,
                      XclbinCommand.self, NodeCommand.self, NodesCommand.self, InstanceCommand.self])

    public init() {}

    /// `kumo instance`, run synchronously on the calling (main) thread.
    public static func runInstance() -> Never {
        do {
            let command = try InstanceCommand.parse(Array(CommandLine.arguments.dropFirst(2)))
            try command.run()
            Glibc.exit(0)
        } catch {
            InstanceCommand.exit(withError: error)
        }
    }

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

struct CommonOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what the tender and the builder do.")
    var verbose = false

    func logger() -> Logger {
        var logger = Logger(label: "kumo")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// Prints a one-line reason and exits 1: the way every command fails.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("kumo: \(error)\n".utf8))
    return ExitCode(1)
}

func isDirectory(_ path: String) -> Bool {
    var dir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
}
