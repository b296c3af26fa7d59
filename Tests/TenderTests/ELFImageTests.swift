import CKumoABI
import Logging
import Testing
@testable import Tender

@Suite("ELF loading and manifest validation")
struct ELFImageTests {
    @Test func acceptsAWellFormedImage() throws {
        let image = try ELFImage(bytes: SyntheticELF().bytes())
        #expect(image.entry == KUMO_IMAGE_BASE)
        #expect(image.segments.count == 1)
        #expect(image.manifest.devices == [ManifestDevice(name: "console", kind: .console)])
        try image.validatePlacement(memorySize: 64 << 20, stackSize: 8 << 20)
    }

    @Test func refusesAFileThatIsNotAnELF() {
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: Array("#!/bin/sh\necho hi\n".utf8)) }
        #expect(error?.description.contains("not an ELF") == true)
    }

    @Test func refusesATruncatedELF() {
        let bytes = Array(SyntheticELF().bytes().prefix(100))
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: bytes) }
        #expect(error?.description.contains("outside the file") == true)
    }

    @Test func refusesTheWrongMachine() {
        var elf = SyntheticELF()
        elf.machine = 183  // aarch64
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: elf.bytes()) }
        #expect(error?.description.contains("wrong machine 183") == true)
    }

    @Test func refusesPositionIndependentExecutables() {
        var elf = SyntheticELF()
        elf.type = 3
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: elf.bytes()) }
        #expect(error?.description.contains("ET_DYN") == true)
    }

    @Test func refusesASegmentOutsideGuestMemory() throws {
        var elf = SyntheticELF()
        elf.segments = [(KUMO_IMAGE_BASE, 0x1000, 5), (512 << 20, 0x1000, 6)]
        let image = try ELFImage(bytes: elf.bytes())
        let error = #expect(throws: TenderError.self) {
            try image.validatePlacement(memorySize: 64 << 20, stackSize: 8 << 20)
        }
        #expect(error?.description.contains("lies outside guest memory") == true)
    }

    @Test func refusesASegmentBelowTheImageBase() throws {
        var elf = SyntheticELF()
        elf.segments = [(0x2000, 0x1000, 5)]
        elf.entry = 0x2000
        let image = try ELFImage(bytes: elf.bytes())
        #expect(throws: TenderError.self) { try image.validatePlacement(memorySize: 64 << 20, stackSize: 8 << 20) }
    }

    @Test func refusesASegmentThatWrapsAround() {
        var elf = SyntheticELF()
        elf.segments = [(KUMO_IMAGE_BASE, 0x1000, 5), (UInt64.max - 0x10, 0x1000, 6)]
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: elf.bytes()) }
        #expect(error?.description.contains("wraps around") == true)
    }

    @Test func refusesOverlappingSegments() {
        var elf = SyntheticELF()
        elf.segments = [(KUMO_IMAGE_BASE, 0x2000, 5), (KUMO_IMAGE_BASE + 0x1000, 0x1000, 6)]
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: elf.bytes()) }
        #expect(error?.description.contains("overlap") == true)
    }

    @Test func refusesAnEntryOutsideExecutableCode() {
        var elf = SyntheticELF()
        elf.entry = KUMO_IMAGE_BASE + 0x5000
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: elf.bytes()) }
        #expect(error?.description.contains("entry point") == true)
    }

    @Test func refusesAnImageWithoutTheManifest() {
        var elf = SyntheticELF()
        elf.manifestVersion = nil
        #expect(throws: TenderError.missingManifest) { try ELFImage(bytes: elf.bytes()) }
    }

    @Test func refusesAnotherABIVersion() {
        var elf = SyntheticELF()
        elf.manifestVersion = 99
        #expect(throws: TenderError.unsupportedABI(found: 99, supported: UInt32(KUMO_ABI_VERSION))) {
            try ELFImage(bytes: elf.bytes())
        }
    }

    @Test func refusesUnknownAndDuplicateDevices() {
        var unknown = SyntheticELF()
        unknown.devices = [("gpu", 77)]
        #expect(throws: TenderError.self) { try ELFImage(bytes: unknown.bytes()) }
        var twice = SyntheticELF()
        twice.devices = [("console", 1), ("console", 1)]
        let error = #expect(throws: TenderError.self) { try ELFImage(bytes: twice.bytes()) }
        #expect(error?.description.contains("named twice") == true)
    }

    @Test func aDeviceThisNodeCannotAttachIsRefusedBeforeBooting() throws {
        var elf = SyntheticELF()
        elf.devices = [("console", 1), ("fpga0", 4)]
        let image = try ELFImage(bytes: elf.bytes())
        #expect(image.manifest.has(.fpga))
        let error = #expect(throws: TenderError.self) {
            _ = try Tender(logger: Logger(label: "test")).run(image: image, options: RunOptions(), input: nil, output: nil)
        }
        #expect(error?.description.contains("fpga0") == true)
    }

    @Test func namesTheFunctionContainingAnAddress() throws {
        let image = try ELFImage(bytes: SyntheticELF().bytes())
        #expect(image.symbol(containing: KUMO_IMAGE_BASE) == nil)  // this image has no symbols
    }
}

@Suite("ELF loading survives corrupted files")
struct ELFMutationTests {
    /// Thousands of corrupted images, each either accepted whole or refused with
    /// a TenderError; a crash would end the test process.
    @Test func corruptedImagesAreRefusedNotFatal() {
        var generator = SplitMix(seed: 0x4b55_4d4f)
        let original = SyntheticELF().bytes()
        var refused = 0
        for _ in 0..<5000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let at = Int(generator.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 10 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) }
            do {
                let image = try ELFImage(bytes: bytes)
                try? image.validatePlacement(memorySize: 64 << 20, stackSize: 8 << 20)
            } catch {
                refused += 1
            }
        }
        #expect(refused > 1000)  // most corruptions are caught
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
