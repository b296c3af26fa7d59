import Accelerator
import ArgumentParser
import Foundation
import LocalCommands

/// `kumo xclbin build|info`: bitstreams for the emulated FPGA.
struct XclbinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xclbin",
        abstract: "Build an FPGA bitstream (.xclbin) from OpenCL C kernels, or inspect one.",
        subcommands: [Build.self, Info.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile OpenCL C kernels into an xclbin for the emulated FPGA.",
            discussion: "The result holds the kernels precompiled for the emulator (BITSTREAM), their signatures "
                + "(EMBEDDED_METADATA), IP_LAYOUT, MEM_TOPOLOGY, CONNECTIVITY and CLOCK_FREQ_TOPOLOGY.")

        @Argument(help: "The kernels' source, e.g. fpga-bitstreams/vadd.cl.")
        var source: String

        @Option(name: .shortAndLong, help: "Where to write the xclbin (default: the source with .xclbin).")
        var output: String?

        @Option(name: .customLong("build-options"), help: "Options for the OpenCL C compiler, e.g. \"-cl-fast-relaxed-math\".")
        var buildOptions: String = ""

        func run() throws {
            let out = output ?? ((source as NSString).deletingPathExtension + ".xclbin")
            do { try BitstreamFiles.build(source: source, output: out, options: buildOptions) }
            catch { throw fail(error) }
            print(out)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check an xclbin and show its header, sections and kernels.")

        @Argument(help: "An .xclbin file.")
        var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw fail(BuildError.unsupported("cannot read \(file)"))
            }
            do { print(BitstreamCompiler.describe(try Bitstream(bytes: [UInt8](data)))) }
            catch { throw fail(BuildError.unsupported("\(file): \(error.message)")) }
        }
    }
}
