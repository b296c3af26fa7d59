import Synchronization

/// A bitstream for Kumo's emulated FPGA: an xclbin whose BITSTREAM section
/// holds the emulation payload (the kernels, compiled ahead for the emulator
/// so that loading skips the compiler), with the sections an FPGA runtime
/// reads: EMBEDDED_METADATA (kernels and arguments), IP_LAYOUT (one compute
/// unit per kernel), MEM_TOPOLOGY, CONNECTIVITY and CLOCK_FREQ_TOPOLOGY.
public struct Bitstream: Sendable {
    public let xclbin: Xclbin
    public let kernels: [KernelSignature]
    /// What the payload was built for; it loads only on an FPGA of the same target.
    public let target: String
    public let payload: [UInt8]

    static let payloadMagic: [UInt8] = Array("KUMOEMU1".utf8)
    static let payloadHeader = 8 + 8 + 8 + 64   // magic, length, checksum, target
    static let kernelClockMHz: UInt16 = 300

    /// Assembles a bitstream from a build's payload and its kernels' signatures.
    public static func assemble(name: String, kernels: [KernelSignature], payload: [UInt8], target: String,
                                globalMemory: UInt64, uuid: [UInt8], timeStamp: UInt64) -> Bitstream {
        var wrapped = payloadMagic + [UInt8](repeating: 0, count: payloadHeader - 8)
        wrapped.put(UInt64(payload.count), at: 8)
        wrapped.put(fnv1a(payload), at: 16)
        wrapped.putString(target, at: 24, field: 64)
        wrapped += payload
        let sections = [
            Xclbin.Section(kind: .bitstream, name: "emulation", data: wrapped),
            Xclbin.Section(kind: .embeddedMetadata, name: "", data: Array(KernelMetadataXML.encode(project: name, target: target, kernels: kernels).utf8)),
            Xclbin.Section(kind: .memTopology, name: "", data: memTopology(globalMemory: globalMemory)),
            Xclbin.Section(kind: .ipLayout, name: "", data: ipLayout(kernels)),
            Xclbin.Section(kind: .connectivity, name: "", data: connectivity(kernels)),
            Xclbin.Section(kind: .clockFreqTopology, name: "", data: clocks()),
        ]
        let xclbin = Xclbin(uuid: uuid, timeStamp: timeStamp, platform: "kumo:emulated:\(target)", sections: sections)
        return Bitstream(xclbin: xclbin, kernels: kernels, target: target, payload: payload)
    }

    private init(xclbin: Xclbin, kernels: [KernelSignature], target: String, payload: [UInt8]) {
        self.xclbin = xclbin
        self.kernels = kernels
        self.target = target
        self.payload = payload
    }

    /// Reads and checks a whole xclbin file: container, payload and metadata.
    public init(bytes: [UInt8]) throws(FPGAError) {
        try self.init(xclbin: try Xclbin(parsing: bytes))
    }

    public init(xclbin: Xclbin) throws(FPGAError) {
        func bad(_ why: String) -> FPGAError { .invalidBinary("xclbin: \(why)") }
        for required in [Xclbin.SectionKind.bitstream, .embeddedMetadata, .ipLayout, .memTopology]
        where xclbin.section(required) == nil {
            throw bad("no \(required.name) section; build bitstreams with `kumo xclbin build`")
        }
        guard xclbin.mode == Xclbin.modeSoftwareEmulation else {
            throw bad("mode \(xclbin.mode) is a hardware bitstream; this FPGA is emulated and needs a sw_emu (5) one")
        }
        let wrapped = xclbin.section(.bitstream)?.data ?? []
        guard wrapped.count >= Self.payloadHeader, Array(wrapped[0..<8]) == Self.payloadMagic else {
            throw bad("the BITSTREAM section holds no Kumo emulation payload (magic KUMOEMU1)")
        }
        let length = wrapped.get(UInt64.self, at: 8)
        guard length == UInt64(wrapped.count - Self.payloadHeader) else {
            throw bad("the BITSTREAM payload says \(length) bytes but holds \(wrapped.count - Self.payloadHeader)")
        }
        let payload = Array(wrapped[Self.payloadHeader...])
        guard Self.fnv1a(payload) == wrapped.get(UInt64.self, at: 16) else {
            throw bad("the BITSTREAM payload's checksum does not match: the file is corrupt")
        }
        let metadata = String(decoding: xclbin.section(.embeddedMetadata)?.data ?? [], as: UTF8.self)
        let kernels = try KernelMetadataXML.decode(metadata)
        let layout = try Self.kernelNames(ipLayout: xclbin.section(.ipLayout)?.data ?? [])
        guard Set(layout) == Set(kernels.map(\.name)) else {
            throw bad("IP_LAYOUT names kernels \(layout.sorted()) but EMBEDDED_METADATA names \(kernels.map(\.name).sorted())")
        }
        self.xclbin = xclbin
        self.kernels = kernels
        self.target = wrapped.string(at: 24, field: 64)
        self.payload = payload
    }

    public func signature(of kernel: String) -> KernelSignature? { kernels.first { $0.name == kernel } }

    /// The xclbins this process checked last, with what they parsed to. An instance reads its
    /// bitstream two or three times (built ahead in a bound process, preloaded at its start,
    /// loaded by its guest), and each full check costs ~180 µs for vadd's. Keyed by every byte.
    private static let recent = Mutex<[(bytes: [UInt8], bitstream: Bitstream)]>([])

    /// `init(bytes:)`, reusing the check of the same bytes if this process made it lately.
    public static func parsed(_ bytes: [UInt8]) throws(FPGAError) -> Bitstream {
        if let known = recent.withLock({ $0.first { $0.bytes == bytes }?.bitstream }) { return known }
        let bitstream = try Bitstream(bytes: bytes)
        recent.withLock { list in
            list.append((bytes, bitstream))
            if list.count > 2 { list.removeFirst() }
        }
        return bitstream
    }

    /// FNV-1a, 64 bits: catches a corrupt payload; bitstreams are not signed here.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100000001b3 }
        return hash
    }

    // MARK: binary sections (layouts as in Xilinx's xclbin.h)

    /// mem_topology: one DDR bank of `globalMemory` bytes.
    static func memTopology(globalMemory: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 8 + 40)
        out.put(Int32(1), at: 0)
        out[8] = 1                                 // MEM_DDR4
        out[9] = 1                                 // used
        out.put(globalMemory / 1024, at: 16)       // KB
        out.put(UInt64(0), at: 24)                 // base address
        out.putString("bank0", at: 32, field: 16)
        return out
    }

    /// ip_layout: one IP_KERNEL compute unit per kernel, named "kernel:kernel_1".
    static func ipLayout(_ kernels: [KernelSignature]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 8 + 80 * kernels.count)
        out.put(Int32(kernels.count), at: 0)
        for (i, k) in kernels.enumerated() {
            let e = 8 + 80 * i
            out.put(UInt32(1), at: e)                          // IP_KERNEL
            out.put(UInt32(0), at: e + 4)                      // AP_CTRL_HS
            out.put(UInt64(0x1_0000 * UInt64(i + 1)), at: e + 8)
            out.putString("\(k.name):\(k.name)_1", at: e + 16, field: 64)
        }
        return out
    }

    static func kernelNames(ipLayout data: [UInt8]) throws(FPGAError) -> [String] {
        guard data.count >= 8 else { throw .invalidBinary("xclbin: IP_LAYOUT is shorter than its count") }
        let count = Int(data.get(Int32.self, at: 0))
        guard count >= 0, count <= 1024, data.count >= 8 + 80 * count else {
            throw .invalidBinary("xclbin: IP_LAYOUT says \(count) entries but holds \(max(0, data.count - 8) / 80)")
        }
        return (0..<count).compactMap { i in
            let e = 8 + 80 * i
            guard data.get(UInt32.self, at: e) == 1 else { return nil }
            let name = data.string(at: e + 16, field: 64)
            return String(name.split(separator: ":").first ?? Substring(name))
        }
    }

    /// connectivity: every buffer argument of every compute unit on bank 0.
    static func connectivity(_ kernels: [KernelSignature]) -> [UInt8] {
        var links: [(Int32, Int32)] = []
        for (ip, k) in kernels.enumerated() {
            for (arg, a) in k.arguments.enumerated() where a.kind == .global || a.kind == .constant {
                links.append((Int32(arg), Int32(ip)))
            }
        }
        var out = [UInt8](repeating: 0, count: 4 + 12 * max(links.count, 1))
        out.put(Int32(links.count), at: 0)
        for (i, link) in links.enumerated() {
            out.put(link.0, at: 4 + 12 * i)
            out.put(link.1, at: 8 + 12 * i)
            out.put(Int32(0), at: 12 + 12 * i)
        }
        return out
    }

    /// clock_freq_topology: the kernel clock.
    static func clocks() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 2 + 136)
        out.put(Int16(1), at: 0)
        out.put(kernelClockMHz, at: 2)
        out[4] = 2                                  // CT_KERNEL
        out.putString("KERNEL_CLK", at: 10, field: 128)
        return out
    }
}
