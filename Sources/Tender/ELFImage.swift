import CKumoABI

/// A PT_LOAD segment after validation.
public struct LoadSegment: Equatable, Sendable {
    public let fileOffset: UInt64
    public let address: UInt64
    public let fileSize: UInt64
    public let memorySize: UInt64
    public let executable: Bool
}

/// A function symbol, for naming the function a guest crashed in.
public struct FunctionSymbol: Equatable, Sendable {
    public let name: String
    public let address: UInt64
    public let size: UInt64
}

/// A static x86-64 ELF executable, every header field checked. Placement in
/// guest memory is checked separately (`validatePlacement`), since it depends
/// on the memory size the function asks for.
public struct ELFImage: Sendable {
    public let bytes: [UInt8]
    public let entry: UInt64
    public let segments: [LoadSegment]
    /// The raw program header table, handed to musl as AT_PHDR.
    public let programHeaders: [UInt8]
    public let manifest: Manifest
    /// Function symbols, parsed on demand: only a crash report needs them, and
    /// building thousands of names would slow every cold start.
    public var symbols: [FunctionSymbol] {
        Self.symbols(ByteReader(bytes: bytes), sections: sectionTable).filter { $0.isFunction }
            .map { FunctionSymbol(name: $0.name, address: $0.address, size: $0.size) }
    }
    let sectionTable: [Section]
    /// The index of the section-name string table (nil: the image has none).
    let sectionNames: Int?
    /// Addresses and sizes of the runtime's stdout buffer and fill count, when
    /// the image has symbols: stdout not yet flushed is salvaged from them after
    /// a crash or a timeout. Found on demand, like `symbols`: scanning the symbol
    /// table cost every cold start tens of microseconds.
    public var stdoutBuffer: (address: UInt64, size: UInt64, usedAddress: UInt64)? {
        let data = Self.dataSymbols(ByteReader(bytes: bytes), sections: sectionTable,
                                    named: ["kumo_stdout_buffer", "kumo_stdout_used"])
        guard let buffer = data["kumo_stdout_buffer"], let used = data["kumo_stdout_used"], used.size == 8 else { return nil }
        return (buffer.address, buffer.size, used.address)
    }
    /// The descriptor of the KUMO note of type KUMO_NOTE_CONFIG: the function's
    /// defaults (limits, args, env) as `kumo build` recorded them, if present.
    public let configNote: [UInt8]?

    static let programHeaderSize: UInt64 = 56
    static let sectionHeaderSize: UInt64 = 64

    public init(bytes: [UInt8]) throws(TenderError) {
        self.bytes = bytes
        let r = ByteReader(bytes: bytes)
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw .invalidImage("not an ELF file (bad magic)")
        }
        guard bytes[4] == 2 else { throw .invalidImage("not a 64-bit ELF (class \(bytes[4]))") }
        guard bytes[5] == 1 else { throw .invalidImage("not little-endian (data encoding \(bytes[5]))") }
        guard bytes[6] == 1 else { throw .invalidImage("unknown ELF version \(bytes[6])") }
        let type = try r.u16(16, "e_type")
        guard type == 2 else {
            throw .invalidImage(type == 3 ? "position-independent (ET_DYN); link it static and non-PIE"
                                          : "ELF type \(type) is not an executable (ET_EXEC)")
        }
        let machine = try r.u16(18, "e_machine")
        guard machine == 62 else { throw .invalidImage("wrong machine \(machine): Kumo boots x86-64 (62) images") }
        entry = try r.u64(24, "e_entry")
        let phoff = try r.u64(32, "e_phoff")
        let shoff = try r.u64(40, "e_shoff")
        let phentsize = try r.u16(54, "e_phentsize")
        let phnum = try r.u16(56, "e_phnum")
        let shentsize = try r.u16(58, "e_shentsize")
        let shnum = try r.u16(60, "e_shnum")
        guard phnum > 0, UInt64(phentsize) == Self.programHeaderSize else {
            throw .invalidImage("no program headers, or a program header size of \(phentsize) instead of 56")
        }
        let table = try r.slice(phoff, UInt64(phnum) * Self.programHeaderSize, "program header table")
        programHeaders = Array(table)

        var loads: [LoadSegment] = []
        for i in 0..<UInt64(phnum) {
            let at = phoff + i * Self.programHeaderSize
            let ptype = try r.u32(at, "program header \(i)")
            switch ptype {
            case 1:  // PT_LOAD
                let flags = try r.u32(at + 4, "p_flags")
                let segment = LoadSegment(
                    fileOffset: try r.u64(at + 8, "p_offset"), address: try r.u64(at + 16, "p_vaddr"),
                    fileSize: try r.u64(at + 32, "p_filesz"), memorySize: try r.u64(at + 40, "p_memsz"),
                    executable: flags & 1 != 0)
                guard segment.fileSize <= segment.memorySize else {
                    throw .invalidImage("segment \(i) has more file bytes (\(segment.fileSize)) than memory bytes (\(segment.memorySize))")
                }
                _ = try r.check(segment.fileOffset, segment.fileSize, "segment \(i)'s data")
                let (_, overflow) = segment.address.addingReportingOverflow(segment.memorySize)
                guard !overflow else { throw .invalidImage("segment \(i) wraps around the address space") }
                loads.append(segment)
            case 2: throw .invalidImage("dynamically linked (PT_DYNAMIC); Kumo images are static")
            case 3: throw .invalidImage("asks for an interpreter (PT_INTERP); Kumo images are static")
            default: continue
            }
        }
        guard !loads.isEmpty else { throw .invalidImage("no loadable segment") }
        loads.sort { $0.address < $1.address }
        for (a, b) in zip(loads, loads.dropFirst()) where a.address + a.memorySize > b.address {
            throw .invalidImage("segments at 0x\(String(a.address, radix: 16)) and 0x\(String(b.address, radix: 16)) overlap")
        }
        let entryPoint = entry
        guard loads.contains(where: { $0.executable && entryPoint >= $0.address && entryPoint < $0.address + $0.memorySize }) else {
            throw .invalidImage("entry point 0x\(String(entry, radix: 16)) is not inside an executable segment")
        }
        segments = loads

        let sections = try Self.sections(r, shoff: shoff, shentsize: shentsize, shnum: shnum)
        manifest = try Manifest.find(in: sections, reader: r)
        if let (at, size) = try Manifest.kumoNote(type: KUMO_NOTE_CONFIG, in: sections, reader: r) {
            configNote = Array(try r.slice(at, size, "config note"))
        } else {
            configNote = nil
        }
        sectionTable = sections
        let namesIndex = Int(try r.u16(62, "e_shstrndx"))
        sectionNames = sections.indices.contains(namesIndex) ? namesIndex : nil
    }

    /// Checks that every segment fits the guest's memory above the boot area.
    public func validatePlacement(memorySize: UInt64, stackSize: UInt64) throws(TenderError) {
        let limit = memorySize - stackSize
        for s in segments {
            guard s.address >= KUMO_IMAGE_BASE, s.address + s.memorySize <= limit else {
                let end = String(s.address + s.memorySize, radix: 16)
                throw .invalidImage("segment 0x\(String(s.address, radix: 16))..0x\(end) lies outside guest memory "
                    + "usable for the image (0x\(String(KUMO_IMAGE_BASE, radix: 16))..0x\(String(limit, radix: 16)));"
                    + " raise `memory` or shrink the image")
            }
        }
    }

    /// The function containing `address`, if the image has symbols.
    public func symbol(containing address: UInt64) -> String? {
        let candidates = symbols.filter { $0.address <= address && ($0.size == 0 || address < $0.address + $0.size) }
        guard let best = candidates.max(by: { $0.address < $1.address }) else { return nil }
        return address == best.address ? best.name : "\(best.name)+0x\(String(address - best.address, radix: 16))"
    }

    struct Section {
        /// sh_name: the name's offset in the section-name string table.
        let name: UInt32
        let type: UInt32
        let offset: UInt64
        let size: UInt64
        let link: UInt32
        let entrySize: UInt64
    }

    static func sections(_ r: ByteReader, shoff: UInt64, shentsize: UInt16, shnum: UInt16) throws(TenderError) -> [Section] {
        guard shnum > 0 else { return [] }
        guard UInt64(shentsize) == sectionHeaderSize else {
            throw .invalidImage("section header size \(shentsize) instead of 64")
        }
        _ = try r.check(shoff, UInt64(shnum) * sectionHeaderSize, "section header table")
        var result: [Section] = []
        for i in 0..<UInt64(shnum) {
            let at = shoff + i * sectionHeaderSize
            let s = Section(name: try r.u32(at, "sh_name"), type: try r.u32(at + 4, "sh_type"), offset: try r.u64(at + 24, "sh_offset"),
                            size: try r.u64(at + 32, "sh_size"), link: try r.u32(at + 40, "sh_link"),
                            entrySize: try r.u64(at + 56, "sh_entsize"))
            if s.type != 8 { _ = try r.check(s.offset, s.size, "section \(i)") }  // SHT_NOBITS has no bytes
            result.append(s)
        }
        return result
    }

    struct Symbol {
        let name: String
        let address: UInt64
        let size: UInt64
        let isFunction: Bool
    }

    /// The data (STT_OBJECT) symbols with these names, compared as bytes.
    static func dataSymbols(_ r: ByteReader, sections: [Section], named names: [String]) -> [String: Symbol] {
        guard let symtab = sections.first(where: { $0.type == 2 }), symtab.entrySize == 24,
              Int(symtab.link) < sections.count else { return [:] }
        let strtab = sections[Int(symtab.link)]
        let wanted = names.map { Array($0.utf8) + [0] }
        var found: [String: Symbol] = [:]
        for i in 0..<(symtab.size / 24) where found.count < names.count {
            let at = symtab.offset + i * 24
            guard let nameOffset = try? r.u32(at, "st_name"), let info = try? r.u8(at + 4, "st_info"), info & 0xf == 1,
                  UInt64(nameOffset) < strtab.size else { continue }
            let start = strtab.offset + UInt64(nameOffset)
            // Most names differ in their first byte: test it before slicing.
            guard start < UInt64(r.bytes.count), wanted.contains(where: { $0[0] == r.bytes[Int(start)] }) else { continue }
            for (k, name) in wanted.enumerated() where found[names[k]] == nil {
                guard let bytes = try? r.slice(start, UInt64(name.count), "name"), bytes.elementsEqual(name),
                      let value = try? r.u64(at + 8, "st_value"), let size = try? r.u64(at + 16, "st_size") else { continue }
                found[names[k]] = Symbol(name: names[k], address: value, size: size, isFunction: false)
            }
        }
        return found
    }

    /// Function (STT_FUNC) and data (STT_OBJECT) symbols from .symtab; an image
    /// without symbols simply has none.
    static func symbols(_ r: ByteReader, sections: [Section]) -> [Symbol] {
        guard let symtab = sections.first(where: { $0.type == 2 }), symtab.entrySize == 24,
              Int(symtab.link) < sections.count else { return [] }
        let strtab = sections[Int(symtab.link)]
        var result: [Symbol] = []
        for i in 0..<(symtab.size / 24) {
            let at = symtab.offset + i * 24
            guard let nameOffset = try? r.u32(at, "st_name"), let info = try? r.u8(at + 4, "st_info"),
                  info & 0xf == 1 || info & 0xf == 2,
                  let value = try? r.u64(at + 8, "st_value"), let size = try? r.u64(at + 16, "st_size"),
                  UInt64(nameOffset) < strtab.size,
                  let name = r.cString(at: strtab.offset + UInt64(nameOffset), limit: strtab.size - UInt64(nameOffset))
            else { continue }
            result.append(Symbol(name: name, address: value, size: size, isFunction: info & 0xf == 2))
        }
        return result
    }
}
