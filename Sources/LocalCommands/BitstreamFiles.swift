import Accelerator
import Foundation

/// Where a function's bitstream comes from, and how it rides in the image.
public enum BitstreamFiles {
    /// The guest finds its bitstream here (also in KUMO_BITSTREAM).
    static let guestDirectory = "/bitstreams"

    /// The files a bitstream is made of: an image carrying it is stale when one of them changes.
    static func inputs(_ bitstream: String, directory: String, root: String) -> [String] {
        let (xclbin, source) = paths(bitstream, directory: directory, root: root)
        return [xclbin] + (source.map { [$0] } ?? [])
    }

    /// The .xclbin, and for a named bitstream the OpenCL C it is built from.
    static func paths(_ bitstream: String, directory: String, root: String) -> (xclbin: String, source: String?) {
        if bitstream.hasSuffix(".xclbin") { return ((directory as NSString).appendingPathComponent(bitstream), nil) }
        let dir = (root as NSString).appendingPathComponent("fpga-bitstreams")
        return (dir + "/\(bitstream).xclbin", dir + "/\(bitstream).cl")
    }

    /// The .xclbin for `bitstream` (a name in fpga-bitstreams/ or a relative path), built when stale.
    static func ensure(_ bitstream: String, directory: String, root: String, progress: (String) -> Void) throws -> String {
        let (xclbin, named) = paths(bitstream, directory: directory, root: root)
        guard let source = named else { return xclbin }
        let dir = (xclbin as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: source) || FileManager.default.fileExists(atPath: xclbin) else {
            throw BuildError.unsupported("bitstream \(bitstream): neither \(source) nor \(xclbin) exists")
        }
        guard let sourceDate = ImageBuilder.modified(source) else { return xclbin }
        return try ImageBuilder.locked(dir, lockName: ".build.lock") {
            if let built = ImageBuilder.modified(xclbin), built >= sourceDate { return xclbin }
            progress("building bitstream \(bitstream) from \(bitstream).cl")
            try build(source: source, output: xclbin)
            return xclbin
        }
    }

    /// Compiles `source` (OpenCL C) into an xclbin at `output`, atomically.
    public static func build(source: String, output: String, options: String = "") throws {
        guard let data = FileManager.default.contents(atPath: source), let text = String(data: data, encoding: .utf8) else {
            throw BuildError.unsupported("cannot read \(source) as UTF-8 text")
        }
        let name = ((source as NSString).lastPathComponent as NSString).deletingPathExtension
        let bitstream: Bitstream
        do { bitstream = try BitstreamCompiler.compile(source: text, name: name, options: options) }
        catch { throw BuildError.unsupported("\(source): \(error.message)") }
        let temporary = output + ".tmp"
        do {
            try Data(bitstream.xclbin.encoded()).write(to: URL(fileURLWithPath: temporary))
            _ = try? FileManager.default.removeItem(atPath: output)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
        } catch { throw BuildError.unsupported("cannot write \(output): \(error.localizedDescription)") }
    }

    /// `name`: the file name it has in /bitstreams (default: the file's own).
    static func carried(_ path: String, as name: String? = nil) throws -> (destination: String, data: [UInt8], mode: UInt32) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BuildError.unsupported("cannot read bitstream \(path)")
        }
        return (guestDirectory + "/" + (name ?? (path as NSString).lastPathComponent), [UInt8](data), 0o444)
    }

    /// The xclbin's uuid: what a card's fabric holds once it is loaded.
    static func uuid(_ data: [UInt8], path: String) throws -> String {
        do { return try Xclbin(parsing: data).uuidString }
        catch { throw BuildError.unsupported("bitstream \(path) is not a valid xclbin: \(error.message)") }
    }
}
