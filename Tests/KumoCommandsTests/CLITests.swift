import ArgumentParser
import Foundation
import Testing
@testable import KumoCommands
@testable import LocalCommands
import Functions

/// The commands as a user runs them, in-process: bad input ends with exit status 1.
@Suite("kumo commands", .serialized)
struct CLITests {
    func exitCode(_ arguments: [String]) -> Int32? {
        do {
            var command = try KumoCLI.parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            return nil
        }
    }

    @Test func runningAFileThatIsNotAnImageFailsWithStatus1() throws {
        let path = NSTemporaryDirectory() + "not-an-image-\(UUID().uuidString).kumo"
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(exitCode(["run", path]) == 1)
        #expect(exitCode(["run", "/nonexistent/image.kumo"]) == 1)
    }

    @Test func buildingSomethingThatIsNotAFunctionFailsWithStatus1() {
        #expect(exitCode(["build", "/nonexistent-function"]) == 1)
        let empty = NSTemporaryDirectory() + "kumo-empty-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(exitCode(["build", empty]) == 1)  // no function.yaml
    }

    /// The launcher sends build, run and instance to kumo-local and every other command to
    /// kumo-control, each found beside it with the caller's environment; a missing one is named.
    @Test func theLauncherHandsEachCommandToItsBinary() throws {
        let kumo = try ServeHarness.kumo
        let built = (kumo as NSString).deletingLastPathComponent
        let lone = NSTemporaryDirectory() + "kumo-launcher-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: lone, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: lone) }
        try FileManager.default.copyItem(atPath: kumo, toPath: lone + "/kumo")
        try FileManager.default.createSymbolicLink(atPath: lone + "/kumo-local", withDestinationPath: built + "/kumo-local")
        for command in LocalCLI.commands.compactMap({ $0.configuration.commandName }) {
            let reply = try runProcess(lone + "/kumo", [command, "--help"])
            #expect(reply.status == 0, "\(command): \(String(decoding: reply.stderr, as: UTF8.self))")
            #expect(String(decoding: reply.stdout, as: UTF8.self).contains("USAGE: kumo \(command)"), "\(command)")
        }
        for arguments in [["deploy", "--help"], ["--help"], []] {
            let reply = try runProcess(lone + "/kumo", arguments)
            let said = String(decoding: reply.stderr, as: UTF8.self)
            #expect(reply.status == 1 && said.contains("cannot start \(lone)/kumo-control"), "\(arguments): \(said)")
        }
        let listed = try runProcess("/usr/bin/env", ["KUMO_GATEWAY=http://127.0.0.1:1", kumo, "list"])
        #expect(listed.status == 1)
        #expect(String(decoding: listed.stderr, as: UTF8.self).contains("cannot reach the gateway at http://127.0.0.1:1"))
    }

    @Test func badOptionsAreRefused() {
        #expect(throws: (any Error).self) { try KumoCLI.parseAsRoot(["run"]) }
        #expect(throws: (any Error).self) { try KumoCLI.parseAsRoot(["bench", "x", "--runs", "many"]) }
    }

    @Test func theGuestsStatusIsKumosStatus() throws {
        guard KVMRequirement.check() else { return }
        let root = Toolchain.locateRoot() ?? "."
        #expect(exitCode(["run", root + "/Tests/Fixtures/guests/crash-ud2"]) == 139)
        #expect(exitCode(["run", root + "/Tests/Fixtures/guests/abort"]) == 134)
        #expect(exitCode(["run", root + "/Tests/Fixtures/guests/loop-forever", "--timeout", "300ms"]) == 124)
        #expect(exitCode(["run", root + "/Tests/Fixtures/guests/syscalls", "--memory", "7M"]) == 1)
    }
}
