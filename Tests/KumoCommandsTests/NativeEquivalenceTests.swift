import Accelerator
import Foundation
import Functions
import Logging
import Testing
@testable import KumoCommands
@testable import LocalCommands
@testable import Tender

/// Native equivalence: each program is built twice, natively against the host's libOpenCL
/// (PoCL) and libc, and with `kumo build`; both run with the same arguments and input, and
/// their stdout and the files they write must match. A native run gets the image's file
/// tree laid out in a directory of its own (absolute paths in its arguments point into it)
/// and starts in its workdir there. What differs by nature (a device's name, a time) is
/// masked, and the masks are listed with each program.
@Suite("Native equivalence: the same program natively and under Kumo", .serialized)
struct NativeEquivalenceTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath

    struct Program: CustomStringConvertible {
        var directory: String
        var arguments: [String]? = nil
        var stdin = ""
        /// Regular expressions and what their matches become in both outputs.
        var masks: [(String, String)] = []
        /// Files the program writes, relative to where it starts.
        var writes: [String] = []
        var description: String { directory }
    }

    static let timeAndDevice = [("on [^:]+:", "on DEVICE:"), ("[0-9]+\\.[0-9]+ ms", "T ms")]

    static let programs: [Program] = [
        Program(directory: "examples/cat", stdin: "one\ntwo\nthree\n"),
        Program(directory: "examples/linux-program"),
        Program(directory: "Tests/Fixtures/guests/include-path"),
        Program(directory: "examples/vadd", arguments: ["/bitstreams/vadd.xclbin", "65536"], masks: timeAndDevice),
        Program(directory: "examples/matmul", arguments: ["/bitstreams/matmul.xclbin", "64", "2"], masks: timeAndDevice),
        Program(directory: "examples/sobel"),
        Program(directory: "Tests/Fixtures/native/textbook-saxpy"),
        Program(directory: "Tests/Fixtures/native/bench-histogram", writes: ["histogram.txt"]),
        Program(directory: "Tests/Fixtures/guests/threads"),
        Program(directory: "Tests/Fixtures/guests/cpp-features"),
        Program(directory: "Tests/Fixtures/native/cpp-saxpy"),
    ]

    struct Outcome {
        var stdout: Data
        var status: Int32
        var files: [String: Data]
    }

    @Test func everyProgramBehavesAsItDoesNatively() throws {
        guard KVMRequirement.check() else { return }
        var identical = 0
        for program in Self.programs {
            let native = try runNatively(program)
            let kumo = try runUnderKumo(program)
            let same = native.status == kumo.status && Self.masked(native.stdout, program) == Self.masked(kumo.stdout, program)
                && native.files == kumo.files
            print("native-equivalence: \(program.directory): \(same ? "identical" : "different")"
                  + (program.masks.isEmpty ? "" : " (masked: \(program.masks.map(\.0).joined(separator: ", ")))"))
            #expect(native.status == kumo.status, "\(program): exit \(native.status) natively, \(kumo.status) under Kumo")
            #expect(Self.masked(native.stdout, program) == Self.masked(kumo.stdout, program),
                    "\(program): natively \(String(decoding: native.stdout.prefix(400), as: UTF8.self)) under Kumo \(String(decoding: kumo.stdout.prefix(400), as: UTF8.self))")
            #expect(native.files == kumo.files, "\(program): the files it wrote differ")
            #expect(program.writes.allSatisfy { native.files[$0] != nil }, "\(program): wrote nothing natively")
            identical += same ? 1 : 0
        }
        print("native-equivalence: \(Self.programs.count) programs, \(identical) identical, \(Self.programs.count - identical) different")
    }

    static func masked(_ output: Data, _ program: Program) -> Data {
        guard !program.masks.isEmpty, var text = String(data: output, encoding: .utf8) else { return output }
        for (pattern, replacement) in program.masks {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return Data(text.utf8)
    }

    /// Built with the host's compiler against its libOpenCL; run in a directory holding the image's tree.
    func runNatively(_ program: Program) throws -> Outcome {
        let directory = Self.root + "/" + program.directory
        let spec = try FunctionSpec.load(directory: directory)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-native-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let tree = work + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        for file in spec.files {
            let target = tree + file.destination
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: directory + "/" + file.source, toPath: target)
        }
        if let bitstream = spec.bitstream {
            let xclbin = try BitstreamFiles.ensure(bitstream, directory: directory, root: Self.root, progress: { _ in })
            try FileManager.default.createDirectory(atPath: tree + "/bitstreams", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: xclbin, toPath: tree + "/bitstreams/" + (xclbin as NSString).lastPathComponent)
            if let source = BitstreamFiles.paths(bitstream, directory: directory, root: Self.root).source {
                try FileManager.default.copyItem(atPath: source, toPath: tree + "/bitstreams/" + (source as NSString).lastPathComponent)
            }
        }
        let binary = work + "/native"
        // g++ compiles .c files as C++ too, as `language: c++` asks.
        let cxx = spec.sources.contains(where: spec.isCxx)
        let compile = try runProcess(cxx ? "/usr/bin/g++" : "/usr/bin/cc", ["-O2"] + (cxx ? [] : ["-std=gnu11"]) + spec.cflags + spec.sources
                                   + ["-o", binary, "-lOpenCL", "-lm", "-lpthread"], in: directory)
        #expect(compile.status == 0, "\(program): the native build failed: \(String(decoding: compile.stderr, as: UTF8.self))")
        let arguments = (program.arguments ?? spec.args).map { $0.hasPrefix("/") ? tree + $0 : $0 }
        let start = tree + (spec.workdir ?? "")
        let ran = try runProcess(binary, arguments, in: start, stdin: Data(program.stdin.utf8))
        var files: [String: Data] = [:]
        for name in program.writes { files[name] = FileManager.default.contents(atPath: start + "/" + name) }
        return Outcome(stdout: ran.stdout, status: ran.status, files: files)
    }

    /// Built with `kumo build` and booted, with its scratch files copied out at exit.
    func runUnderKumo(_ program: Program) throws -> Outcome {
        let builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: Self.root + "/" + program.directory))
        let config = try #require(ImageConfig.read(from: image))
        var options = config.runOptions(arguments: program.arguments)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-scratch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        options.scratchOutput = try ScratchOutput(directory: out)
        if let identity = config.fpga {
            options.fpga = FPGAAttachment(device: try EmulatedFPGA(reconfigureCost: .zero, logger: Logger(label: "test")), identity: identity)
        }
        let output = CapturedOutput()
        let report = try Tender(logger: Logger(label: "test")).run(image: image, options: options,
                                                                  input: BytesInput(program.stdin), output: output)
        var files: [String: Data] = [:]
        let start = config.workdir ?? ""
        for name in program.writes { files[name] = FileManager.default.contents(atPath: out + start + "/" + name) }
        return Outcome(stdout: Data(output.stdout), status: report.outcome.exitCode, files: files)
    }
}
