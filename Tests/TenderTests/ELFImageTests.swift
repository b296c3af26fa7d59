import CKumoABI
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

    @Test func namesTheFunctionContainingAnAddress() throws {
        let image = try ELFImage(bytes: SyntheticELF().bytes())
        #expect(image.symbol(containing: KUMO_IMAGE_BASE) == nil)  // this image has no symbols
    }
}
