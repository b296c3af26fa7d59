import CSandbox
import Foundation
import Synchronization
import Tender

/// One image in a sealed memfd. The node hands its descriptor to each instance
/// started with it (SCM_RIGHTS), so a cold start pushes no image through a pipe,
/// and the seals keep any instance from changing what another one boots.
final class SealedImage: Sendable {
    let descriptor: Int32

    init(bytes: [UInt8], path: String) throws(TenderError) {
        // bytes: read by the kernel during the call only.
        let fd = bytes.withUnsafeBytes { csb_sealed_memfd($0.baseAddress, UInt($0.count)) }
        guard fd >= 0 else { throw .unreadableImage(path: path, reason: "cannot seal it in memory: \(String(cString: strerror(-fd)))") }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The instance's side: the bytes of an image the node sent, refused unless the
    /// descriptor carries the node's seals and fits a frame's limit. They go into
    /// `buffer` (memory touched ahead of time, taken: it is left empty) when it is large enough.
    static func bytes(of fd: Int32, into buffer: inout [UInt8]) throws(FrameIO.Failure) -> [UInt8] {
        let seals = csb_seals(fd)
        guard seals >= 0, seals & CSB_IMAGE_SEALS == CSB_IMAGE_SEALS else {
            throw .malformed("the image descriptor is not a sealed memfd")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0, info.st_size <= FrameIO.maxBlob else {
            throw .malformed("the image descriptor holds \(info.st_size) bytes")
        }
        let count = Int(info.st_size)
        var bytes: [UInt8] = []
        swap(&bytes, &buffer)  // the only reference: trimming it copies nothing
        if bytes.count >= count {
            bytes.removeLast(bytes.count - count)
        } else {
            // Filled by pread below before anyone reads it: no zeroing pass over a large image.
            bytes = [UInt8](unsafeUninitializedCapacity: count) { _, filled in filled = count }
        }
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

/// The node's recent images, sealed (never held by a pooled instance process):
/// each is used only while its file is unchanged (device, inode, size,
/// modification and change times), so an image damaged or replaced on disk is read anew.
final class SealedImageCache: Sendable {
    static let capacity = 8

    private struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: Int64, modifiedNanoseconds: Int, changed: Int64, changedNanoseconds: Int

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec)
            modifiedNanoseconds = info.st_mtim.tv_nsec
            changed = Int64(info.st_ctim.tv_sec)
            changedNanoseconds = info.st_ctim.tv_nsec
        }
    }

    /// Most recently used last.
    private let entries = Mutex<[(path: String, stamp: Stamp, image: SealedImage)]>([])

    /// The paths of the images held now, most recently used last.
    var paths: [String] { entries.withLock { $0.map(\.path) } }

    func image(path: String) throws(TenderError) -> SealedImage {
        let stamp = Stamp(path: path)
        if let stamp, let hit = entries.withLock({ list -> SealedImage? in
            guard let at = list.firstIndex(where: { $0.path == path && $0.stamp == stamp }) else { return nil }
            let entry = list.remove(at: at)
            list.append(entry)
            return entry.image
        }) { return hit }
        let image = try SealedImage(bytes: try Tender.readImageFile(path: path), path: path)
        if let stamp {
            entries.withLock { list in
                list.removeAll { $0.path == path }
                list.append((path, stamp, image))
                if list.count > Self.capacity { list.removeFirst(list.count - Self.capacity) }
            }
        }
        return image
    }
}
