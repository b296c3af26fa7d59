import CKumoABI

/// A 4 KiB image made in memory that only calls exit(0). A pre-started
/// instance process boots it once while it waits, so that the first real
/// boot finds its code paths, its heap and a guest memory region already
/// faulted in (each host page fault is costly on kvm-pvm).
enum WarmupImage {
    static func bytes() -> [UInt8] {
        let exitCall = KUMO_IMAGE_BASE + 0x800  // a zeroed kumo_hc_exit: status 0
        var code: [UInt8] = [0x48, 0xBB] + le(KUMO_HC_ADDR_EXIT)  // movabs $doorbell+8*EXIT, %rbx
        code += [0x48, 0xB8] + le(exitCall)                        // movabs $call, %rax
        code += [0x48, 0x89, 0x03, 0x0F, 0x0B]                     // mov %rax, (%rbx); ud2
        var segment = code + [UInt8](repeating: 0, count: 0x1000 - code.count)
        segment.replaceSubrange(0x800..<0x800 + 24, with: [UInt8](repeating: 0, count: 24))

        let phoff = 64, dataOffset = 0x1000
        var out = [UInt8](repeating: 0, count: dataOffset)
        // Program header: one PT_LOAD, read + execute.
        var ph: [UInt8] = []
        put(&ph, UInt32(1), 4); put(&ph, UInt32(5), 4)
        put(&ph, UInt64(dataOffset), 8); put(&ph, KUMO_IMAGE_BASE, 8); put(&ph, KUMO_IMAGE_BASE, 8)
        put(&ph, UInt64(segment.count), 8); put(&ph, UInt64(segment.count), 8); put(&ph, UInt64(0x1000), 8)
        out.replaceSubrange(phoff..<phoff + ph.count, with: ph)
        out += segment
        // The manifest note (a console only), then section headers [null, .note.kumo].
        let noteOffset = out.count
        var desc: [UInt8] = []
        put(&desc, UInt32(KUMO_ABI_VERSION), 4); put(&desc, UInt32(1), 4)
        for i in 0..<Int(KUMO_MANIFEST_MAX) {
            var name = [UInt8](repeating: 0, count: Int(KUMO_DEVICE_NAME_MAX))
            if i == 0 { name.replaceSubrange(0..<7, with: Array("console".utf8)) }
            desc += name
            put(&desc, UInt32(i == 0 ? 1 : 0), 4)
        }
        put(&out, UInt32(5), 4); put(&out, UInt32(desc.count), 4); put(&out, KUMO_NOTE_MANIFEST, 4)
        out += Array("KUMO\0\0\0\0".utf8) + desc
        let noteSize = out.count - noteOffset
        while out.count % 8 != 0 { out.append(0) }
        let shoff = out.count
        out += [UInt8](repeating: 0, count: 64)
        var sh: [UInt8] = []
        put(&sh, UInt32(0), 4); put(&sh, UInt32(7), 4); put(&sh, UInt64(2), 8); put(&sh, UInt64(0), 8)
        put(&sh, UInt64(noteOffset), 8); put(&sh, UInt64(noteSize), 8); put(&sh, UInt32(0), 4); put(&sh, UInt32(0), 4)
        put(&sh, UInt64(4), 8); put(&sh, UInt64(0), 8)
        out += sh
        // ELF header: 64-bit, little-endian, executable, x86-64.
        var h: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        put(&h, UInt16(2), 2); put(&h, UInt16(62), 2); put(&h, UInt32(1), 4); put(&h, KUMO_IMAGE_BASE, 8)
        put(&h, UInt64(phoff), 8); put(&h, UInt64(shoff), 8); put(&h, UInt32(0), 4)
        put(&h, UInt16(64), 2); put(&h, UInt16(56), 2); put(&h, UInt16(1), 2); put(&h, UInt16(64), 2)
        put(&h, UInt16(2), 2); put(&h, UInt16(0), 2)
        out.replaceSubrange(0..<64, with: h)
        return out
    }

    static let KUMO_HC_ADDR_EXIT = KUMO_DOORBELL_BASE + 8 * UInt64(KUMO_HC_EXIT.rawValue)

    private static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    private static func put<T: FixedWidthInteger>(_ a: inout [UInt8], _ v: T, _ size: Int) {
        for i in 0..<size { a.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}
