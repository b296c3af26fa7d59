import ArgumentParser
import Foundation
import Glibc

/// kumo-local's commands: those that work on this machine alone, in a binary without the
/// gateway, the cluster and their libraries (a smaller binary has fewer pages to fault in and
/// fewer conformances for the runtime to scan): `kumo run` pays only for this one. The `kumo`
/// launcher (Sources/kumo/main.c) keeps the list of commands it sends here.
public enum LocalCLI {
    /// Each is parsed as a command of its own, named as a part of `kumo` (`_superCommandName`):
    /// no command tree to walk and no completion-script check (kumo-control answers those).
    public static let commands: [ParsableCommand.Type] = [BuildCommand.self, RunCommand.self, InstanceCommand.self]

    /// Runs the command named by the first argument on this (the main) thread and exits.
    public static func main() -> Never {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let command = commands.first(where: { $0.configuration.commandName == name }) else {
            _ = fail("kumo-local answers \(commands.compactMap { $0.configuration.commandName }.joined(separator: ", ")); run `kumo` for the rest")
            Glibc.exit(64)
        }
        do {
            var parsed = try command.parseAsRoot(Array(arguments.dropFirst()))
            try parsed.run()
            Glibc.exit(0)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)  // already told (the guest's status, or 1 after fail()); exit(withError:) would build a help text first
        } catch {
            command.exit(withError: error)
        }
    }
}

/// Kumo's executables, built side by side: `kumo` (the launcher), `kumo-local` (this
/// module's commands) and `kumo-control` (every command).
public enum KumoExecutables {
    public static let local = "kumo-local"

    /// The named executable beside the running one (symbolic links resolved: a `kumo` linked
    /// into PATH still finds its sibling).
    public static func sibling(_ name: String) -> String? {
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return ((running as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
    }
}
