import Foundation
import KumoSupport
#if canImport(Glibc)
import Glibc
#endif

/// Length-prefixed frames on a pipe: u32 header length, u32 blob length, the
/// header (JSON WorkerMessage), the blob (a body, kept out of the JSON).
public enum FrameIO {
    public static let maxHeader = 1 << 20
    public static let maxBlob = 256 << 20

    public struct Frame: Sendable {
        public var message: WorkerMessage
        public var blob: [UInt8]
    }

    public enum Failure: Error, CustomStringConvertible {
        case closed
        case malformed(String)
        case io(Int32)
        public var description: String {
            switch self {
            case .closed: return "the other end closed the pipe"
            case .malformed(let why): return "malformed frame: \(why)"
            case .io(let e): return "pipe error: \(String(cString: strerror(e)))"
            }
        }
    }

    public static func write(_ message: WorkerMessage, blob: [UInt8] = [], to fd: Int32) throws(Failure) {
        let header: [UInt8]
        if let binary = BinaryMessages.encode(message) {
            header = binary
        } else {
            do { header = [UInt8](try JSONEncoder().encode(message)) } catch { throw .malformed("cannot encode: \(error)") }
        }
        var frame = [UInt8]()
        frame.reserveCapacity(8 + header.count)
        for v in [UInt32(header.count), UInt32(blob.count)] {
            withUnsafeBytes(of: v.littleEndian) { frame += $0 }
        }
        frame += header
        // A large blob (a start's image) goes from where it is, not copied behind the header first.
        if blob.count > 4096 {
            try writeAll(frame, to: fd)
            try writeAll(blob, to: fd)
        } else {
            try writeAll(frame + blob, to: fd)
        }
    }

    public static func read(from fd: Int32) throws(Failure) -> Frame {
        var lengths = [UInt8](repeating: 0, count: 8)
        try readExactly(&lengths, from: fd)
        Trace.mark("frame lengths read")
        let headerCount = Int(lengths.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self) }.littleEndian)
        let blobCount = Int(lengths.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }.littleEndian)
        guard headerCount > 0, headerCount <= maxHeader, blobCount <= maxBlob else {
            throw .malformed("lengths \(headerCount)/\(blobCount) out of range")
        }
        var header = [UInt8](repeating: 0, count: headerCount)
        try readExactly(&header, from: fd)
        var blob: [UInt8] = []
        if blobCount > 0 {
            var failure: Failure?
            // Filled by read before use; no zeroing pass over a large blob.
            blob = [UInt8](unsafeUninitializedCapacity: blobCount) { buffer, count in
                do throws(Failure) { try readExactly(buffer, from: fd) } catch { failure = error }
                count = failure == nil ? blobCount : 0
            }
            if let failure { throw failure }
        }
        if header.first != UInt8(ascii: "{") {
            guard let message = BinaryMessages.decode(header) else { throw .malformed("a binary message that does not decode") }
            return Frame(message: message, blob: blob)
        }
        do {
            return Frame(message: try JSONDecoder().decode(WorkerMessage.self, from: Data(header)), blob: blob)
        } catch { throw .malformed("\(error)") }
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(errno)
            }
            done += n
        }
    }

    static func readExactly(_ buffer: inout [UInt8], from fd: Int32) throws(Failure) {
        try buffer.withUnsafeMutableBufferPointer { bytes throws(Failure) in try readExactly(bytes, from: fd) }
    }

    static func readExactly(_ buffer: UnsafeMutableBufferPointer<UInt8>, from fd: Int32) throws(Failure) {
        var done = 0
        let count = buffer.count
        while done < count {
            // Within the buffer: done < count == buffer.count.
            let n = Glibc.read(fd, buffer.baseAddress! + done, count - done)
            if n == 0 { throw .closed }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(errno)
            }
            done += n
        }
    }
}
