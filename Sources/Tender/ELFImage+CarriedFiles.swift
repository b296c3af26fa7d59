import CKumoABI

/// The host's read of the file tree an image carries (section `.kumo.files`, laid out as
/// `ImageFormat.fileTree` writes it), so the node can act on a carried file before the guest
/// boots: an FPGA function's bitstream is loaded while its instance starts. The image is the
/// tenant's: every offset is checked, and a malformed tree reads as no file.
extension ELFImage {
    /// The bytes of the carried file at `path` (absolute, as the guest opens it), or nil.
    public func carriedFile(_ path: String) -> ArraySlice<UInt8>? {
        let r = ByteReader(bytes: bytes)
        guard let pack = section(named: ImageFormat.filesSection, r), pack.type != 8 else { return nil }
        let headerSize = UInt64(MemoryLayout<kumo_files_header>.size), entrySize = UInt64(MemoryLayout<kumo_files_entry>.size)
        let wanted = Array(path.utf8)
        guard let magic = try? r.slice(pack.offset, 8, "file tree magic"), magic.elementsEqual(KUMO_FILES_MAGIC.utf8),
              let count = try? r.u32(pack.offset + 8, "file count"),
              UInt64(count) <= (pack.size - min(pack.size, headerSize)) / entrySize else { return nil }
        for i in 0..<UInt64(count) {
            let at = pack.offset + headerSize + i * entrySize
            guard let pathOffset = try? r.u32(at, "path offset"), let pathLength = try? r.u32(at + 4, "path length"),
                  UInt64(pathOffset) + UInt64(pathLength) <= pack.size, Int(pathLength) == wanted.count,
                  let name = try? r.slice(pack.offset + UInt64(pathOffset), UInt64(pathLength), "path"),
                  name.elementsEqual(wanted) else { continue }
            guard let dataOffset = try? r.u64(at + 8, "data offset"), let size = try? r.u64(at + 16, "size"),
                  dataOffset <= pack.size, size <= pack.size - dataOffset else { return nil }
            return try? r.slice(pack.offset + dataOffset, size, "carried file")
        }
        return nil
    }

    /// The section of that name, through the section-name string table.
    func section(named name: String, _ r: ByteReader) -> Section? {
        guard let names = sectionNames.map({ sectionTable[$0] }) else { return nil }
        let wanted = Array(name.utf8) + [0]
        return sectionTable.first { s in
            guard UInt64(s.name) + UInt64(wanted.count) <= names.size,
                  let bytes = try? r.slice(names.offset + UInt64(s.name), UInt64(wanted.count), "section name") else { return false }
            return bytes.elementsEqual(wanted)
        }
    }
}
