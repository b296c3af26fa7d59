import Accelerator
import CKumoABI
import Foundation
import Functions
import KVM
import Logging
import Testing
@testable import KumoCommands
@testable import Node
@testable import Tender

/// Seeded mutation fuzzing of every decoder that takes input from outside: a
/// guest's hypercalls and FPGA command batches, images (ELF, manifest, config
/// note), xclbins, the node<->instance frames and function.yaml. A crash or a
/// hang ends the test run; every input must give a value or a typed error.
/// `swift test` runs a small budget per harness; `scripts/fuzz.sh` a large one
/// (KUMO_FUZZ_ITERATIONS) and prints executions per harness.
@Suite("Fuzzing: decoders of outside input", .serialized)
struct FuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["KUMO_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath

    static func report(_ harness: String, _ executions: Int, since start: ContinuousClock.Instant) {
        print("fuzz \(harness): \(executions) executions, 0 crashes, \(ContinuousClock.now - start)")
    }

    @Test func images() throws {
        let hello = [UInt8](try ServeHarness.image("examples/hello"))
        var mutator = Mutator(seed: 1)
        let start = ContinuousClock.now
        for _ in 0..<Self.iterations {
            guard let image = try? ELFImage(bytes: mutator.mutate(hello)) else { continue }
            if let config = ImageConfig.read(from: image) {
                try? Tender.checkBootable(image, options: config.runOptions(arguments: nil))
            }
            _ = image.symbols
        }
        Self.report("images", Self.iterations, since: start)
    }

    @Test func xclbins() throws {
        let vadd = try #require(FileManager.default.contents(atPath: Self.root + "/fpga-bitstreams/vadd.xclbin"))
        var mutator = Mutator(seed: 2)
        let start = ContinuousClock.now
        for _ in 0..<Self.iterations { _ = try? Xclbin(parsing: mutator.mutate([UInt8](vadd))) }
        Self.report("xclbins", Self.iterations, since: start)
    }

    @Test func frames() throws {
        var config = ImageConfig(spec: FunctionSpec(name: "f", sources: []))
        config.fpga = FPGAIdentity()
        let seeds: [[UInt8]] = [
            BinaryMessages.encode(.start(StartInstance(function: "f", config: config,
                                                       fpga: FPGAGrantInfo(card: "fpga0", reconfigureNanoseconds: 1, loadedBitstream: "b")))),
            BinaryMessages.encode(.invoke(InvokeRequest(id: 7, environment: ["A=b", "C=d"], timeoutSeconds: 2))),
            BinaryMessages.encode(.result(InvokeResult(id: 7, status: .failed, code: 3, detail: "d", stderr: "e",
                                                       nanoseconds: 9, instanceEnded: true))),
        ].compactMap { $0 } + [Array(try JSONEncoder().encode(WorkerMessage.prepare(PrepareMemory(memorySize: 1 << 26))))]
        var mutator = Mutator(seed: 3)
        let start = ContinuousClock.now
        for i in 0..<Self.iterations {
            let bytes = mutator.mutate(seeds[i % seeds.count])
            _ = BinaryMessages.decode(bytes)
            _ = try? JSONDecoder().decode(WorkerMessage.self, from: Data(bytes))
        }
        Self.report("frames", Self.iterations, since: start)
    }

    @Test func functionYAML() throws {
        let text = try String(contentsOfFile: Self.root + "/examples/vadd/function.yaml", encoding: .utf8)
        var mutator = Mutator(seed: 4)
        let start = ContinuousClock.now
        for _ in 0..<Self.iterations {
            let mutated = String(decoding: mutator.mutate(Array(text.utf8)), as: UTF8.self)
            _ = try? FunctionSpec.parse(mutated, file: "function.yaml", directory: "/nonexistent")
        }
        Self.report("function.yaml", Self.iterations, since: start)
    }

    /// Hypercalls with argument structs of random bytes, their pointers and lengths
    /// sometimes inside guest memory, sometimes at its edges, sometimes anywhere.
    @Test func hypercalls() throws {
        guard KVMRequirement.check() else { return }
        let memory = try GuestMemory(size: 16 << 20)
        var mutator = Mutator(seed: 5)
        let start = ContinuousClock.now
        for _ in 0..<Self.iterations {
            let context = HypercallContext(memory: memory, input: BytesInput(mutator.bytes(count: 64)), output: CapturedOutput(),
                                           outputLimit: 1 << 16, deadline: .now, timeoutSeconds: 0)
            let address = mutator.address(in: memory.size)
            _ = try? memory.write(mutator.structBytes(memorySize: memory.size), at: address)
            let number = mutator.next() % 10 == 0 ? mutator.next() : mutator.next() % UInt64(KUMO_HC_COUNT.rawValue)
            _ = try? context.dispatch(number: number, argument: mutator.next() % 16 == 0 ? mutator.next() : address)
        }
        Self.report("hypercalls", Self.iterations, since: start)
    }

    /// FPGA command batches: headers with real ops and aligned sizes (so decoding gets
    /// past the first check), payloads and wait lists of interesting values.
    @Test func fpgaBatches() throws {
        guard KVMRequirement.check() else { return }
        let device = try FPGADevice(reconfigureCost: .zero, logger: Logger(label: "fuzz"))
        let memory = try GuestMemory(size: 16 << 20)
        let session = try #require(device.open(memory: memory, identity: FPGAIdentity()))
        defer { session.close() }
        var mutator = Mutator(seed: 6)
        let start = ContinuousClock.now
        let batch = UInt64(KUMO_IMAGE_BASE)
        for _ in 0..<Self.iterations {
            let (bytes, count) = mutator.fpgaBatch(memorySize: memory.size)
            _ = try? memory.write(bytes, at: batch)
            _ = session.submit(batch: batch, bytes: UInt32(bytes.count), count: count, deadline: Date(timeIntervalSinceNow: 1))
        }
        Self.report("FPGA batches", Self.iterations, since: start)
    }
}

/// A small deterministic mutator (SplitMix64): bit flips, interesting integers,
/// inserted, deleted and repeated runs, truncation.
struct Mutator {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    mutating func bytes(count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    static let interesting: [UInt64] = [0, 1, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fff_ffff, 0xffff_ffff,
                                        0x1_0000_0000, UInt64(Int64.max), UInt64.max, UInt64.max - 7]

    mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var data = seed
        for _ in 0...below(8) {
            guard !data.isEmpty else { data = bytes(count: below(64)); continue }
            let at = below(data.count)
            switch below(6) {
            case 0: data[at] ^= UInt8(1) << UInt8(below(8))
            case 1: data[at] = UInt8(truncatingIfNeeded: next())
            case 2:  // an interesting little-endian integer over 1, 2, 4 or 8 bytes
                let value = Self.interesting[below(Self.interesting.count)]
                let width = [1, 2, 4, 8][below(4)]
                for i in 0..<width where at + i < data.count { data[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            case 3: data.removeSubrange(at..<min(data.count, at + 1 + below(64)))
            case 4: data.insert(contentsOf: bytes(count: 1 + below(32)), at: at)
            default: data = Array(data.prefix(at))
            }
        }
        return data
    }

    /// A guest address: often 8-aligned inside memory, sometimes at its very end, sometimes anywhere.
    mutating func address(in size: UInt64) -> UInt64 {
        switch below(8) {
        case 0: return next()
        case 1: return size - UInt64(below(64))
        default: return (UInt64(KUMO_IMAGE_BASE) + next() % (size - UInt64(KUMO_IMAGE_BASE) - 4096)) & ~7
        }
    }

    /// 64 bytes of words, each a guest address, a length, an interesting value or noise.
    mutating func structBytes(memorySize: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<8 {
            let word: UInt64
            switch below(4) {
            case 0: word = address(in: memorySize)
            case 1: word = UInt64(below(1 << 16))
            case 2: word = Self.interesting[below(Self.interesting.count)]
            default: word = next()
            }
            withUnsafeBytes(of: word.littleEndian) { out += $0 }
        }
        return out
    }

    /// Up to 8 commands with real ops and sizes that are multiples of 8 (mostly right, sometimes not).
    mutating func fpgaBatch(memorySize: UInt64) -> ([UInt8], UInt32) {
        var out: [UInt8] = []
        let count = 1 + below(8)
        for _ in 0..<count {
            let payload = structBytes(memorySize: memorySize).prefix(8 * below(9))
            let nwait = below(4) == 0 ? below(5) : 0
            let size = UInt32(24 + payload.count + (nwait * 4 + 7) / 8 * 8)
            var header: [UInt8] = []
            func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { header += $0 } }
            put(UInt16(below(Int(KUMO_FPGA_OP_COUNT.rawValue) + 2)))
            put(UInt16(below(2)))
            put(below(16) == 0 ? UInt32(truncatingIfNeeded: next()) : size)
            put(UInt32(below(4)))
            put(UInt32(below(8)))
            put(UInt32(nwait))
            put(Int32(0))
            out += header + payload
            for _ in 0..<nwait { withUnsafeBytes(of: UInt32(below(8)).littleEndian) { out += $0 } }
            while out.count % 8 != 0 { out.append(0) }
        }
        return (out, UInt32(count))
    }
}
