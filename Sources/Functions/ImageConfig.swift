import Accelerator
import Foundation
import Tender

/// The function's defaults recorded in the image (note KUMO_NOTE_CONFIG), so
/// that a built image runs as its function.yaml says without the directory.
public struct ImageConfig: Codable, Equatable, Sendable {
    public var name: String
    public var memory: UInt64
    public var timeoutSeconds: Double
    public var outputLimit: UInt64
    public var args: [String]
    public var env: [String: String]
    public var accelerator: Accelerator
    public var mode: InvocationMode
    public var fpga: FPGAIdentity?
    /// The uuid of the xclbin the image carries (`bitstream:`): placement sends a
    /// cold start to a card that holds it.
    public var bitstream: String?
    /// `idempotent:` (nil in images built before it: false).
    public var idempotent: Bool?
    /// `workdir:` (nil: "/").
    public var workdir: String?
    /// function.yaml's scaling keys (nil when it gives none).
    public var scaling: Scaling?

    public init(spec: FunctionSpec, bitstream: String? = nil) {
        name = spec.name
        memory = spec.memory
        timeoutSeconds = spec.timeoutSeconds
        outputLimit = spec.outputLimit
        args = spec.args
        env = spec.env
        accelerator = spec.accelerator
        mode = spec.mode
        fpga = spec.accelerator == .fpga ? (spec.fpga ?? FPGAIdentity()) : nil
        self.bitstream = bitstream
        idempotent = spec.idempotent ? true : nil
        workdir = spec.workdir == "/" ? nil : spec.workdir
        scaling = spec.scaling.isEmpty ? nil : spec.scaling
    }

    public static func read(from image: ELFImage) -> ImageConfig? {
        guard let note = image.configNote else { return nil }
        let json = Data(note.prefix { $0 != 0 })
        return try? JSONDecoder().decode(ImageConfig.self, from: json)
    }

    /// Run options: CLI arguments, when given, replace the function's default args.
    public func runOptions(arguments: [String]?) -> RunOptions {
        var options = RunOptions(memorySize: memory, timeoutSeconds: timeoutSeconds, outputLimit: outputLimit,
                                 arguments: [name] + (arguments ?? args),
                                 environment: env.keys.sorted().map { "\($0)=\(env[$0]!)" })
        options.workingDirectory = workdir
        return options
    }
}
