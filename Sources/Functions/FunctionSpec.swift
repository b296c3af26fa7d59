import Accelerator
import Foundation
import Yams

/// A file carried into the image's read-only tree.
public struct CarriedFile: Equatable, Sendable, Codable {
    /// Relative to the function directory.
    public var source: String
    /// Absolute path inside the guest.
    public var destination: String

    public init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }
}

public enum Accelerator: String, Sendable, Codable { case none, fpga }
/// What `.c` sources are compiled as: C, or C++ (vendors' helpers named `.c` are built with g++).
public enum SourceLanguage: String, Sendable, Codable { case c, cxx = "c++" }
public enum InvocationMode: String, Sendable, Codable { case run, persistent }

/// function.yaml, validated. Every key is checked; an unknown one is an error.
public struct FunctionSpec: Equatable, Sendable {
    public var name: String
    public var sources: [String]
    public var cflags: [String] = []
    public var files: [CarriedFile] = []
    public var memory: UInt64 = 64 << 20
    public var timeoutSeconds: Double = 30
    public var outputLimit: UInt64 = 64 << 20
    public var args: [String] = []
    public var env: [String: String] = [:]
    public var accelerator: Accelerator = .none
    public var bitstream: String?
    /// The name the bitstream has in /bitstreams (default: NAME.xclbin).
    public var bitstreamFile: String?
    public var mode: InvocationMode = .run
    /// What the FPGA says it is (accelerator: fpga only).
    public var fpga: FPGAIdentity?
    /// Running a request twice does no harm: in a cluster, a request whose node dies while it
    /// runs goes to another node instead of failing with 502.
    public var idempotent = false
    /// The guest's current directory at start: relative opens resolve against it. A
    /// directory of the carried file tree (`kumo build` checks), or "/".
    public var workdir: String?
    /// `language: c++`: `.c` sources are compiled as C++ too (`.cpp`, `.cc`, `.cxx` always are).
    public var language: SourceLanguage = .c
    /// `concurrency`, `min_instances`, `max_instances`, `keep_alive`: how it scales.
    public var scaling = Scaling()

    /// Whether `source` is compiled with g++ (and the image linked with the C++ library).
    public func isCxx(_ source: String) -> Bool {
        let ext = (source as NSString).pathExtension
        return FunctionSpec.cxxExtensions.contains(ext) || (language == .cxx && ext == "c")
    }

    public static let cxxExtensions: Set<String> = ["cpp", "cc", "cxx"]

    public init(name: String, sources: [String]) {
        self.name = name
        self.sources = sources
    }

    public static let keys = ["name", "sources", "cflags", "files", "memory", "timeout", "output_limit",
                              "args", "env", "accelerator", "bitstream", "mode", "fpga", "idempotent", "workdir", "language", "bitstream_file",
                              "concurrency", "min_instances", "max_instances", "keep_alive"]

    /// Reads `function.yaml` in `directory`.
    public static func load(directory: String) throws(SpecError) -> FunctionSpec {
        let path = (directory as NSString).appendingPathComponent("function.yaml")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(file: path, key: nil, message: "cannot read it; a function directory needs a function.yaml")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(file: path, key: nil, message: "is not UTF-8 text")
        }
        return try parse(text, file: path, directory: directory)
    }

    public static func parse(_ text: String, file: String, directory: String) throws(SpecError) -> FunctionSpec {
        let node: Node?
        do { node = try Yams.compose(yaml: text) }
        catch { throw SpecError(file: file, key: nil, message: "is not valid YAML: \(error)") }
        guard let mapping = node?.mapping else {
            throw SpecError(file: file, key: nil, message: "must be a mapping of keys (name, sources, ...)")
        }
        let p = SpecParser(file: file, directory: directory)
        var fields: [String: Node] = [:]
        for (k, v) in mapping {
            guard let key = k.string else { throw p.error(nil, "keys must be strings") }
            guard keys.contains(key) else {
                throw p.error(key, "unknown key; the keys are \(keys.joined(separator: ", "))")
            }
            guard fields[key] == nil else { throw p.error(key, "given twice") }
            fields[key] = v
        }
        guard let nameNode = fields["name"] else { throw p.error("name", "is required") }
        guard let sourcesNode = fields["sources"] else { throw p.error("sources", "is required: the C or C++ files to compile") }
        var spec = FunctionSpec(name: try p.name(nameNode), sources: try p.sources(sourcesNode))
        if let n = fields["cflags"] { spec.cflags = try p.strings(n, "cflags") }
        if let n = fields["files"] { spec.files = try p.files(n) }
        if let n = fields["memory"] { spec.memory = try p.memory(n) }
        if let n = fields["timeout"] { spec.timeoutSeconds = try p.duration(n, "timeout") }
        if let n = fields["output_limit"] { spec.outputLimit = try p.size(n, "output_limit", min: 1) }
        if let n = fields["args"] { spec.args = try p.strings(n, "args") }
        if let n = fields["env"] { spec.env = try p.environment(n) }
        if let n = fields["accelerator"] { spec.accelerator = try p.choice(n, "accelerator") }
        if let n = fields["bitstream"] { spec.bitstream = try p.bitstream(n) }
        if let n = fields["bitstream_file"] { spec.bitstreamFile = try p.bitstreamFile(n) }
        if let n = fields["fpga"] { spec.fpga = try p.fpgaIdentity(n) }
        if let n = fields["mode"] { spec.mode = try p.choice(n, "mode") }
        if let n = fields["idempotent"] { spec.idempotent = try p.boolean(n, "idempotent") }
        if let n = fields["workdir"] { spec.workdir = try p.guestDirectory(n, "workdir") }
        if let n = fields["language"] { spec.language = try p.choice(n, "language") }
        if let n = fields["concurrency"] { spec.scaling.concurrency = try p.integer(n, "concurrency", in: Scaling.concurrencyRange) }
        if let n = fields["min_instances"] { spec.scaling.minInstances = try p.integer(n, "min_instances", in: Scaling.minInstancesRange) }
        if let n = fields["max_instances"] { spec.scaling.maxInstances = try p.integer(n, "max_instances", in: Scaling.maxInstancesRange) }
        if let n = fields["keep_alive"] { spec.scaling.keepAlive = try p.keepAlive(n) }
        if let low = spec.scaling.minInstances, let high = spec.scaling.maxInstances, let why = Scaling.conflict(min: low, max: high) {
            throw p.error("min_instances", why)
        }
        if spec.accelerator == .none, spec.bitstream != nil {
            throw p.error("bitstream", "needs accelerator: fpga")
        }
        if spec.bitstream == nil, spec.bitstreamFile != nil {
            throw p.error("bitstream_file", "needs bitstream: the file name is that bitstream's")
        }
        if spec.accelerator == .none, spec.fpga != nil {
            throw p.error("fpga", "needs accelerator: fpga")
        }
        if spec.accelerator == .fpga, spec.fpga == nil { spec.fpga = FPGAIdentity() }
        if let b = spec.bitstream, spec.env["KUMO_BITSTREAM"] == nil {
            let file = spec.bitstreamFile ?? (b.hasSuffix(".xclbin") ? (b as NSString).lastPathComponent : b + ".xclbin")
            spec.env["KUMO_BITSTREAM"] = "/bitstreams/" + file
        }
        return spec
    }
}

/// A function.yaml problem, naming the file and the key.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let key: String?
    public let message: String
    public var description: String {
        key.map { "\(file): \($0): \(message)" } ?? "\(file): \(message)"
    }
}
