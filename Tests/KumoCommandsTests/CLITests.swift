import ArgumentParser
import Foundation
import Testing
@testable import KumoCommands
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
