import Functions
import Foundation

/// The files a function carries, read from its directory (`ImageFormat.fileTree` packs them).
enum CarriedFiles {
    /// Reads the spec's files from disk (a directory carries everything under it).
    static func collect(_ files: [CarriedFile], directory: String) throws(BuildError) -> [(destination: String, data: [UInt8], mode: UInt32)] {
        var out: [(destination: String, data: [UInt8], mode: UInt32)] = []
        let fm = FileManager.default
        for file in files {
            let full = (directory as NSString).appendingPathComponent(file.source)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { throw .fileUnreadable(full) }
            var items: [(String, String)] = []
            if isDirectory.boolValue {
                let children = (fm.enumerator(atPath: full)?.allObjects as? [String] ?? []).sorted()
                for child in children {
                    var childIsDir: ObjCBool = false
                    let path = (full as NSString).appendingPathComponent(child)
                    if fm.fileExists(atPath: path, isDirectory: &childIsDir), !childIsDir.boolValue {
                        items.append((path, file.destination + "/" + child))
                    }
                }
            } else {
                items.append((full, file.destination))
            }
            for (path, destination) in items {
                guard let data = fm.contents(atPath: path) else { throw .fileUnreadable(path) }
                let attributes = try? fm.attributesOfItem(atPath: path)
                let mode = (attributes?[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o444
                out.removeAll { $0.destination == destination }
                out.append((destination, [UInt8](data), mode))
            }
        }
        return out
    }
}
