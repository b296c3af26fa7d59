import Functions
import Accelerator
import ArgumentParser
import Foundation
import Logging
import Tender

public struct RunCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "run", _superCommandName: "kumo",
        abstract: "Boot a function (directory, built if stale) or an image on KVM.",
        discussion: """
            stdin reaches the guest, its stdout and stderr appear here, and its exit status is kumo's.
            Failures of the guest have their own status: 124 timeout, 137 output limit or bad hypercall,
            139 crash, 128+N a fatal signal it raised; 1 when the image cannot be built or booted.
            """)

    @Argument(help: "A function directory or a built image (.kumo).")
    var target: String

    @Option(help: "Guest memory, e.g. 64M (default: the function's).")
    var memory: String?

    @Option(help: "Wall-clock limit, e.g. 5s or 500ms (default: the function's).")
    var timeout: String?

    @Option(name: .customLong("output-limit"), help: "Most bytes of stdout+stderr, e.g. 16M (default: the function's).")
    var outputLimit: String?

    @Option(name: .customLong("fpga-reconfigure"), help: "Modelled time to load a bitstream into the FPGA, e.g. 100ms.")
    var fpgaReconfigure: String = "100ms"

    @Option(help: "A directory to copy the files and directories the function created (its scratch space) into when it exits.")
    var output: String?

    @OptionGroup var common: CommonOptions

    @Argument(parsing: .postTerminator, help: "Arguments for the function, after --; they replace its default args.")
    var arguments: [String] = []

    public func run() throws {
        let report: RunReport
        do {
            let (image, config) = try loadTarget(target, logger: common.logger())
            var options = config.runOptions(arguments: arguments.isEmpty ? nil : arguments)
            try applyOverrides(&options)
            if let output { options.scratchOutput = try ScratchOutput(directory: output) }
            if let identity = config.fpga {
                guard let seconds = Durations.parse(fpgaReconfigure), seconds >= 0, seconds <= 600 else {
                    throw BuildError.unsupported("--fpga-reconfigure '\(fpgaReconfigure)' is not a duration like 100ms (at most 10m)")
                }
                let device = try EmulatedFPGA(reconfigureCost: .nanoseconds(Int64(seconds * 1e9)), logger: common.logger())
                options.fpga = FPGAAttachment(device: device, identity: identity)
            }
            report = try Tender(logger: common.logger()).run(
                image: image, options: options, input: FileDescriptorInput(fd: 0), output: FileDescriptorOutput())
        } catch {
            throw fail(error)
        }
        if case .exited = report.outcome {} else {
            FileHandle.standardError.write(Data("kumo: \(report.outcome)\n".utf8))
        }
        throw ExitCode(report.outcome.exitCode)
    }

    func applyOverrides(_ options: inout RunOptions) throws {
        if let memory {
            guard let bytes = Sizes.parse(memory) else { throw BuildError.unsupported("--memory '\(memory)' is not a size like 64M") }
            options.memorySize = bytes
        }
        if let timeout {
            guard let seconds = Durations.parse(timeout) else { throw BuildError.unsupported("--timeout '\(timeout)' is not a duration like 5s") }
            options.timeoutSeconds = seconds
        }
        if let outputLimit {
            guard let bytes = Sizes.parse(outputLimit) else { throw BuildError.unsupported("--output-limit '\(outputLimit)' is not a size like 16M") }
            options.outputLimit = bytes
        }
    }
}

/// A directory is built if stale; a file is loaded as an image. Either way the
/// image's own config note gives the defaults.
public func loadTarget(_ target: String, logger: Logger) throws -> (ELFImage, ImageConfig) {
    let (image, config, _) = try loadTargetWithPath(target, logger: logger)
    return (image, config)
}

/// loadTarget, also giving the image file's path.
public func loadTargetWithPath(_ target: String, logger: Logger) throws -> (ELFImage, ImageConfig, String) {
    var path = target
    if isDirectory(target) {
        let builder = ImageBuilder(toolchain: try Toolchain.prepare(), logger: logger, progress: progress)
        path = try builder.buildIfStale(directory: target)
    }
    let image = try Tender.loadImage(path: path)
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let config = ImageConfig.read(from: image) ?? ImageConfig(spec: FunctionSpec(name: name, sources: []))
    return (image, config, path)
}
