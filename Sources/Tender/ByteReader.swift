/// Bounds-checked little-endian reads from an untrusted byte array.
struct ByteReader {
    let bytes: [UInt8]

    func check(_ offset: UInt64, _ length: UInt64, _ what: @autoclosure () -> String) throws(TenderError) -> Int {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(bytes.count) else {
            throw .invalidImage("\(what()) lies outside the file (offset \(offset), \(length) bytes, file \(bytes.count) bytes)")
        }
        return Int(offset)
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: UInt64, _ what: @autoclosure () -> String) throws(TenderError) -> T {
        let start = try check(offset, UInt64(MemoryLayout<T>.size), what())
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[start + i]) << (8 * i) }
        return value
    }

    func u8(_ o: UInt64, _ w: @autoclosure () -> String) throws(TenderError) -> UInt8 { try integer(UInt8.self, at: o, w()) }
    func u16(_ o: UInt64, _ w: @autoclosure () -> String) throws(TenderError) -> UInt16 { try integer(UInt16.self, at: o, w()) }
    func u32(_ o: UInt64, _ w: @autoclosure () -> String) throws(TenderError) -> UInt32 { try integer(UInt32.self, at: o, w()) }
    func u64(_ o: UInt64, _ w: @autoclosure () -> String) throws(TenderError) -> UInt64 { try integer(UInt64.self, at: o, w()) }

    func slice(_ offset: UInt64, _ length: UInt64, _ what: @autoclosure () -> String) throws(TenderError) -> ArraySlice<UInt8> {
        let start = try check(offset, length, what())
        return bytes[start..<(start + Int(length))]
    }

    /// A NUL-terminated string starting at offset (bounded by the array).
    func cString(at offset: UInt64, limit: UInt64) -> String? {
        guard offset < UInt64(bytes.count) else { return nil }
        let end = min(UInt64(bytes.count), offset &+ limit)
        guard let nul = bytes[Int(offset)..<Int(end)].firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[Int(offset)..<nul], as: UTF8.self)
    }
}

/// Appends little-endian integers, as ELF on x86-64 and kumo_abi.h's structs lay them out.
func put32(_ out: inout [UInt8], _ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
func put64(_ out: inout [UInt8], _ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
