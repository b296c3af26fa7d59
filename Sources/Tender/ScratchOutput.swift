import CKumoABI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where `kumo run --output DIR` puts the scratch files a guest created: the
/// guest hands each over at exit (KUMO_HC_OUTPUT) with its absolute path, which
/// lands below DIR. Paths are checked, never followed through a symbolic link.
public final class ScratchOutput: @unchecked Sendable {  // used by one run's vCPU thread only
    public let directory: String
    /// Files and directories kept so far.
    public private(set) var kept = 0
    /// A guest has 256 scratch nodes; anything past this is not a runtime's export.
    static let maxEntries = 4096

    /// Makes the directory (and its parents) if it is missing.
    public init(directory: String) throws(Unusable) {
        self.directory = (directory as NSString).standardizingPath
        var path = self.directory.hasPrefix("/") ? "" : "."
        for component in self.directory.split(separator: "/") {
            path += "/" + component
            do { try Self.makeDirectory(path, followingLinks: true) } catch {
                throw Unusable(description: "--output \(directory): cannot make \(path): \(String(cString: strerror(error.code)))")
            }
        }
    }

    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Keeps one file (or directory); 0 or -errno for the guest.
    func keep(path: [UInt8], directory isDirectory: Bool, bytes: UnsafeRawBufferPointer) -> Int64 {
        guard kept < Self.maxEntries else { return -Int64(ENOSPC) }
        guard let segments = Self.segments(path) else { return -Int64(EINVAL) }
        var current = directory
        do {
            for segment in isDirectory ? segments : segments.dropLast() {
                current += "/" + segment
                try Self.makeDirectory(current)
            }
            if !isDirectory, let name = segments.last {
                try Self.writeFile(current + "/" + name, bytes)
            }
        } catch {
            return -Int64(error.code)
        }
        kept += 1
        return 0
    }

    /// "/a/b" as ["a", "b"]; nil unless absolute, normalised, UTF-8 and free of NUL, "." and "..".
    static func segments(_ path: [UInt8]) -> [String]? {
        guard path.count > 1, path.count < Int(KUMO_SCRATCH_PATH_MAX), path.first == UInt8(ascii: "/"),
              !path.contains(0), let text = String(validating: path, as: UTF8.self) else { return nil }
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        return parts
    }

    struct Failure: Error { let code: Int32 }

    /// A directory that exists or is made now; below the user's directory, a link does not count as one.
    static func makeDirectory(_ path: String, followingLinks: Bool = false) throws(Failure) {
        var info = stat()
        if (followingLinks ? stat(path, &info) : lstat(path, &info)) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(code: ENOTDIR) }
            return
        }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw Failure(code: errno) }
    }

    static func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(code: errno) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            // `bytes` is a checked range of guest memory, non-empty here; `done` stays below its count.
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(code: n < 0 ? errno : EIO) }
            done += n
        }
    }
}

extension HypercallContext {
    /// KUMO_HC_OUTPUT: a scratch file or directory the guest hands over at exit.
    func output(_ address: UInt64) throws(HypercallFault) -> HypercallResult {
        var call: kumo_hc_output
        do { call = try memory.load(kumo_hc_output.self, at: address) }
        catch { throw HypercallFault("output: argument struct lies outside guest memory") }
        guard let scratchOutput else {
            call.ret = -Int64(EPERM)
            do { try memory.store(call, at: address) } catch { throw HypercallFault("output: result outside guest memory") }
            return .resume
        }
        guard call.kind == KUMO_OUTPUT_FILE.rawValue || call.kind == KUMO_OUTPUT_DIRECTORY.rawValue else {
            throw HypercallFault("output: unknown kind \(call.kind)")
        }
        guard call.path_len < KUMO_SCRATCH_PATH_MAX else { throw HypercallFault("output: a path of \(call.path_len) bytes") }
        let isDirectory = call.kind == KUMO_OUTPUT_DIRECTORY.rawValue
        let path: [UInt8]
        let data: UnsafeRawBufferPointer
        do {
            path = Array(try memory.bytes(at: call.path, length: UInt64(call.path_len)))
            data = isDirectory ? UnsafeRawBufferPointer(start: nil, count: 0)
                               : UnsafeRawBufferPointer(try memory.bytes(at: call.data, length: call.len))
        } catch {
            throw HypercallFault("output: path or data lies outside guest memory")
        }
        call.ret = scratchOutput.keep(path: path, directory: isDirectory, bytes: data)
        do { try memory.store(call, at: address) } catch { throw HypercallFault("output: result outside guest memory") }
        return .resume
    }
}
