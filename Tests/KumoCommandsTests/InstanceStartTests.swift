import Foundation
import InstanceWire
import InstanceWorker
import Logging
import Testing
@testable import KumoCommands
@testable import LocalCommands
import CSandbox
import Functions
@testable import Node
import Tender

/// An instance process gets its image with its start, as a sealed memfd (it
/// reads no file of the node's), after memory hints that carry only a size.
@Suite("Instance processes: the image comes with the start", .serialized)
struct InstanceStartTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath

    func image(_ relative: String) throws -> [UInt8] {
        let builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
        return try Tender.readImageFile(path: try builder.buildIfStale(directory: Self.root + "/" + relative))
    }

    /// Runs an instance server on its own pipes and image socket, hands it an image
    /// (`handOver` sends it; by default the node's way, sealed), starts it, invokes it once.
    /// `boundTo`: bind the process to that function first (the image comes with the bind, none with the start).
    func serve(image: [UInt8], config: ImageConfig, boundTo: String? = nil, startAs function: String = "start-test",
               handOver: ((Int32) throws -> Void)? = nil) throws -> WorkerMessage {
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0], images: [Int32] = [0, 0]
        #expect(pipe(&down) == 0 && pipe(&up) == 0 && csb_socketpair_cloexec(&images) == 0)
        defer { for fd in down + up + images { close(fd) } }
        let input = down[0], output = up[1], imageSocket = images[1]
        let done = DispatchSemaphore(value: 0)
        Thread {
            _ = InstanceServer(input: input, output: output, images: imageSocket, logger: Logger(label: "test")).run()
            done.signal()
        }.start()

        if let boundTo {
            try FrameIO.write(.bind(BindInstance(function: boundTo, config: config)), to: down[1])
        } else {
            try FrameIO.write(.prepare(PrepareInstance(memorySize: config.memory)), to: down[1])
        }
        if let handOver { try handOver(images[0]) } else {
            let sealed = try SealedImage(bytes: image, path: "test")
            withExtendedLifetime(sealed) { #expect(csb_send_fd(images[0], sealed.descriptor) == 0) }
        }
        try FrameIO.write(.start(StartInstance(function: function, config: config, fpga: nil)), to: down[1])
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

    /// A process bound to a function reads its image with the bind and boots it at the start;
    /// a start as any other function is refused, so it never runs another's guest.
    @Test func aBoundProcessStartsOnlyAsItsFunction() throws {
        guard KVMRequirement.check() else { return }
        let hello = try image("examples/hello")
        let config = try #require(ImageConfig.read(from: try ELFImage(bytes: hello)))
        guard case .result(let result) = try serve(image: hello, config: config, boundTo: "start-test") else {
            Issue.record("no result")
            return
        }
        #expect(result.status == .succeeded && result.detail.contains("hello from a Kumo unikernel"))
        guard case .failed(let why) = try serve(image: hello, config: config, boundTo: "start-test", startAs: "other") else {
            Issue.record("a start as another function should be refused")
            return
        }
        #expect(why.contains("bound to start-test, not other"), "\(why)")
        guard case .failed(let broken) = try serve(image: Array("not an elf".utf8), config: config, boundTo: "start-test") else {
            Issue.record("a bind with a broken image should fail")
            return
        }
        #expect(broken.contains("ELF") || broken.contains("image"), "\(broken)")
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

    /// An image the instance could be made to share with others must be sealed: a plain
    /// file or any other unsealed descriptor is refused, as is a start that comes without one.
    @Test func anImageDescriptorWithoutTheNodesSealsIsRefused() throws {
        guard KVMRequirement.check() else { return }
        let hello = try image("examples/hello")
        let config = try #require(ImageConfig.read(from: try ELFImage(bytes: hello)))
        let unsealed = try serve(image: hello, config: config) { socket in
            let path = NSTemporaryDirectory() + "kumo-unsealed-" + UUID().uuidString
            #expect(FileManager.default.createFile(atPath: path, contents: Data(hello)))
            defer { unlink(path) }
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            #expect(csb_send_fd(socket, fd) == 0)
        }
        guard case .failed(let why) = unsealed else { Issue.record("an unsealed image should be refused"); return }
        #expect(why.contains("not a sealed memfd"), "\(why)")

        let none = try serve(image: hello, config: config) { socket in
            #expect(send(socket, "x", 1, 0) == 1)  // a message with no descriptor in it
        }
        guard case .failed(let missing) = none else { Issue.record("a start without an image should be refused"); return }
        #expect(missing.contains("no image descriptor"), "\(missing)")
    }
}
