import Accelerator
import Foundation
import Functions
import FuzzHarnesses
import InstanceWire
@testable import Node
import Testing
@testable import KumoCommands
@testable import LocalCommands
import Tender

/// Seeded mutation fuzzing of every decoder that takes input from outside: a
/// guest's hypercalls and FPGA command batches, images (ELF, manifest, config
/// note), xclbins, the node<->instance frames and function.yaml. A crash or a
/// hang ends the test run; every input must give a value or a typed error.
/// `swift test` runs a small budget per harness (KUMO_FUZZ_ITERATIONS);
/// `scripts/fuzz.sh` runs the same harnesses under libFuzzer with AddressSanitizer.
@Suite("Fuzzing: decoders of outside input", .serialized)
struct FuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["KUMO_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath

    func fuzz(_ harness: Harness) throws {
        let start = ContinuousClock.now
        try harness.mutate(iterations: Self.iterations, root: Self.root)
        print("fuzz \(harness.rawValue): \(Self.iterations) executions, 0 crashes, \(ContinuousClock.now - start)")
    }

    @Test func images() throws {
        _ = try ServeHarness.image("examples/hello")  // builds the seed image if it is stale
        try fuzz(.images)
    }

    /// The xclbin seeds are built from fpga-bitstreams/*.cl when stale (a clean clone has none).
    static func buildSeedBitstreams() throws {
        for name in ["vadd", "matmul", "sobel"] {
            _ = try BitstreamFiles.ensure(name, directory: root, root: root, progress: { _ in })
        }
    }

    @Test func xclbins() throws {
        try Self.buildSeedBitstreams()
        try fuzz(.xclbins)
    }
    @Test func frames() throws { try fuzz(.frames) }
    @Test func functionYAML() throws { try fuzz(.functionYAML) }

    @Test func hypercalls() throws {
        guard KVMRequirement.check() else { return }
        try fuzz(.hypercalls)
    }

    @Test func fpgaBatches() throws {
        guard KVMRequirement.check() else { return }
        try fuzz(.fpgaBatches)
    }

    /// The seeds must be inputs the decoders accept, or mutation never gets past the first checks.
    @Test func seedsAreValidInputs() throws {
        _ = try ServeHarness.image("examples/hello")
        try Self.buildSeedBitstreams()
        #expect(try Harness.images.seeds(root: Self.root).allSatisfy { (try? ELFImage(bytes: $0)) != nil })
        #expect(try Harness.xclbins.seeds(root: Self.root).allSatisfy { (try? Xclbin(parsing: $0)) != nil })
        #expect(try Harness.functionYAML.seeds(root: Self.root).allSatisfy {
            (try? FunctionSpec.parse(String(decoding: $0, as: UTF8.self), file: "function.yaml", directory: Self.root + "/examples/hello")) != nil
        })
        #expect(try Harness.frames.seeds(root: Self.root).dropLast().allSatisfy { BinaryMessages.decode($0) != nil })
        #expect(try Harness.hypercalls.seeds(root: Self.root).allSatisfy { $0.count >= 80 })
    }
}
