import CKumoABI

/// The Kumo image, in one place for `kumo build`, which writes it, and the tender, which
/// reads it: an x86-64 ELF whose section `.note.kumo` holds notes of owner "KUMO" (the
/// manifest, KUMO_NOTE_MANIFEST, and the function's config, KUMO_NOTE_CONFIG), and whose
/// section `.kumo.files` holds the read-only file tree. The binary layouts are kumo_abi.h's.
public enum ImageFormat {
    public static let noteOwner = "KUMO"
    public static let noteSection = ".note.kumo"
    public static let filesSection = ".kumo.files"
    /// The most the file tree may take.
    public static let maxFileTree: UInt64 = 1 << 30

    /// The devices an image of this kind asks for, in manifest order.
    public static func devices(persistent: Bool, files: Bool, fpga: Bool) -> [ManifestDevice] {
        var devices = [ManifestDevice(name: "console", kind: .console)]
        // run: the request body is stdin; persistent: requests come by hypercall (kumo.h).
        devices.append(persistent ? ManifestDevice(name: "requests", kind: .requests) : ManifestDevice(name: "stdin", kind: .stdin))
        if files { devices.append(ManifestDevice(name: "files", kind: .files)) }
        if fpga { devices.append(ManifestDevice(name: "fpga0", kind: .fpga)) }
        return devices
    }

    /// The file tree as kumo_abi.h lays it out: struct kumo_files_header, the entries, the
    /// paths, then each file's data 16-byte aligned. Nil when it would exceed `maxFileTree`.
    public static func fileTree(_ files: [(destination: String, data: [UInt8], mode: UInt32)]) -> [UInt8]? {
        let headerSize = MemoryLayout<kumo_files_header>.size, entrySize = MemoryLayout<kumo_files_entry>.size
        var out = Array(KUMO_FILES_MAGIC.utf8)
        put32(&out, UInt32(files.count))
        put32(&out, 0)
        let pathsStart = headerSize + entrySize * files.count
        var paths: [UInt8] = []
        for f in files { paths += Array(f.destination.utf8) }
        var dataOffset = UInt64(pathsStart + paths.count + 15) & ~15
        var pathOffset = UInt32(pathsStart)
        for f in files {
            put32(&out, pathOffset)
            put32(&out, UInt32(f.destination.utf8.count))
            put64(&out, dataOffset)
            put64(&out, UInt64(f.data.count))
            put32(&out, f.mode)
            put32(&out, 0)
            pathOffset += UInt32(f.destination.utf8.count)
            dataOffset = (dataOffset + UInt64(f.data.count) + 15) & ~15
        }
        guard dataOffset <= maxFileTree else { return nil }
        out += paths
        for f in files {
            while out.count % 16 != 0 { out.append(0) }
            out += f.data
        }
        return out
    }
}

extension DeviceKind {
    /// Its constant in kumo_abi.h, for the manifest note `kumo build` writes in C.
    public var abiConstant: String {
        switch self {
        case .console: return "KUMO_DEVICE_CONSOLE"
        case .stdin: return "KUMO_DEVICE_STDIN"
        case .files: return "KUMO_DEVICE_FILES"
        case .fpga: return "KUMO_DEVICE_FPGA"
        case .requests: return "KUMO_DEVICE_REQUESTS"
        }
    }
}
