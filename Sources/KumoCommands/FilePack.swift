import Functions
import Foundation

/// Packs carried files into the read-only tree format of kumo_abi.h
/// (struct kumo_files_header, then entries, then paths, then data).
enum FilePack {
    static let headerSize = 16, entrySize = 32

    static func pack(_ files: [(destination: String, data: [UInt8], mode: UInt32)]) throws(BuildError) -> [UInt8] {
        var out = Array("KUMOFS01".utf8)
        append32(&out, UInt32(files.count))
        append32(&out, 0)
        let pathsStart = headerSize + entrySize * files.count
        var paths: [UInt8] = []
        for f in files { paths += Array(f.destination.utf8) }
        var dataOffset = UInt64(pathsStart + paths.count + 15) & ~15
        var pathOffset = UInt32(pathsStart)
        for f in files {
            append32(&out, pathOffset)
            append32(&out, UInt32(f.destination.utf8.count))
            append64(&out, dataOffset)
            append64(&out, UInt64(f.data.count))
            append32(&out, f.mode)
            append32(&out, 0)
            pathOffset += UInt32(f.destination.utf8.count)
            dataOffset = (dataOffset + UInt64(f.data.count) + 15) & ~15
        }
        guard dataOffset <= 1 << 30 else { throw .fileTreeTooLarge(bytes: dataOffset) }
        out += paths
        for f in files {
            while out.count % 16 != 0 { out.append(0) }
            out += f.data
        }
        return out
    }

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

    static func append32(_ out: inout [UInt8], _ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    static func append64(_ out: inout [UInt8], _ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
