import CKumoABI

/// A small deterministic mutator (SplitMix64): bit flips, interesting integers,
/// inserted and deleted runs, truncation. Seeds the fixed-budget fuzz tests
/// and the corpora that libFuzzer starts from.
public struct Mutator {
    var state: UInt64

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    public mutating func bytes(count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    static let interesting: [UInt64] = [0, 1, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fff_ffff, 0xffff_ffff,
                                        0x1_0000_0000, UInt64(Int64.max), UInt64.max, UInt64.max - 7]

    public mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var data = seed
        for _ in 0...below(8) {
            guard !data.isEmpty else { data = bytes(count: below(64)); continue }
            let at = below(data.count)
            switch below(6) {
            case 0: data[at] ^= UInt8(1) << UInt8(below(8))
            case 1: data[at] = UInt8(truncatingIfNeeded: next())
            case 2:  // an interesting little-endian integer over 1, 2, 4 or 8 bytes
                let value = Self.interesting[below(Self.interesting.count)]
                let width = [1, 2, 4, 8][below(4)]
                for i in 0..<width where at + i < data.count { data[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            case 3: data.removeSubrange(at..<min(data.count, at + 1 + below(64)))
            case 4: data.insert(contentsOf: bytes(count: 1 + below(32)), at: at)
            default: data = Array(data.prefix(at))
            }
        }
        return data
    }

    /// A guest address: often 8-aligned inside memory, sometimes at its very end, sometimes anywhere.
    public mutating func address(in size: UInt64) -> UInt64 {
        switch below(8) {
        case 0: return next()
        case 1: return size - UInt64(below(64))
        default: return (UInt64(KUMO_IMAGE_BASE) + next() % (size - UInt64(KUMO_IMAGE_BASE) - 4096)) & ~7
        }
    }

    /// 64 bytes of words, each a guest address, a length, an interesting value or noise.
    public mutating func structBytes(memorySize: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<8 {
            let word: UInt64
            switch below(4) {
            case 0: word = address(in: memorySize)
            case 1: word = UInt64(below(1 << 16))
            case 2: word = Self.interesting[below(Self.interesting.count)]
            default: word = next()
            }
            withUnsafeBytes(of: word.littleEndian) { out += $0 }
        }
        return out
    }

    /// Up to 8 commands with real ops and sizes that are multiples of 8 (mostly right, sometimes not).
    public mutating func fpgaBatch(memorySize: UInt64) -> ([UInt8], UInt32) {
        var out: [UInt8] = []
        let count = 1 + below(8)
        for _ in 0..<count {
            let payload = structBytes(memorySize: memorySize).prefix(8 * below(9))
            let nwait = below(4) == 0 ? below(5) : 0
            let size = UInt32(24 + payload.count + (nwait * 4 + 7) / 8 * 8)
            var header: [UInt8] = []
            func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { header += $0 } }
            put(UInt16(below(Int(KUMO_FPGA_OP_COUNT.rawValue) + 2)))
            put(UInt16(below(2)))
            put(below(16) == 0 ? UInt32(truncatingIfNeeded: next()) : size)
            put(UInt32(below(4)))
            put(UInt32(below(8)))
            put(UInt32(nwait))
            put(Int32(0))
            out += header + payload
            for _ in 0..<nwait { withUnsafeBytes(of: UInt32(below(8)).littleEndian) { out += $0 } }
            while out.count % 8 != 0 { out.append(0) }
        }
        return (out, UInt32(count))
    }
}
