import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// EMBEDDED_METADATA: the kernels and their arguments, in the XML shape
/// Xilinx's tools write (project / platform / device / core / kernel / arg).
enum KernelMetadataXML {
    /// addressQualifier values: 0 by value, 1 global, 2 constant, 3 local.
    static func qualifier(_ kind: KernelSignature.Argument.Kind) -> Int {
        switch kind { case .value: 0; case .global: 1; case .constant: 2; case .local: 3 }
    }

    static func encode(project: String, target: String, kernels: [KernelSignature]) -> String {
        var xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <project name="\(escape(project))">
          <platform vendor="kumo" boardid="emulated" name="\(escape(target))">
            <device name="fpga0" fpgaDevice="emulated" addrWidth="64">
              <core name="OCL_REGION_0" target="sw_emu" type="clc_region" clockFreq="\(Bitstream.kernelClockMHz)MHz" numComputeUnits="\(kernels.count)">

        """
        for k in kernels {
            xml += "        <kernel name=\"\(escape(k.name))\" language=\"clc\" vlnv=\"kumo:kernel:\(escape(k.name)):1.0\">\n"
            for (i, a) in k.arguments.enumerated() {
                xml += "          <arg name=\"\(escape(a.name))\" addressQualifier=\"\(qualifier(a.kind))\" id=\"\(i)\""
                xml += " type=\"\(escape(a.typeName))\" size=\"\(a.size)\" accessQualifier=\"\(a.access)\""
                xml += " typeQualifier=\"\(a.typeQualifier)\"/>\n"
            }
            xml += "          <instance name=\"\(escape(k.name))_1\"/>\n        </kernel>\n"
        }
        xml += "      </core>\n    </device>\n  </platform>\n</project>\n"
        return xml
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func decode(_ text: String) throws(FPGAError) -> [KernelSignature] {
        let reader = Reader()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = reader
        guard parser.parse() else {
            throw .invalidBinary("xclbin: EMBEDDED_METADATA is not well-formed XML (line \(parser.lineNumber))")
        }
        if let problem = reader.problem { throw .invalidBinary("xclbin: EMBEDDED_METADATA: \(problem)") }
        guard !reader.kernels.isEmpty else { throw .invalidBinary("xclbin: EMBEDDED_METADATA names no kernel") }
        return reader.kernels
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var kernels: [KernelSignature] = []
        var problem: String?

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "kernel":
                guard let name = attributes["name"], !name.isEmpty, name.utf8.count < 64 else {
                    problem = problem ?? "a <kernel> without a valid name"
                    return
                }
                kernels.append(KernelSignature(name: name, arguments: []))
            case "arg":
                guard !kernels.isEmpty else { problem = problem ?? "an <arg> outside a <kernel>"; return }
                guard let name = attributes["name"], let type = attributes["type"],
                      let q = attributes["addressQualifier"].flatMap({ Int($0) }), (0...3).contains(q),
                      let id = attributes["id"].flatMap({ Int($0) }), id == kernels[kernels.count - 1].arguments.count,
                      kernels[kernels.count - 1].arguments.count < 64
                else {
                    problem = problem ?? "an <arg> of kernel \(kernels[kernels.count - 1].name) lacks name, type, addressQualifier (0-3) or its id in order"
                    return
                }
                let kind: KernelSignature.Argument.Kind = [.value, .global, .constant, .local][q]
                let size = attributes["size"].flatMap { UInt32($0) } ?? KernelSignature.size(ofType: type)
                kernels[kernels.count - 1].arguments.append(KernelSignature.Argument(
                    name: String(name.prefix(63)), typeName: String(type.prefix(63)), kind: kind,
                    size: kind == .value ? size : 8,
                    access: attributes["accessQualifier"].flatMap { UInt32($0) } ?? 0x11A3,
                    typeQualifier: attributes["typeQualifier"].flatMap { UInt32($0) } ?? 0))
            default: break
            }
        }
    }
}
