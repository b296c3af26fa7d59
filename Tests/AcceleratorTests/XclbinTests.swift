import Testing
@testable import Accelerator

/// The xclbin container and Kumo's bitstreams: written, read back, and
/// refused with CL_INVALID_BINARY and a reason when corrupt or truncated.
struct XclbinTests {
    static let kernels = [KernelSignature(name: "vadd", arguments: [
        .init(name: "a", typeName: "float*", kind: .global, size: 8),
        .init(name: "n", typeName: "uint", kind: .value, size: 4),
    ])]

    static func sample(payload: [UInt8] = Array(0..<200)) -> Bitstream {
        Bitstream.assemble(name: "vadd", kernels: kernels, payload: payload, target: "pocl:test",
                           globalMemory: 1 << 30, uuid: Array(1...16), timeStamp: 1_700_000_000)
    }

    @Test func aBitstreamReadsBackAsWritten() throws {
        let bytes = Self.sample().xclbin.encoded()
        #expect(Array(bytes[0..<8]) == Array("xclbin2\0".utf8))
        #expect(bytes.count % 8 == 0)
        let read = try Bitstream(bytes: bytes)
        #expect(read.kernels == Self.kernels)
        #expect(read.payload == Array(0..<200))
        #expect(read.target == "pocl:test")
        #expect(read.xclbin == Self.sample().xclbin)
        #expect(read.xclbin.uuidString == "01020304-0506-0708-090a-0b0c0d0e0f10")
        let kinds = read.xclbin.sections.map(\.kind)
        for k in [Xclbin.SectionKind.bitstream, .embeddedMetadata, .ipLayout, .memTopology, .connectivity, .clockFreqTopology] {
            #expect(kinds.contains(k.rawValue))
        }
        #expect(try Bitstream.kernelNames(ipLayout: read.xclbin.section(.ipLayout)!.data) == ["vadd"])
    }

    @Test func everyTruncationIsRefusedWithAReason() {
        let bytes = Self.sample().xclbin.encoded()
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            #expect {
                _ = try Bitstream(bytes: Array(bytes[0..<cut]))
            } throws: { error in
                guard let e = error as? FPGAError else { return false }
                return e.status == -42 && e.message.hasPrefix("xclbin:")
            }
        }
    }

    @Test func flippedBytesNeverCrashAndAPayloadFlipIsCaught() {
        let bytes = Self.sample().xclbin.encoded()
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutated[Int.random(in: 0..<mutated.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            _ = try? Bitstream(bytes: mutated)
        }
        let payloadStart = bytes.count - 8 - 200   // the payload sits in the first section, before the metadata
        _ = payloadStart
        let bitstreamOffset = Int(bytes.get(UInt64.self, at: Xclbin.sectionTableOffset + 24))
        var flipped = bytes
        flipped[bitstreamOffset + Bitstream.payloadHeader + 10] ^= 0xff
        #expect(throws: FPGAError.invalidBinary("xclbin: the BITSTREAM payload's checksum does not match: the file is corrupt")) {
            _ = try Bitstream(bytes: flipped)
        }
    }

    @Test func missingSectionsAndWrongMagicAreNamed() throws {
        var xclbin = Self.sample().xclbin
        xclbin.sections.removeAll { $0.kind == Xclbin.SectionKind.ipLayout.rawValue }
        #expect(throws: FPGAError.invalidBinary("xclbin: no IP_LAYOUT section; build bitstreams with `kumo xclbin build`")) {
            _ = try Bitstream(bytes: xclbin.encoded())
        }
        var old = Self.sample().xclbin.encoded()
        old[6] = UInt8(ascii: "0")
        #expect(throws: FPGAError.self) { _ = try Bitstream(bytes: old) }
        var hardware = Self.sample().xclbin
        hardware.mode = 0
        #expect(throws: FPGAError.self) { _ = try Bitstream(bytes: hardware.encoded()) }
    }

    @Test func metadataMustAgreeWithTheIPLayout() {
        var xclbin = Self.sample().xclbin
        let other = [KernelSignature(name: "other", arguments: [])]
        if let i = xclbin.sections.firstIndex(where: { $0.kind == Xclbin.SectionKind.ipLayout.rawValue }) {
            xclbin.sections[i].data = Bitstream.ipLayout(other)
        }
        #expect(throws: FPGAError.self) { _ = try Bitstream(bytes: xclbin.encoded()) }
    }

    @Test func openCLTypeSizes() {
        #expect(KernelSignature.size(ofType: "float") == 4)
        #expect(KernelSignature.size(ofType: "uint") == 4)
        #expect(KernelSignature.size(ofType: "float4") == 16)
        #expect(KernelSignature.size(ofType: "int3") == 16)
        #expect(KernelSignature.size(ofType: "double16") == 128)
        #expect(KernelSignature.size(ofType: "uchar") == 1)
        #expect(KernelSignature.size(ofType: "size_t") == 8)
        #expect(KernelSignature.size(ofType: "struct point") == 0)
        #expect(KernelSignature.size(ofType: "float5") == 0)
    }
}
