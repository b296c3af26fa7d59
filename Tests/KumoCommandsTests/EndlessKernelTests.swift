import Foundation
import Testing
@testable import KumoCommands
@testable import LocalCommands

/// A kernel that never ends is stopped by the function's timeout. It runs in
/// a `kumo run` process of its own, as every instance will: the emulator
/// cannot interrupt a running kernel, so the process, not the card, is what ends.
@Suite("An endless kernel")
struct EndlessKernelTests {
    /// The kumo executable that `swift test` built beside this test bundle.
    static var kumo: String? {
        let candidates = [CommandLine.arguments.first, Bundle.main.executablePath, Bundle.main.bundlePath].compactMap { $0 }
            .map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("kumo") }
        let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
        return (candidates + [root + "/.build/debug/kumo"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func isKilledAtTheFunctionsTimeout() throws {
        guard KVMRequirement.check() else { return }
        let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
        let kumo = try #require(Self.kumo, "the kumo executable was not built beside the tests")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kumo)
        process.arguments = ["run", root + "/Tests/Fixtures/guests/fpga-spin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        try process.run()
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(start)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 124, "\(stderr)")
        #expect(stdout.contains("spinning") && !stdout.contains("finished"))
        #expect(stderr.contains("ran past its timeout of 2s"))
        #expect(elapsed < 30)
    }
}
