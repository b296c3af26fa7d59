import Foundation
import Logging
import Testing
@testable import KumoCommands
import Functions
@testable import Node
import Tender

/// A pooled instance process told of an image ahead (a preload) boots it from
/// memory, but only while the file on disk is the one it read.
@Suite("Instance processes: preloaded images", .serialized)
struct InstancePreloadTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
    let builder: ImageBuilder

    init() throws {
        builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
    }

    func built(_ relative: String) throws -> String {
        try builder.buildIfStale(directory: Self.root + "/" + relative)
    }

    /// hello's image at a path of its own (the tests change it), and its config.
    func copyOfHello() throws -> (String, ImageConfig) {
        let path = NSTemporaryDirectory() + "kumo-preload-\(UUID().uuidString).kumo"
        try FileManager.default.copyItem(atPath: try built("examples/hello"), toPath: path)
        return (path, try #require(ImageConfig.read(from: try Tender.loadImage(path: path))))
    }

    /// Runs an instance server on its own pipes: `before` runs between the preload and the start.
    func serve(imagePath: String, config: ImageConfig, before start: () throws -> Void) throws -> (InvokeResult, String) {
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0]
        #expect(pipe(&down) == 0 && pipe(&up) == 0)
        defer { for fd in down + up { close(fd) } }
        let input = down[0], output = up[1]
        let done = DispatchSemaphore(value: 0)
        Thread {
            _ = InstanceServer(input: input, output: output, logger: Logger(label: "test")).run()
            done.signal()
        }.start()

        try FrameIO.write(.preload(PreloadImage(imagePath: imagePath, memorySize: config.memory)), to: down[1])
        Thread.sleep(forTimeInterval: 0.3)  // it reads the image while it waits
        try start()
        try FrameIO.write(.start(StartInstance(function: "preload-test", imagePath: imagePath, config: config, fpga: nil)), to: down[1])
        try FrameIO.write(.invoke(InvokeRequest(id: 1, environment: [], timeoutSeconds: 5)), to: down[1])
        while true {
            let answer = try FrameIO.read(from: up[0])  // log frames may come first
            guard case .result(let result) = answer.message else { continue }
            try FrameIO.write(.stop, to: down[1])
            #expect(done.wait(timeout: .now() + 10) == .success, "the instance server should stop when told")
            return (result, String(decoding: answer.blob, as: UTF8.self))
        }
    }

    @Test func aPreloadedImageBootsFromMemory() throws {
        guard KVMRequirement.check() else { return }
        let (path, config) = try copyOfHello()
        defer { try? FileManager.default.removeItem(atPath: path) }

        let (result, stdout) = try serve(imagePath: path, config: config) {}
        #expect(result.status == .succeeded)
        #expect(stdout.contains("hello from a Kumo unikernel"))
    }

    @Test func aFileChangedAfterThePreloadIsReadAgain() throws {
        guard KVMRequirement.check() else { return }
        let (path, config) = try copyOfHello()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let other = try Data(contentsOf: URL(fileURLWithPath: try built("Tests/Fixtures/guests/abort")))

        // Overwritten in place between the preload and the start: the new bytes boot, not the kept ones.
        let (result, _) = try serve(imagePath: path, config: config) {
            try other.write(to: URL(fileURLWithPath: path))
        }
        #expect(result.status == .failed)
        #expect(result.stderr.contains("about to abort"))
    }
}
