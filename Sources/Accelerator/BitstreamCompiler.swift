import Foundation

/// Builds a bitstream from OpenCL C: compiles it for the emulator ahead of
/// time, reads each kernel's signature, and wraps payload and metadata in
/// an xclbin. The uuid is derived from the payload, so the same build gives
/// the same bitstream and an FPGA that holds it skips reconfiguration.
public enum BitstreamCompiler {
    public static func compile(source: String, name: String, options: String = "",
                               globalMemory: UInt64 = FPGAIdentity().globalMemory) throws(FPGAError) -> Bitstream {
        let backend = try EmulatorBackend()
        let (program, log, status) = backend.build(source: source, options: options)
        guard let program else {
            throw FPGAError(status == 0 ? -11 : status, "the kernels did not build:\n\(log)")
        }
        let names = try backend.kernelNames(in: program)
        guard !names.isEmpty else { throw FPGAError(-46, "the source defines no __kernel function") }
        var signatures: [KernelSignature] = []
        for name in names {
            let (kernel, _) = try backend.kernel(name, in: program)
            signatures.append(try backend.signature(of: kernel, name: name))
        }
        let payload = try backend.payload(of: program)
        var uuid: [UInt8] = []
        for seed in [UInt8(1), 2] {
            let h = Bitstream.fnv1a([seed] + Array(name.utf8) + payload)
            uuid += (0..<8).map { UInt8(truncatingIfNeeded: h >> (8 * $0)) }
        }
        return Bitstream.assemble(name: name, kernels: signatures, payload: payload, target: backend.target,
                                  globalMemory: globalMemory, uuid: uuid,
                                  timeStamp: UInt64(Date().timeIntervalSince1970))
    }

    /// `kumo xclbin info`: what xclbinutil --info shows, for this container.
    public static func describe(_ b: Bitstream) -> String {
        var lines = ["xclbin:     \(b.xclbin.uuidString)",
                     "version:    \(b.xclbin.version.major).\(b.xclbin.version.minor).\(b.xclbin.version.patch)",
                     "created:    \(Date(timeIntervalSince1970: Double(b.xclbin.timeStamp)))",
                     "platform:   \(b.xclbin.platform)",
                     "mode:       sw_emu (emulation payload for \(b.target), \(b.payload.count) bytes)",
                     "sections:"]
        for s in b.xclbin.sections {
            let kind = Xclbin.SectionKind(rawValue: s.kind)?.name ?? "kind \(s.kind)"
            lines.append("  \(kind.padding(toLength: 20, withPad: " ", startingAt: 0)) \(s.data.count) bytes")
        }
        lines.append("kernels:")
        for k in b.kernels {
            lines.append("  \(k.name) (compute unit \(k.name)_1)")
            for (i, a) in k.arguments.enumerated() {
                lines.append("    [\(i)] \(a.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(a.typeName) \(a.name)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
