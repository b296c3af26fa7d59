import CSandbox
import Foundation

/// How an image crosses from the node to an instance process: a sealed memfd, sent over a
/// socket the node sets up as descriptor `socket` of the instance (SCM_RIGHTS).
public enum SealedImageDescriptor {
    /// Where `kumo instance` receives its images.
    public static let socket: Int32 = 3

    /// The instance's side: the bytes of the image the node sent, refused unless the
    /// descriptor carries the node's seals and fits a frame's limit.
    public static func bytes(of fd: Int32) throws(FrameIO.Failure) -> [UInt8] {
        let seals = csb_seals(fd)
        guard seals >= 0, seals & CSB_IMAGE_SEALS == CSB_IMAGE_SEALS else {
            throw .malformed("the image descriptor is not a sealed memfd")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0, info.st_size <= FrameIO.maxBlob else {
            throw .malformed("the image descriptor holds \(info.st_size) bytes")
        }
        let count = Int(info.st_size)
        // Filled by pread below before anyone reads it: no zeroing pass over a large image.
        var bytes = [UInt8](unsafeUninitializedCapacity: count) { _, filled in filled = count }
        var failure: FrameIO.Failure?
        bytes.withUnsafeMutableBytes { target in
            var done = 0
            while done < count {
                // target: count bytes, owned by `bytes` for this closure.
                let n = pread(fd, target.baseAddress! + done, count - done, off_t(done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { failure = n < 0 ? .io(errno) : .malformed("the image ended early"); return }
                done += n
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
