import Foundation
import Synchronization
import Tender

/// The bytes of the node's recent images, kept in the node (never in a pooled
/// instance process) so that a cold start does not read the file: each is used
/// only while its file is unchanged (device, inode, size, modification and
/// change times), so an image damaged or replaced on disk is read anew.
final class ImageBytesCache: Sendable {
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
    private let entries = Mutex<[(path: String, stamp: Stamp, bytes: [UInt8])]>([])

    func bytes(path: String) throws(TenderError) -> [UInt8] {
        let stamp = Stamp(path: path)
        if let stamp, let hit = entries.withLock({ list -> [UInt8]? in
            guard let at = list.firstIndex(where: { $0.path == path && $0.stamp == stamp }) else { return nil }
            let entry = list.remove(at: at)
            list.append(entry)
            return entry.bytes
        }) { return hit }
        let bytes = try Tender.readImageFile(path: path)
        if let stamp {
            entries.withLock { list in
                list.removeAll { $0.path == path }
                list.append((path, stamp, bytes))
                if list.count > Self.capacity { list.removeFirst(list.count - Self.capacity) }
            }
        }
        return bytes
    }
}
