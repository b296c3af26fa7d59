import Foundation
import FuzzHarnesses

// Built plainly (`swift build`), kumo-fuzz replays inputs, writes seed corpora
// and runs seeded mutation. Built for libFuzzer (scripts/fuzz.sh: -sanitize=fuzzer,address
// -DKUMO_LIBFUZZER), libFuzzer owns main and calls LLVMFuzzerTestOneInput with the
// harness that KUMO_FUZZ_HARNESS names.

#if KUMO_LIBFUZZER
// nonisolated(unsafe): libFuzzer calls LLVMFuzzerTestOneInput from one thread only.
nonisolated(unsafe) let target: any FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["KUMO_FUZZ_HARNESS"] ?? ""
    guard let harness = Harness(rawValue: name) else {
        FileHandle.standardError.write(Data("kumo-fuzz: set KUMO_FUZZ_HARNESS to one of \(Harness.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    do { return try harness.makeTarget(root: FileManager.default.currentDirectoryPath) } catch {
        FileHandle.standardError.write(Data("kumo-fuzz: \(error)\n".utf8))
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // libFuzzer's buffer is valid for this call only; the harness gets its own copy.
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(_ argc: UnsafeMutablePointer<Int32>,
                  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                  _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable's main to this symbol; hand the command line to libFuzzer.
@_cdecl("kumo_fuzz_main")
func kumoFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runLibFuzzer(&count, &arguments, fuzzOneInput)
}
#else
@main
struct KumoFuzz {
    static let usage = """
        usage: kumo-fuzz HARNESS replay FILE...     run each file as one input (reproduce a crash)
               kumo-fuzz HARNESS seeds DIR          write the seed inputs to DIR (a libFuzzer corpus)
               kumo-fuzz HARNESS mutate N           run N seeded mutations of the seeds
        harnesses: \(Harness.allCases.map(\.rawValue).joined(separator: ", ")); run from the repository root
        """

    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard args.count >= 3, let harness = Harness(rawValue: args[0]) else { fail(usage) }
        do {
            let root = FileManager.default.currentDirectoryPath
            switch args[1] {
            case "replay":
                let target = try harness.makeTarget(root: root)
                for path in args[2...] {
                    guard let data = FileManager.default.contents(atPath: path) else { fail("kumo-fuzz: cannot read \(path)") }
                    target.run([UInt8](data))
                    print("\(path): ran, no crash")
                }
            case "seeds":
                try FileManager.default.createDirectory(atPath: args[2], withIntermediateDirectories: true)
                let seeds = try harness.seeds(root: root)
                for (i, seed) in seeds.enumerated() {
                    FileManager.default.createFile(atPath: "\(args[2])/seed-\(i)", contents: Data(seed))
                }
                print("\(harness.rawValue): \(seeds.count) seeds in \(args[2])")
            case "mutate":
                guard let n = Int(args[2]), n > 0 else { fail("kumo-fuzz: mutate takes a positive count, not \(args[2])") }
                let start = ContinuousClock.now
                try harness.mutate(iterations: n, root: root)
                print("fuzz \(harness.rawValue): \(n) executions, 0 crashes, \(ContinuousClock.now - start)")
            default: fail(usage)
            }
        } catch { fail("kumo-fuzz: \(error)") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
#endif
