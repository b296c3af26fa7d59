import Foundation
import Logging
import Testing
@testable import KumoCommands
import Functions
@testable import Node
import Tender

/// An instance process gets its image in the start frame (it reads no file of
/// the node's), after memory hints that carry only a size.
@Suite("Instance processes: the image comes with the start", .serialized)
struct InstanceStartTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath

    func image(_ relative: String) throws -> [UInt8] {
        let builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
        return try Tender.readImageFile(path: try builder.buildIfStale(directory: Self.root + "/" + relative))
    }

    /// Runs an instance server on its own pipes, starts it with `image`, invokes it once.
    func serve(image: [UInt8], config: ImageConfig) throws -> WorkerMessage {
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0]
        #expect(pipe(&down) == 0 && pipe(&up) == 0)
        defer { for fd in down + up { close(fd) } }
        let input = down[0], output = up[1]
        let done = DispatchSemaphore(value: 0)
        Thread {
            _ = InstanceServer(input: input, output: output, logger: Logger(label: "test")).run()
            done.signal()
        }.start()

        try FrameIO.write(.prepare(PrepareMemory(memorySize: config.memory)), to: down[1])
        try FrameIO.write(.start(StartInstance(function: "start-test", config: config, fpga: nil)), blob: image, to: down[1])
        try FrameIO.write(.invoke(InvokeRequest(id: 1, environment: [], timeoutSeconds: 5)), to: down[1])
        while true {
            let answer = try FrameIO.read(from: up[0])  // log frames may come first
            if case .log = answer.message { continue }
            try? FrameIO.write(.stop, to: down[1])
            #expect(done.wait(timeout: .now() + 10) == .success, "the instance server should stop")
            if case .result(var result) = answer.message {
                result.detail = String(decoding: answer.blob, as: UTF8.self)  // the stdout, for the caller
                return .result(result)
            }
            return answer.message
        }
    }

    @Test func theImageInTheStartFrameBoots() throws {
        guard KVMRequirement.check() else { return }
        let hello = try image("examples/hello")
        let config = try #require(ImageConfig.read(from: try ELFImage(bytes: hello)))
        guard case .result(let result) = try serve(image: hello, config: config) else {
            Issue.record("no result")
            return
        }
        #expect(result.status == .succeeded)
        #expect(result.detail.contains("hello from a Kumo unikernel"))
    }

    @Test func aStartWhoseImageIsNotAnImageIsRefused() throws {
        guard KVMRequirement.check() else { return }
        let config = try #require(ImageConfig.read(from: try ELFImage(bytes: try image("examples/hello"))))
        guard case .failed(let why) = try serve(image: Array("not an elf".utf8), config: config) else {
            Issue.record("a start with a broken image should fail")
            return
        }
        #expect(why.contains("ELF") || why.contains("image"), "\(why)")
    }
}
