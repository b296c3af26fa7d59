/// An xclbin (axlf) container, as Xilinx's runtime reads it: the magic
/// "xclbin2", a 152-byte header after the signature block, section headers,
/// then the sections, each 8-byte aligned. Parsing checks every offset and
/// length against the file before use, so a corrupt or truncated file is an
/// error that says what is wrong, never a crash.
public struct Xclbin: Sendable, Equatable {
    public enum SectionKind: UInt32, Sendable, CaseIterable {
        case bitstream = 0, clearingBitstream = 1, embeddedMetadata = 2, firmware = 3, debugData = 4
        case schedFirmware = 5, memTopology = 6, connectivity = 7, ipLayout = 8, debugIPLayout = 9
        case designCheckPoint = 10, clockFreqTopology = 11, mcs = 12, bmc = 13, buildMetadata = 14
        case keyValueMetadata = 15, userMetadata = 16, dnaCertificate = 17, pdi = 18
        case bitstreamPartialPDI = 19, partitionMetadata = 20, emulationData = 21, systemMetadata = 22

        public var name: String {
            switch self {
            case .bitstream: "BITSTREAM"
            case .clearingBitstream: "CLEARING_BITSTREAM"
            case .embeddedMetadata: "EMBEDDED_METADATA"
            case .firmware: "FIRMWARE"
            case .debugData: "DEBUG_DATA"
            case .schedFirmware: "SCHED_FIRMWARE"
            case .memTopology: "MEM_TOPOLOGY"
            case .connectivity: "CONNECTIVITY"
            case .ipLayout: "IP_LAYOUT"
            case .debugIPLayout: "DEBUG_IP_LAYOUT"
            case .designCheckPoint: "DESIGN_CHECK_POINT"
            case .clockFreqTopology: "CLOCK_FREQ_TOPOLOGY"
            case .mcs: "MCS"
            case .bmc: "BMC"
            case .buildMetadata: "BUILD_METADATA"
            case .keyValueMetadata: "KEYVALUE_METADATA"
            case .userMetadata: "USER_METADATA"
            case .dnaCertificate: "DNA_CERTIFICATE"
            case .pdi: "PDI"
            case .bitstreamPartialPDI: "BITSTREAM_PARTIAL_PDI"
            case .partitionMetadata: "PARTITION_METADATA"
            case .emulationData: "EMULATION_DATA"
            case .systemMetadata: "SYSTEM_METADATA"
            }
        }
    }

    public struct Section: Sendable, Equatable {
        public var kind: UInt32
        public var name: String
        public var data: [UInt8]
        public init(kind: SectionKind, name: String, data: [UInt8]) {
            self.kind = kind.rawValue
            self.name = name
            self.data = data
        }
        init(rawKind: UInt32, name: String, data: [UInt8]) {
            self.kind = rawKind
            self.name = name
            self.data = data
        }
    }

    public static let magic: [UInt8] = Array("xclbin2".utf8) + [0]
    static let headerOffset = 304          // magic, signature length, reserved, key block, unique id
    static let sectionTableOffset = 456    // + the 152-byte axlf_header
    static let sectionHeaderSize = 40
    static let maxSections = 64
    /// XCLBIN_SW_EMU: the payload is for an emulator, not for a card.
    static let modeSoftwareEmulation: UInt16 = 5

    public var uuid: [UInt8]
    public var timeStamp: UInt64
    public var platform: String
    public var mode: UInt16
    public var version: (major: UInt8, minor: UInt8, patch: UInt16) { (2, 1, 0) }
    public var sections: [Section]

    public init(uuid: [UInt8], timeStamp: UInt64, platform: String, sections: [Section]) {
        self.uuid = uuid
        self.timeStamp = timeStamp
        self.platform = platform
        self.mode = Self.modeSoftwareEmulation
        self.sections = sections
    }

    public static func == (a: Xclbin, b: Xclbin) -> Bool {
        a.uuid == b.uuid && a.timeStamp == b.timeStamp && a.platform == b.platform && a.mode == b.mode
            && a.sections == b.sections
    }

    public func section(_ kind: SectionKind) -> Section? { sections.first { $0.kind == kind.rawValue } }

    public var uuidString: String {
        let hex = uuid.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        guard hex.count == 32 else { return hex }
        let c = Array(hex)
        return [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }.joined(separator: "-")
    }

    // MARK: writing

    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.sectionTableOffset + Self.sectionHeaderSize * sections.count)
        out.replaceSubrange(0..<8, with: Self.magic)
        out.put(UInt32(bitPattern: -1), at: 8)                   // no signature
        for i in 12..<40 { out[i] = 0xFF }                      // reserved, as xclbinutil leaves it
        out.put(UInt64(timeStamp), at: 296)                     // unique id
        var offsets: [UInt64] = []
        for section in sections {
            while out.count % 8 != 0 { out.append(0) }
            offsets.append(UInt64(out.count))
            out.append(contentsOf: section.data)
        }
        while out.count % 8 != 0 { out.append(0) }
        let h = Self.headerOffset
        out.put(UInt64(out.count), at: h)
        out.put(timeStamp, at: h + 8)
        out.put(UInt16(version.patch), at: h + 24)
        out[h + 26] = version.major
        out[h + 27] = version.minor
        out.put(mode, at: h + 28)
        out.putString(platform, at: h + 48, field: 64)
        out.replaceSubrange((h + 112)..<(h + 128), with: uuid.prefix(16) + [UInt8](repeating: 0, count: max(0, 16 - uuid.count)))
        out.put(UInt32(sections.count), at: h + 144)
        for (i, section) in sections.enumerated() {
            let s = Self.sectionTableOffset + i * Self.sectionHeaderSize
            out.put(section.kind, at: s)
            out.putString(section.name, at: s + 4, field: 16)
            out.put(offsets[i], at: s + 24)
            out.put(UInt64(section.data.count), at: s + 32)
        }
        return out
    }

    // MARK: reading

    public init(parsing bytes: [UInt8]) throws(FPGAError) {
        func bad(_ why: String) -> FPGAError { .invalidBinary("xclbin: \(why)") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == Self.magic else {
            throw bad("no xclbin2 magic at the start: not an xclbin, or an older format (xclbin0/1)")
        }
        guard bytes.count >= Self.sectionTableOffset else {
            throw bad("truncated: \(bytes.count) bytes, but the axlf header alone takes \(Self.sectionTableOffset)")
        }
        let h = Self.headerOffset
        let length = bytes.get(UInt64.self, at: h)
        guard length == UInt64(bytes.count) else {
            throw length > UInt64(bytes.count)
                ? bad("truncated: the header says \(length) bytes, the file has \(bytes.count)")
                : bad("the header says \(length) bytes, but \(bytes.count) were given")
        }
        let count = Int(bytes.get(UInt32.self, at: h + 144))
        guard count >= 1, count <= Self.maxSections else {
            throw bad("\(count) sections; a bitstream has between 1 and \(Self.maxSections)")
        }
        let tableEnd = Self.sectionTableOffset + count * Self.sectionHeaderSize
        guard tableEnd <= bytes.count else { throw bad("truncated: the section table runs past the end of the file") }
        var sections: [Section] = []
        for i in 0..<count {
            let s = Self.sectionTableOffset + i * Self.sectionHeaderSize
            let kind = bytes.get(UInt32.self, at: s)
            let name = bytes.string(at: s + 4, field: 16)
            let offset = bytes.get(UInt64.self, at: s + 24)
            let size = bytes.get(UInt64.self, at: s + 32)
            let label = SectionKind(rawValue: kind)?.name ?? "kind \(kind)"
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, offset >= UInt64(tableEnd), end <= length else {
                throw bad("section \(i) (\(label)) claims bytes \(offset)..<\(offset &+ size), outside the file's \(tableEnd)..<\(length)")
            }
            sections.append(Section(rawKind: kind, name: name, data: Array(bytes[Int(offset)..<Int(end)])))
        }
        self.uuid = Array(bytes[(h + 112)..<(h + 128)])
        self.timeStamp = bytes.get(UInt64.self, at: h + 8)
        self.platform = bytes.string(at: h + 48, field: 64)
        self.mode = bytes.get(UInt16.self, at: h + 28)
        self.sections = sections
    }
}

extension [UInt8] {
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, b) in raw.enumerated() { self[offset + i] = b }
        }
    }

    mutating func putString(_ s: String, at offset: Int, field: Int) {
        for (i, b) in s.utf8.prefix(field - 1).enumerated() { self[offset + i] = b }
    }

    /// Callers check `offset + size` against `count` first.
    func get<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(self[offset + i]) << (8 * i) }
        return value
    }

    func string(at offset: Int, field: Int) -> String {
        let raw = self[offset..<Swift.min(offset + field, count)]
        return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
