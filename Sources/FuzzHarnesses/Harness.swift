import Foundation

/// One decoder of outside input, driven by raw bytes. The same harness runs
/// under libFuzzer (`kumo-fuzz`, coverage-guided) and in the test suite
/// (`FuzzTests`, seeded mutation with a fixed budget). Every input must give a
/// value or a typed error: a trap, a sanitizer report or a hang is a bug.
public enum Harness: String, CaseIterable, Sendable {
    case hypercalls, fpgaBatches, frames, images, xclbins, functionYAML

    /// The state a harness keeps between inputs (guest memory, an FPGA session).
    public func makeTarget(root: String) throws -> any FuzzTarget {
        switch self {
        case .hypercalls: try HypercallTarget()
        case .fpgaBatches: try FPGABatchTarget()
        case .frames: FrameTarget()
        case .images: ImageTarget()
        case .xclbins: XclbinTarget()
        case .functionYAML: FunctionYAMLTarget(directory: root + "/examples/hello")
        }
    }

    /// Valid or nearly valid inputs to start from: mutations of these reach past the first checks.
    public func seeds(root: String) throws -> [[UInt8]] {
        var mutator = Mutator(seed: UInt64(Self.allCases.firstIndex(of: self) ?? 0) + 1)
        let examples = "run from the repository root"
        switch self {
        case .hypercalls: return (0..<64).map { _ in HypercallTarget.seed(&mutator) }
        case .fpgaBatches: return (0..<64).map { _ in FPGABatchTarget.seed(&mutator) }
        case .frames: return try FrameTarget.seeds()
        case .images: return [try Self.file(root + "/examples/hello/.kumo/hello.kumo", hint: "run `kumo build examples/hello` first")]
        case .xclbins: return try ["vadd", "matmul", "sobel"].map { try Self.file("\(root)/fpga-bitstreams/\($0).xclbin", hint: examples) }
        case .functionYAML:
            return [try Self.file(root + "/examples/hello/function.yaml", hint: examples), Array(FunctionYAMLTarget.everyKey.utf8)]
        }
    }

    static func file(_ path: String, hint: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw HarnessError.missingSeed(path, hint: hint) }
        return [UInt8](data)
    }
}

/// A harness's state between inputs.
public protocol FuzzTarget {
    func run(_ input: [UInt8])
}

public enum HarnessError: Error, CustomStringConvertible {
    case missingSeed(String, hint: String)
    case setup(String)

    public var description: String {
        switch self {
        case .missingSeed(let path, let hint): "no seed input at \(path): \(hint)"
        case .setup(let why): why
        }
    }
}


extension Harness {
    /// Seeded mutation: `iterations` inputs, each a few mutations of one seed.
    public func mutate(iterations: Int, root: String) throws {
        let target = try makeTarget(root: root)
        let seeds = try seeds(root: root)
        var mutator = Mutator(seed: 0x4B55_4D4F + UInt64(Self.allCases.firstIndex(of: self) ?? 0))
        for i in 0..<iterations { target.run(mutator.mutate(seeds[i % seeds.count])) }
    }
}
