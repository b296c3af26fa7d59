import CFDT
import CKumoABI
import KVM

/// What the runtime learns at boot, written as a flattened device tree with libfdt.
struct BootInfo {
    var memorySize: UInt64
    var stackSize: UInt64
    var arguments: [String]
    var environment: [String]
    var entry: UInt64
    var programHeaders: [UInt8]
    var tscKHz: UInt64
    var epochNanoseconds: UInt64
    var monotonicNanoseconds: UInt64
    var random: [UInt8]
    var devices: [ManifestDevice]
    var workingDirectory: String?
    /// The guest hands over its scratch files at exit (kumo,output).
    var exportsScratch = false

    /// Writes the tree at KUMO_BOOTINFO_BASE in guest memory; returns its address.
    /// It is built in a host buffer sized to fit (fdt_create clears the whole
    /// buffer, and every guest page touched costs a fault), then copied.
    func write(into memory: GuestMemory) throws(TenderError) -> UInt64 {
        let payload = arguments.reduce(0) { $0 + $1.utf8.count + 1 } + environment.reduce(0) { $0 + $1.utf8.count + 1 }
            + (workingDirectory?.utf8.count ?? 0) + 1
        let size = min(Int(KUMO_BOOTINFO_MAX), (payload + programHeaders.count + 4096 + 4095) & ~4095)
        let area = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { area.deallocate() }
        // Allocated just above with `size` bytes.
        let fdt = area.baseAddress!
        try build(fdt, size: Int32(size), payload: payload)
        let total = Int(min(cfdt_totalsize(fdt), UInt32(size)))
        let target: UnsafeMutableRawBufferPointer
        do { target = try memory.bytes(at: KUMO_BOOTINFO_BASE, length: UInt64(total)) }
        catch { throw .guestMemory(error) }
        target.copyMemory(from: UnsafeRawBufferPointer(rebasing: area[0..<total]))
        return KUMO_BOOTINFO_BASE
    }

    private func build(_ fdt: UnsafeMutableRawPointer, size: Int32, payload: Int) throws(TenderError) {
        var failed: Int32 = 0
        func check(_ r: Int32) { if r < 0 && failed == 0 { failed = r } }
        func u64(_ name: String, _ value: UInt64) { check(fdt_property_u64(fdt, name, value)) }
        func bytes(_ name: String, _ value: [UInt8]) {
            value.withUnsafeBytes { check(fdt_property(fdt, name, $0.baseAddress, Int32($0.count))) }
        }
        func strings(_ name: String, _ list: [String]) {
            guard !list.isEmpty else { return }
            var packed: [UInt8] = []
            for s in list { packed += Array(s.utf8) + [0] }
            bytes(name, packed)
        }
        check(fdt_create(fdt, size))
        check(fdt_finish_reservemap(fdt))
        check(fdt_begin_node(fdt, ""))
        check(fdt_property_u32(fdt, "#address-cells", 2))
        check(fdt_property_u32(fdt, "#size-cells", 2))
        bytes("compatible", Array("kumo,unikernel\0".utf8))
        check(fdt_begin_node(fdt, "memory@0"))
        bytes("device_type", Array("memory\0".utf8))
        bytes("reg", bigEndian(0) + bigEndian(memorySize))
        check(fdt_end_node(fdt))
        check(fdt_begin_node(fdt, "chosen"))
        u64("kumo,abi-version", UInt64(KUMO_ABI_VERSION))
        u64("kumo,memory-size", memorySize)
        u64("kumo,stack-size", stackSize)
        u64("kumo,entry", entry)
        u64("kumo,tsc-khz", tscKHz)
        u64("kumo,epoch-ns", epochNanoseconds)
        u64("kumo,monotonic-ns", monotonicNanoseconds)
        bytes("kumo,phdrs", programHeaders)
        bytes("kumo,random", random)
        strings("kumo,argv", arguments)
        strings("kumo,env", environment)
        if let workingDirectory { strings("kumo,cwd", [workingDirectory]) }
        if exportsScratch { u64("kumo,output", 1) }
        check(fdt_end_node(fdt))
        check(fdt_begin_node(fdt, "devices"))
        for device in devices {
            check(fdt_begin_node(fdt, device.name))
            check(fdt_property_u32(fdt, "kumo,type", device.kind.rawValue))
            check(fdt_end_node(fdt))
        }
        check(fdt_end_node(fdt))
        check(fdt_end_node(fdt))
        check(fdt_finish(fdt))
        if failed == -FDT_ERR_NOSPACE { throw .bootInfoTooLarge(bytes: payload) }
        guard failed == 0 else { throw .invalidLimits("device tree: \(String(cString: fdt_strerror(failed)))") }
    }

    private func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }
}
