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
}

/// The node's recent images, sealed (held by no pooled instance process but one bound to its function):
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
