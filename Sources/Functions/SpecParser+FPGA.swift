import Accelerator
import Foundation
import Yams

extension FPGAIdentity.DeviceType: CaseIterableByName { static var names: [String] { allCases.map(\.rawValue) } }

/// `fpga:` and `bitstream:` in function.yaml.
extension SpecParser {
    /// What the FPGA tells the program it is; every key optional.
    func fpgaIdentity(_ node: Node) throws(SpecError) -> FPGAIdentity {
        guard let m = node.mapping else { throw error("fpga", "must be a mapping with keys \(FPGAIdentity.keys.joined(separator: ", "))") }
        var identity = FPGAIdentity()
        for (k, v) in m {
            guard let key = k.string, FPGAIdentity.keys.contains(key) else {
                throw error("fpga", "unknown key \(k.string ?? "?"); the keys are \(FPGAIdentity.keys.joined(separator: ", "))")
            }
            let label = "fpga.\(key)"
            switch key {
            case "device_type": identity.deviceType = try choice(v, label)
            case "global_memory":
                let bytes = try size(v, label, min: 16 << 20)
                guard bytes <= 64 << 30 else { throw error(label, "at most 64G") }
                identity.globalMemory = bytes
            case "compute_units":
                guard let n = UInt32(try scalar(v, label)), n >= 1, n <= 64 else { throw error(label, "must be 1 to 64") }
                identity.computeUnits = n
            default:
                let s = try scalar(v, label)
                guard !s.isEmpty, s.utf8.count < 64, !s.utf8.contains(0) else { throw error(label, "must be 1 to 63 bytes") }
                switch key {
                case "platform_name": identity.platformName = s
                case "platform_vendor": identity.platformVendor = s
                case "device_name": identity.deviceName = s
                default: identity.deviceVendor = s
                }
            }
        }
        return identity
    }

    /// A bitstream: the name of one in the checkout's fpga-bitstreams/ (built
    /// from its .cl when stale), or a relative path to an .xclbin.
    func bitstream(_ node: Node) throws(SpecError) -> String {
        let s = try scalar(node, "bitstream")
        if !s.contains("/"), !s.hasSuffix(".xclbin") {
            guard !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw error("bitstream", "'\(s)' must be a bitstream name (letters, digits, _ and -) or a path to an .xclbin")
            }
            return s
        }
        guard s.hasSuffix(".xclbin") else { throw error("bitstream", "'\(s)' must be an .xclbin file") }
        return try relativeFile(node, "bitstream")
    }

    /// The file name the bitstream has in /bitstreams, as vendors' host code derives it
    /// (e.g. krnl_vadd.hw.xilinx_u250_gen3x16_4_1.xclbin).
    func bitstreamFile(_ node: Node) throws(SpecError) -> String {
        let s = try scalar(node, "bitstream_file")
        guard s.hasSuffix(".xclbin"), s.count > 7, s.count < 256, s.first != ".",
              s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw error("bitstream_file", "'\(s)' must be a file name ending in .xclbin (letters, digits, '.', '_' and '-')")
        }
        return s
    }
}
