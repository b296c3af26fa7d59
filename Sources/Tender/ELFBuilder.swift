import CKumoABI

/// Builds small x86-64 ELF executables byte by byte: the warm-up image, and
/// the tests' images with exactly the malformed field each test names.
struct ELFBuilder {
    var machine: UInt16 = 62
    var type: UInt16 = 2
    var entry: UInt64 = KUMO_IMAGE_BASE
    var segments: [(address: UInt64, size: UInt64, flags: UInt32)] = [(KUMO_IMAGE_BASE, 0x1000, 5)]
    var manifestVersion: UInt32? = UInt32(KUMO_ABI_VERSION)
    var devices: [(String, UInt32)] = [("console", 1)]
    /// Each segment's file bytes; the rest of its memory size is zeros.
    var code = [UInt8](repeating: 0x90, count: 16)

    func bytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let phoff = 64
        var segmentData: [UInt8] = []
        let dataStart = phoff + 56 * segments.count
        var phdrs: [UInt8] = []
        for s in segments {
            put32(&phdrs, 1); put32(&phdrs, s.flags)
            put64(&phdrs, UInt64(dataStart + segmentData.count)); put64(&phdrs, s.address); put64(&phdrs, s.address)
            put64(&phdrs, UInt64(code.count)); put64(&phdrs, max(s.size, UInt64(code.count))); put64(&phdrs, 0x1000)
            segmentData += code
        }
        out += phdrs + segmentData
        // The note section, then the section headers: [null, .note.kumo].
        let noteOffset = out.count
        if let version = manifestVersion {
            var desc: [UInt8] = []
            put32(&desc, version); put32(&desc, UInt32(devices.count))
            for i in 0..<Int(KUMO_MANIFEST_MAX) {
                var name = [UInt8](repeating: 0, count: Int(KUMO_DEVICE_NAME_MAX))
                var kind: UInt32 = 0
                if i < devices.count {
                    for (j, c) in devices[i].0.utf8.prefix(Int(KUMO_DEVICE_NAME_MAX) - 1).enumerated() { name[j] = c }
                    kind = devices[i].1
                }
                desc += name
                put32(&desc, kind)
            }
            put32(&out, 5); put32(&out, UInt32(desc.count)); put32(&out, KUMO_NOTE_MANIFEST)
            out += Array(ImageFormat.noteOwner.utf8) + [0, 0, 0, 0]  // "KUMO\0", padded to 4
            out += desc
        }
        let noteSize = out.count - noteOffset
        while out.count % 8 != 0 { out.append(0) }
        let shoff = out.count
        out += [UInt8](repeating: 0, count: 64)  // SHN_UNDEF
        var note: [UInt8] = []
        put32(&note, 0); put32(&note, 7); put64(&note, 2); put64(&note, 0)
        put64(&note, UInt64(noteOffset)); put64(&note, UInt64(noteSize)); put32(&note, 0); put32(&note, 0)
        put64(&note, 4); put64(&note, 0)
        out += note
        // ELF header.
        var h: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        put16(&h, type); put16(&h, machine); put32(&h, 1); put64(&h, entry)
        put64(&h, UInt64(phoff)); put64(&h, UInt64(shoff)); put32(&h, 0)
        put16(&h, 64); put16(&h, 56); put16(&h, UInt16(segments.count)); put16(&h, 64); put16(&h, 2); put16(&h, 0)
        out.replaceSubrange(0..<64, with: h)
        return out
    }

    private func put16(_ a: inout [UInt8], _ v: UInt16) { for i in 0..<2 { a.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
