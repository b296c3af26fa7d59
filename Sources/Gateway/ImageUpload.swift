import Cluster
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// An image upload streamed to a file in the cache's folder as it arrives,
/// hashed on the way and cut off past the limit: an upload is never held
/// whole in the gateway's memory, however many arrive at once.
struct ImageUpload: Sendable {
    let path: String
    let byteCount: Int
    let hash: String

    /// Reads the body into `directory/upload-UUID.tmp`; refuses past `limit` bytes (413).
    static func receive(_ request: Request, into directory: String, limit: Int) async throws(GatewayError) -> ImageUpload {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw .tooLarge("the image is \(length) bytes; this gateway takes images of at most \(limit) bytes (kumo serve --image-limit)")
        }
        let path = directory + "/upload-\(UUID().uuidString).tmp"
        // O_EXCL: a fresh file of our own; O_CLOEXEC: no instance process inherits it.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .internalError("cannot create an upload file in the image cache: \(String(cString: strerror(errno)))") }
        var hasher = SHA256()
        var count = 0
        do {
            defer { close(fd) }
            for try await chunk in request.body {
                count += chunk.readableBytes
                guard count <= limit else {
                    throw GatewayError.tooLarge("the image is over \(limit) bytes, the most this gateway takes (kumo serve --image-limit)")
                }
                try chunk.withUnsafeReadableBytes { bytes throws(GatewayError) in
                    hasher.update(bufferPointer: bytes)
                    try writeAll(fd, bytes)
                }
            }
        } catch {
            unlink(path)
            if let error = error as? GatewayError { throw error }
            throw .badRequest("the upload ended early: \(error)")
        }
        return ImageUpload(path: path, byteCount: count, hash: Hex.string(hasher.finalize()))
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(GatewayError) {
        var offset = 0
        while offset < bytes.count {
            // Within the buffer: offset < bytes.count.
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .internalError("cannot write the upload to disk: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Removes the temporary file (a no-op once the cache has moved it into place).
    func discard() { unlink(path) }
}
