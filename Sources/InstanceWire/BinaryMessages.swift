import Accelerator
import Functions

/// A compact encoding for the messages on a request's path (invoke, result,
/// and a cold start's start): JSON costs ~25 µs per encode and decode warm,
/// and a few hundred µs in a process that has been idle; this ~1 µs. The
/// first header byte tells them apart from JSON, which always starts with '{'.
package enum BinaryMessages {
    static let invokeTag: UInt8 = 1
    static let resultTag: UInt8 = 2
    static let startTag: UInt8 = 3

    package static func encode(_ message: WorkerMessage) -> [UInt8]? {
        var out: [UInt8] = []
        switch message {
        case .invoke(let r):
            out.append(invokeTag)
            put(&out, r.id)
            put(&out, r.timeoutSeconds.bitPattern)
            put(&out, UInt32(r.environment.count))
            for s in r.environment { putString(&out, s) }
        case .result(let r):
            out.append(resultTag)
            put(&out, r.id)
            out.append(statusCodes.firstIndex(of: r.status).map(UInt8.init) ?? 0)
            put(&out, UInt32(bitPattern: r.code))
            put(&out, r.nanoseconds)
            put(&out, r.cpuNanoseconds)
            out.append(r.instanceEnded ? 1 : 0)
            putString(&out, r.detail)
            putString(&out, r.stderr)
        case .start(let start):
            out.append(startTag)
            putString(&out, start.function)
            putConfig(&out, start.config)
            out.append(start.stopsAfterRequest ? 1 : 0)
            out.append(start.fpga == nil ? 0 : 1)
            if let grant = start.fpga {
                putString(&out, grant.card)
                put(&out, UInt64(bitPattern: grant.reconfigureNanoseconds))
                putOptional(&out, grant.loadedBitstream)
                putOptional(&out, grant.pciCard)
            }
        default:
            return nil
        }
        return out
    }

    /// The config's fields an instance uses; the node's own (bitstream, idempotent, scaling) stay behind.
    private static func putConfig(_ out: inout [UInt8], _ c: ImageConfig) {
        putString(&out, c.name)
        put(&out, c.memory)
        put(&out, c.timeoutSeconds.bitPattern)
        put(&out, c.outputLimit)
        putStrings(&out, c.args)
        let keys = c.env.keys.sorted()
        putStrings(&out, keys)
        putStrings(&out, keys.map { c.env[$0] ?? "" })
        putString(&out, c.accelerator.rawValue)
        putString(&out, c.mode.rawValue)
        putOptional(&out, c.workdir)
        out.append(c.fpga == nil ? 0 : 1)
        if let f = c.fpga {
            putStrings(&out, [f.platformName, f.platformVendor, f.deviceName, f.deviceVendor, f.deviceType.rawValue])
            put(&out, f.globalMemory)
            put(&out, f.computeUnits)
        }
    }

    private static func readConfig(_ r: inout Reader) -> ImageConfig? {
        guard let name = r.string() else { return nil }
        var c = ImageConfig(spec: FunctionSpec(name: name, sources: []))
        guard let memory = r.u64(), let timeout = r.u64(), let outputLimit = r.u64(), let args = r.strings(),
              let keys = r.strings(), let values = r.strings(), keys.count == values.count,
              let accelerator = r.string().flatMap(Functions.Accelerator.init(rawValue:)),
              let mode = r.string().flatMap(InvocationMode.init(rawValue:)), let workdir = r.optional(),
              let hasFPGA = r.u8() else { return nil }
        c.memory = memory
        c.timeoutSeconds = Double(bitPattern: timeout)
        c.outputLimit = outputLimit
        c.args = args
        c.env = Dictionary(zip(keys, values), uniquingKeysWith: { a, _ in a })
        c.accelerator = accelerator
        c.mode = mode
        c.workdir = workdir
        c.fpga = nil
        if hasFPGA == 1 {
            guard let names = r.strings(), names.count == 5,
                  let type = FPGAIdentity.DeviceType(rawValue: names[4]),
                  let memory = r.u64(), let units = r.u32() else { return nil }
            var f = FPGAIdentity()
            f.platformName = names[0]
            f.platformVendor = names[1]
            f.deviceName = names[2]
            f.deviceVendor = names[3]
            f.deviceType = type
            f.globalMemory = memory
            f.computeUnits = units
            c.fpga = f
        }
        return c
    }

    static let statusCodes: [InvocationStatus] = [.succeeded, .failed, .timedOut, .bootFailed]

    /// nil: not a binary message (or a malformed one, which the caller reports).
    package static func decode(_ bytes: [UInt8]) -> WorkerMessage? {
        var reader = Reader(bytes: bytes, at: 1)
        switch bytes.first {
        case invokeTag:
            guard let id = reader.u64(), let timeout = reader.u64(), let count = reader.u32(), count <= 1 << 16 else { return nil }
            var env: [String] = []
            for _ in 0..<count {
                guard let s = reader.string() else { return nil }
                env.append(s)
            }
            return .invoke(InvokeRequest(id: id, environment: env, timeoutSeconds: Double(bitPattern: timeout)))
        case resultTag:
            guard let id = reader.u64(), let status = reader.u8(), Int(status) < statusCodes.count,
                  let code = reader.u32(), let nanoseconds = reader.u64(), let cpu = reader.u64(), let ended = reader.u8(),
                  let detail = reader.string(), let stderr = reader.string() else { return nil }
            return .result(InvokeResult(id: id, status: statusCodes[Int(status)], code: Int32(bitPattern: code),
                                        detail: detail, stderr: stderr, nanoseconds: nanoseconds, instanceEnded: ended != 0,
                                        cpuNanoseconds: cpu))
        case startTag:
            guard let function = reader.string(), let config = readConfig(&reader),
                  let oneRequest = reader.u8(), let hasGrant = reader.u8() else { return nil }
            var grant: FPGAGrantInfo?
            if hasGrant == 1 {
                guard let card = reader.string(), let cost = reader.u64(), let held = reader.optional(),
                      let pci = reader.optional() else { return nil }
                grant = FPGAGrantInfo(card: card, reconfigureNanoseconds: Int64(bitPattern: cost), loadedBitstream: held, pciCard: pci)
            }
            return .start(StartInstance(function: function, config: config, fpga: grant,
                                        stopsAfterRequest: oneRequest == 1))
        default:
            return nil
        }
    }

    private static func putStrings(_ out: inout [UInt8], _ strings: [String]) {
        put(&out, UInt32(strings.count))
        for s in strings { putString(&out, s) }
    }

    private static func putOptional(_ out: inout [UInt8], _ s: String?) {
        out.append(s == nil ? 0 : 1)
        if let s { putString(&out, s) }
    }

    private static func put<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    private static func putString(_ out: inout [UInt8], _ s: String) {
        put(&out, UInt32(s.utf8.count))
        out += s.utf8
    }

    /// Bounds-checked reads; every failure is nil.
    struct Reader {
        let bytes: [UInt8]
        var at: Int

        mutating func u8() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func fixed<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard at + size <= bytes.count else { return nil }
            var v: T = 0
            for i in 0..<size { v |= T(bytes[at + i]) << (8 * i) }
            at += size
            return v
        }

        mutating func u32() -> UInt32? { fixed(UInt32.self) }
        mutating func u64() -> UInt64? { fixed(UInt64.self) }

        mutating func strings() -> [String]? {
            guard let count = u32(), Int(count) <= bytes.count - at else { return nil }
            var out: [String] = []
            for _ in 0..<count {
                guard let s = string() else { return nil }
                out.append(s)
            }
            return out
        }

        /// .some(nil) for an absent value; nil for a malformed one.
        mutating func optional() -> String?? {
            guard let present = u8() else { return nil }
            if present == 0 { return .some(nil) }
            guard let s = string() else { return nil }
            return .some(s)
        }

        mutating func string() -> String? {
            guard let count = u32(), Int(count) <= bytes.count - at else { return nil }
            defer { at += Int(count) }
            return String(decoding: bytes[at..<(at + Int(count))], as: UTF8.self)
        }
    }
}
