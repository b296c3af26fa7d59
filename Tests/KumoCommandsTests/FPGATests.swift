import Accelerator
import Foundation
import Logging
import Testing
@testable import KumoCommands
@testable import LocalCommands
import Functions
@testable import Tender

/// OpenCL programs built unchanged, booted on KVM with an emulated FPGA.
@Suite("Virtual OpenCL on an emulated FPGA", .serialized)
struct FPGATests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
    /// One card for the whole suite, as one node would have: sessions follow each other on it.
    static let device = Result { try EmulatedFPGA(reconfigureCost: .milliseconds(50), logger: Logger(label: "test")) }
    let builder: ImageBuilder
    let tender = Tender(logger: Logger(label: "test"))

    init() throws {
        builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
    }

    func boot(_ relative: String, arguments: [String]? = nil, device: EmulatedFPGA? = nil) throws -> (RunReport, CapturedOutput) {
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: Self.root + "/" + relative))
        let config = try #require(ImageConfig.read(from: image))
        var options = config.runOptions(arguments: arguments)
        options.fpga = FPGAAttachment(device: try device ?? Self.device.get(), identity: try #require(config.fpga))
        let output = CapturedOutput()
        let report = try tender.run(image: image, options: options, input: BytesInput(""), output: output)
        return (report, output)
    }

    /// A sandboxed instance's kernel cache dies with it, so it runs each kernel's generic
    /// work-group function instead of compiling one per launch size: every bitstream must carry it.
    @Test func everyBitstreamCarriesEachKernelsGenericWorkGroupFunction() throws {
        for name in ["vadd", "matmul", "sobel"] {
            let path = try BitstreamFiles.ensure(name, directory: Self.root, root: Self.root, progress: { _ in })
            let bitstream = try Bitstream(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(!bitstream.kernels.isEmpty)
            for kernel in bitstream.kernels {
                let generic = Array("/\(kernel.name)/0-0-0/\(kernel.name).so".utf8)
                #expect(bitstream.payload.firstRange(of: generic) != nil, "\(name): no generic work-group function for \(kernel.name)")
            }
        }
    }

    /// Host code as FPGA vendors write it, in C++ with the Khronos bindings: the platform found
    /// by name, the first accelerator, an .xclbin named after CL_DEVICE_NAME, profiling events.
    @Test func aVendorStyleCxxHostProgramRuns() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/vadd-cpp")
        #expect(report.outcome == .exited(status: 0), "\(out.stderrText)")
        #expect(out.stdoutText == """
            device xilinx:u250:gen3x16:4.1, loading /bitstreams/krnl_vadd.hw.xilinx_u250_gen3x16_4_1.xclbin
            vadd 65536 elements: PASS (0 wrong), kernel timed

            """, "\(out.stdoutText)")
    }

    /// Every platform and device query of OpenCL 3.0's cl.h answers, as a 3.0 device without
    /// the optional features does; a program built as OpenCL C 3.0 runs.
    @Test func everyOpenCL30PlatformAndDeviceQueryAnswers() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/opencl-queries")
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText == """
            queries: 8 platform, 108 device, 0 failed
            platform: OpenCL 3.0 Kumo, 3.0
            device: OpenCL 3.0 Kumo, 3.0
            OpenCL C: 1.0 1.1 1.2 3.0
            features: __opencl_c_int64 __opencl_c_fp64 __opencl_c_atomic_order_acq_rel __opencl_c_atomic_order_seq_cst __opencl_c_atomic_scope_device
            ILs: 0
            svm 0, queue on host 3
            unknown query: -30
            CL3.0 build 0: 2 4 6 8

            """, "\(out.stdoutText)")
    }

    /// Every OpenCL 3.0 entry point links. What the card runs works (rect transfers, migration,
    /// buffers with properties, kernel clones, compile, context destructors); what it lacks answers
    /// with the specification's error code (CL_INVALID_OPERATION -59, CL_INVALID_VALUE -30,
    /// CL_INVALID_PROPERTY -64, CL_LINKER_NOT_AVAILABLE -16, CL_INVALID_SAMPLER -41).
    @Test func theOpenCL30EntryPointsBeyondTheCardsCoreLinkAndAnswer() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/opencl-later")
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText == """
            write rect 0: 0 0 0 0 0 1 2 0 0 3 4 0 0 0 0 0
            read rect 0: 1 2 3 4
            copy rect 0: 1 2 3 4
            rect past the end -30
            migrate 0
            buffer with no properties 0
            buffer with an unknown property -64
            compile 0
            link -16
            clone 0
            clone ran 0: 6 6 6 6
            image -59
            image formats 0 0
            sampler -59
            pipe -59
            svm null
            il -59
            sub-devices -30
            host timer -59
            stale handle -41
            destructor second
            destructor first
            end

            """, "\(out.stdoutText)")
    }

    @Test func vaddMatchesTheCPU() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/vadd", arguments: ["/bitstreams/vadd.xclbin", "100000"])
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText.contains("vadd on kumo_u250_emulated: 100000 elements, PASS (0 wrong)"))
    }

    @Test func matmulWithLocalMemoryMatchesTheCPU() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/matmul", arguments: ["/bitstreams/matmul.xclbin", "64"])
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText.contains("matmul 64x64 x1: PASS (0 wrong)"))
    }

    @Test func sobelWritesTheFilteredImage() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/sobel")
        #expect(report.outcome == .exited(status: 0))
        let header = Array("P5\n64 48\n255\n".utf8)
        #expect(Array(out.stdout.prefix(header.count)) == header)
        let pixels = out.stdout.dropFirst(header.count)
        #expect(pixels.count == 64 * 48)
        #expect(pixels.contains { $0 > 100 } && pixels.first == 0)  // edges found, border zero
    }

    @Test func everyAPICallAndItsErrorsInsideTheGuest() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("opencl-shim/tests/api")
        #expect(report.outcome == .exited(status: 0), "\(out.stdoutText.split(separator: "\n").filter { $0.hasPrefix("FAIL") })")
        #expect(out.stdoutText.contains("148 checks, 0 failed"))
    }

    @Test func hostileBatchesFailWithOpenCLErrorsAndTheFPGAStillWorks() throws {
        guard KVMRequirement.check() else { return }
        for _ in 0..<2 {  // and the next run in the same process is fine
            let (report, out) = try boot("Tests/Fixtures/guests/fpga-malicious")
            #expect(report.outcome == .exited(status: 0))
            let results = Dictionary(out.stdoutText.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
            for name in ["batch-outside-memory", "batch-on-page-tables", "unknown-op", "size-zero", "size-past-batch",
                         "queue-again", "write-from-outside", "read-into-page-tables", "read-absurd-size", "read-past-buffer"] {
                #expect(results[name] == "-30", "\(name): \(results[name] ?? "missing")")   // CL_INVALID_VALUE
            }
            #expect(results["alloc-absurd"] == "-61")          // CL_INVALID_BUFFER_SIZE
            #expect(results["read-unknown-buffer"] == "-38")   // CL_INVALID_MEM_OBJECT
            #expect(results["read-released"] == "-38")
            #expect(results["release-again"] == "-38")
            #expect(results["read-bad-queue"] == "-36")        // CL_INVALID_COMMAND_QUEUE
            #expect(results["execute-unknown-kernel"] == "-48") // CL_INVALID_KERNEL
            #expect(results["configure-absurd"] == "-42")      // CL_INVALID_BINARY
            #expect(results["configure-garbage"] == "-42")
            #expect(results["still-works"] == "0 pattern-read-back")
        }
    }

    @Test func theNextTenantReadsZerosWhereTheLastLeftData() throws {
        guard KVMRequirement.check() else { return }
        let device = try EmulatedFPGA(reconfigureCost: .zero, logger: Logger(label: "test"))
        let (first, written) = try boot("Tests/Fixtures/guests/fpga-leftover", arguments: ["write"], device: device)
        #expect(first.outcome == .exited(status: 0))
        #expect(written.stdoutText.contains("secret written"))
        let (second, read) = try boot("Tests/Fixtures/guests/fpga-leftover", arguments: ["read"], device: device)
        #expect(second.outcome == .exited(status: 0))
        #expect(read.stdoutText.contains("nonzero bytes: 0\n"))
    }

    /// Work queued behind a user event the guest never set would block the card's
    /// cleanup forever; the session aborts such events when it ends.
    @Test func workLeftBehindAnUnsetUserEventDoesNotKeepTheCard() throws {
        guard KVMRequirement.check() else { return }
        let device = try EmulatedFPGA(reconfigureCost: .zero, logger: Logger(label: "test"))
        let (first, out) = try boot("Tests/Fixtures/guests/fpga-abandoned-event", device: device)
        #expect(first.outcome == .exited(status: 0), "\(out.stdoutText)")
        #expect(out.stdoutText.contains("left work behind"))
        // And a guest that blocks on that event until its timeout does not wedge the card either.
        let (waited, waitOut) = try boot("Tests/Fixtures/guests/fpga-abandoned-event", arguments: ["wait"], device: device)
        #expect(waited.outcome == .timedOut(seconds: 1), "\(waitOut.stdoutText)")
        #expect(device.settle(patience: 5))
        let (second, read) = try boot("Tests/Fixtures/guests/fpga-leftover", arguments: ["read"], device: device)
        #expect(second.outcome == .exited(status: 0), "\(read.stdoutText)")
        #expect(read.stdoutText.contains("nonzero bytes: 0\n"))
        #expect(!device.wedged)
    }

    @Test func aLoadedBitstreamIsNotLoadedAgain() throws {
        guard KVMRequirement.check() else { return }
        let device = try EmulatedFPGA(reconfigureCost: .milliseconds(10), logger: Logger(label: "test"))
        for _ in 0..<3 {
            let (report, _) = try boot("examples/vadd", arguments: ["/bitstreams/vadd.xclbin", "1000"], device: device)
            #expect(report.outcome == .exited(status: 0))
        }
        #expect(device.reconfigurations == 1)
        #expect(device.loadedBitstream != nil)
    }

    @Test func anImageIsRebuiltWhenItsNamedBitstreamsSourceChanges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-bitstream-\(UUID().uuidString)").path
        let name = "test-\(UInt32.random(in: 0...UInt32.max))"
        let source = Self.root + "/fpga-bitstreams/\(name).cl", xclbin = Self.root + "/fpga-bitstreams/\(name).xclbin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { for p in [dir, source, xclbin] { try? FileManager.default.removeItem(atPath: p) } }
        try "name: carrier\nsources: [main.c]\naccelerator: fpga\nbitstream: \(name)\n"
            .write(toFile: dir + "/function.yaml", atomically: true, encoding: .utf8)
        try "int main(void) { return 0; }\n".write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        try "__kernel void k(__global int *x) { x[0] = 1; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        let image = try builder.buildIfStale(directory: dir)
        let first = try #require(ImageBuilder.modified(image))
        let firstBitstream = try #require(ImageBuilder.modified(xclbin))
        #expect(try builder.buildIfStale(directory: dir) == image)
        #expect(ImageBuilder.modified(image) == first)                    // nothing changed: not rebuilt
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: source)
        _ = try builder.buildIfStale(directory: dir)
        #expect(try #require(ImageBuilder.modified(image)) > first)        // the kernel source changed: rebuilt
        #expect(try #require(ImageBuilder.modified(xclbin)) > firstBitstream)
    }

    /// An FPGA instance's start as a pooled process makes it: the OpenCL runtime started while
    /// it waited, the bitstream the image carries loaded before the guest boots. The guest's own
    /// load then finds it in the fabric and reconfigures nothing.
    @Test func aStartingInstanceLoadsItsBitstreamBeforeTheGuestAsks() throws {
        guard KVMRequirement.check() else { return }
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: Self.root + "/examples/vadd"))
        let config = try #require(ImageConfig.read(from: image))
        let path = try #require(config.env["KUMO_BITSTREAM"])
        let xclbin = try #require(image.carriedFile(path))
        #expect(try Bitstream(bytes: Array(xclbin)).xclbin.uuidString == config.bitstream)
        #expect(image.carriedFile("/bitstreams/none.xclbin") == nil)
        EmulatorPrestart.begin()
        let device = try EmulatedFPGA(reconfigureCost: .milliseconds(50), logger: Logger(label: "test"))
        device.preload(xclbin: xclbin)
        #expect(device.settle(patience: 10))
        #expect(device.reconfigurations == 1 && device.loadedBitstream == config.bitstream)
        let (report, out) = try boot("examples/vadd", device: device)
        #expect(report.outcome == .exited(status: 0), "\(out.stderrText)")
        #expect(device.reconfigurations == 1, "the guest's load found its bitstream in the fabric")
        // A tenant's bad bitstream is left for its guest's own load to report.
        device.preload(xclbin: xclbin.prefix(100))
        #expect(device.settle(patience: 10) && device.loadedBitstream == config.bitstream)
    }

    /// The node reads a tenant's file tree: a corrupted one reads as no file, never a crash
    /// or bytes from outside the tree.
    @Test func aCorruptedFileTreeReadsAsNoFile() throws {
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: Self.root + "/examples/vadd"))
        let pack = try #require(image.section(named: ImageFormat.filesSection, ByteReader(bytes: image.bytes)))
        let path = "/bitstreams/vadd.xclbin"
        func read(_ change: (inout [UInt8]) -> Void) throws -> ArraySlice<UInt8>? {
            var bytes = image.bytes
            change(&bytes)
            return try ELFImage(bytes: bytes).carriedFile(path)
        }
        let at = Int(pack.offset)
        #expect(try read { $0[at] ^= 0xff } == nil, "bad magic")
        #expect(try read { for i in 8..<12 { $0[at + i] = 0xff } } == nil, "more entries than the tree holds")
        #expect(try read { for i in (16 + 8)..<(16 + 16) { $0[at + i] = 0xff } } == nil, "data past the tree")
        #expect(try read { for i in (16 + 16)..<(16 + 24) { $0[at + i] = 0x7f } } == nil, "a size past the tree")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let file = try read { bytes in
                for _ in 0..<4 { bytes[at + Int.random(in: 0..<min(Int(pack.size), 256), using: &generator)] = .random(in: 0...255, using: &generator) }
            }
            if let file { #expect(file.startIndex >= at && file.endIndex <= at + Int(pack.size)) }
        }
    }

    @Test func anImageWithAnFPGANeedsOneGranted() throws {
        guard KVMRequirement.check() else { return }
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: Self.root + "/examples/vadd"))
        let options = try #require(ImageConfig.read(from: image)).runOptions(arguments: nil)
        #expect(throws: TenderError.self) {
            _ = try tender.run(image: image, options: options, input: BytesInput(""), output: CapturedOutput())
        }
    }
}
