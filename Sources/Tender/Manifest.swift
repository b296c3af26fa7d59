import CKumoABI

/// A device an image asks for in its manifest.
public enum DeviceKind: UInt32, Sendable, CaseIterable {
    case console = 1
    case stdin = 2
    case files = 3
    case fpga = 4
    /// Persistent mode: requests arrive by hypercall, not one per boot.
    case requests = 5
}

public struct ManifestDevice: Equatable, Sendable {
    public let name: String
    public let kind: DeviceKind
}

/// The image's manifest: the ELF note KUMO / KUMO_NOTE_MANIFEST.
public struct Manifest: Equatable, Sendable {
    public let version: UInt32
    public let devices: [ManifestDevice]

    public func has(_ kind: DeviceKind) -> Bool { devices.contains { $0.kind == kind } }

    static let entrySize = UInt64(MemoryLayout<kumo_manifest_entry>.size)
    static let descriptorSize = UInt64(MemoryLayout<kumo_manifest>.size)

    static func find(in sections: [ELFImage.Section], reader r: ByteReader) throws(TenderError) -> Manifest {
        guard let (at, size) = try kumoNote(type: KUMO_NOTE_MANIFEST, in: sections, reader: r) else {
            throw .missingManifest
        }
        return try parse(r, at: at, size: size)
    }

    /// Offset and size of the descriptor of the KUMO note of `type`, if any.
    static func kumoNote(type wanted: UInt32, in sections: [ELFImage.Section], reader r: ByteReader) throws(TenderError) -> (UInt64, UInt64)? {
        for section in sections where section.type == 7 {  // SHT_NOTE
            var at = section.offset
            let end = section.offset + section.size
            while at + 12 <= end {
                let nameSize = UInt64(try r.u32(at, "note name size"))
                let descSize = UInt64(try r.u32(at + 4, "note descriptor size"))
                let type = try r.u32(at + 8, "note type")
                let nameAt = at + 12
                let descAt = nameAt + ((nameSize + 3) & ~3)
                let next = descAt + ((descSize + 3) & ~3)
                guard nameSize < 256, descSize < 1 << 20, next <= end else {
                    throw .invalidManifest("a note in a note section runs past the section's end")
                }
                let name = try r.slice(nameAt, nameSize, "note name")
                if Array(name) == Array(ImageFormat.noteOwner.utf8) + [0], type == wanted { return (descAt, descSize) }
                at = next
            }
        }
        return nil
    }

    static func parse(_ r: ByteReader, at: UInt64, size: UInt64) throws(TenderError) -> Manifest {
        guard size >= 8 else { throw .invalidManifest("descriptor of \(size) bytes is too short") }
        let version = try r.u32(at, "manifest version")
        guard version == UInt32(KUMO_ABI_VERSION) else {
            throw .unsupportedABI(found: version, supported: UInt32(KUMO_ABI_VERSION))
        }
        guard size == descriptorSize else {
            throw .invalidManifest("descriptor is \(size) bytes, ABI \(version) has \(descriptorSize)")
        }
        let count = try r.u32(at + 4, "manifest count")
        guard count <= UInt32(KUMO_MANIFEST_MAX) else {
            throw .invalidManifest("\(count) devices, at most \(KUMO_MANIFEST_MAX)")
        }
        var devices: [ManifestDevice] = []
        for i in 0..<UInt64(count) {
            let entry = at + 8 + i * entrySize
            guard let name = r.cString(at: entry, limit: UInt64(KUMO_DEVICE_NAME_MAX)), !name.isEmpty else {
                throw .invalidManifest("device \(i) has no NUL-terminated name")
            }
            let raw = try r.u32(entry + UInt64(KUMO_DEVICE_NAME_MAX), "device type")
            guard let kind = DeviceKind(rawValue: raw) else {
                throw .invalidManifest("device \(name) has unknown type \(raw)")
            }
            guard !devices.contains(where: { $0.name == name }) else {
                throw .invalidManifest("device \(name) is named twice")
            }
            devices.append(ManifestDevice(name: name, kind: kind))
        }
        return Manifest(version: version, devices: devices)
    }
}
