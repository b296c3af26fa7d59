import CKumoABI
import KVM
import Testing

func KUMO_HC_ADDR(_ number: UInt64) -> UInt64 { KUMO_DOORBELL_BASE + 8 * number }  // the C macro
@testable import Tender

@Suite("vCPU exit handling, fed synthetic exits")
struct ExitClassifierTests {
    @Test func aDoorbellStoreIsAHypercall() {
        let exit = VCPUExit.mmioWrite(address: KUMO_HC_ADDR(UInt64(KUMO_HC_EXIT.rawValue)), data: 0x2000, length: 8)
        #expect(ExitClassifier.classify(exit) == .hypercall(number: UInt64(KUMO_HC_EXIT.rawValue), argument: 0x2000))
    }

    @Test func unknownHypercallNumbersAndWidthsAreRefused() {
        let beyond = VCPUExit.mmioWrite(address: KUMO_HC_ADDR(UInt64(KUMO_HC_COUNT.rawValue)), data: 0, length: 8)
        #expect(ExitClassifier.classify(beyond) == .badHypercall("unknown hypercall \(KUMO_HC_COUNT.rawValue)"))
        let zero = VCPUExit.mmioWrite(address: KUMO_DOORBELL_BASE, data: 0, length: 8)
        #expect(ExitClassifier.classify(zero) == .badHypercall("unknown hypercall 0"))
        let narrow = VCPUExit.mmioWrite(address: KUMO_HC_ADDR(1), data: 0, length: 4)
        guard case .badHypercall = ExitClassifier.classify(narrow) else {
            Issue.record("a 4-byte doorbell store must be refused")
            return
        }
    }

    @Test func storesAndLoadsOutsideTheDoorbellAreFaults() {
        guard case .fault(let why) = ExitClassifier.classify(.mmioWrite(address: 0x9000_0000, data: 1, length: 4)) else {
            Issue.record("a store to unbacked memory must end the guest")
            return
        }
        #expect(why.contains("0x90000000"))
        guard case .fault = ExitClassifier.classify(.mmioRead(address: KUMO_DOORBELL_BASE, length: 8)) else {
            Issue.record("a load from the doorbell must end the guest")
            return
        }
    }

    @Test func crashesAndKicksAreTold() {
        guard case .fault(let why) = ExitClassifier.classify(.shutdown) else {
            Issue.record("shutdown is a crash")
            return
        }
        #expect(why.contains("triple fault"))
        #expect(ExitClassifier.classify(.interrupted) == .stopped)
        guard case .fault = ExitClassifier.classify(.internalError(suberror: 1)) else {
            Issue.record("an internal error is a crash")
            return
        }
    }
}

@Suite("Guest memory bounds")
struct GuestMemoryTests {
    @Test func accessesOutsideOrOverflowingAreRefused() throws {
        let memory = try GuestMemory(size: 8 << 20)
        try memory.store(UInt64(7), at: 0x1000)
        #expect(try memory.load(UInt64.self, at: 0x1000) == 7)
        #expect(throws: GuestMemoryError.self) { try memory.load(UInt64.self, at: (8 << 20) - 4) }
        #expect(throws: GuestMemoryError.self) { try memory.bytes(at: 0x1000, length: UInt64.max - 0x800) }
        #expect(throws: GuestMemoryError.self) { try memory.bytes(at: UInt64.max, length: 2) }
        #expect(try memory.bytes(at: (8 << 20) - 16, length: 16).count == 16)
    }

    @Test func scrubbingClearsEveryWrittenPage() throws {
        let memory = try GuestMemory(size: 8 << 20)
        for page in stride(from: UInt64(0), to: 8 << 20, by: 3 * 4096) { try memory.store(UInt64(0xdead_beef), at: page + 8) }
        #expect(memory.scrub(maxResident: 8 << 20))
        for page in stride(from: UInt64(0), to: 8 << 20, by: 4096) { #expect(try memory.load(UInt64.self, at: page + 8) == 0) }
    }

    @Test func scrubbingTooMuchDropsTheMemoryInstead() throws {
        let memory = try GuestMemory(size: 8 << 20)
        for page in stride(from: UInt64(0), to: 8 << 20, by: 4096) { try memory.store(UInt8(1), at: page) }
        #expect(!memory.scrub(maxResident: 1 << 20))
        for page in stride(from: UInt64(0), to: 8 << 20, by: 4096) { #expect(try memory.load(UInt8.self, at: page) == 0) }
    }

    @Test func outcomesHaveDistinctExitCodes() {
        #expect(RunOutcome.exited(status: 3).exitCode == 3)
        #expect(RunOutcome.timedOut(seconds: 1).exitCode == 124)
        #expect(RunOutcome.signaled(6).exitCode == 134)
        let crash = RunOutcome.crashed(GuestCrash(reason: "x", rip: 0x100030, rsp: 0x10, symbol: "main"))
        #expect(crash.exitCode == 139)
        #expect(crash.description.contains("rip 0x100030 in main"))
    }
}

@Suite("Hypercall handlers")
struct HypercallTests {
    func context(output: GuestOutput?, limit: UInt64 = 1 << 20) throws -> HypercallContext {
        HypercallContext(memory: try GuestMemory(size: 8 << 20), input: nil, output: output,
                         outputLimit: limit, deadline: .now + .seconds(5), timeoutSeconds: 5)
    }

    func storeWrite(_ c: HypercallContext, fd: UInt32, data: UInt64, length: UInt64) throws -> UInt64 {
        let call = kumo_hc_io(fd: fd, reserved: 0, data: data, len: length, ret: 0)
        try c.memory.store(call, at: 0x3000)
        return 0x3000
    }

    @Test func onlyTheDevicesInTheManifestAreAttached() throws {
        let c = try context(output: nil)  // the image named no console
        let at = try storeWrite(c, fd: 1, data: 0x4000, length: 4)
        #expect(throws: HypercallFault.self) { try c.dispatch(number: UInt64(KUMO_HC_WRITE.rawValue), argument: at) }
    }

    @Test func writesReachTheOutputAndReturnTheirLength() throws {
        let out = CapturedOutput()
        let c = try context(output: out)
        try c.memory.write(Array("hi!\n".utf8), at: 0x4000)
        let at = try storeWrite(c, fd: 2, data: 0x4000, length: 4)
        guard case .resume = try c.dispatch(number: UInt64(KUMO_HC_WRITE.rawValue), argument: at) else {
            Issue.record("a good write resumes the guest")
            return
        }
        #expect(out.stderrText == "hi!\n")
        #expect(try c.memory.load(kumo_hc_io.self, at: at).ret == 4)
    }

    @Test func outputPastTheLimitIsCutAndEndsTheRun() throws {
        let out = CapturedOutput()
        let c = try context(output: out, limit: 10)
        let at = try storeWrite(c, fd: 1, data: 0x4000, length: 64)
        guard case .finish(.outputLimitExceeded(bytes: 10), _) = try c.dispatch(number: UInt64(KUMO_HC_WRITE.rawValue), argument: at) else {
            Issue.record("output past the limit must end the run")
            return
        }
        #expect(out.stdout.count == 10)
    }

    @Test func badFileDescriptorsAndUnknownNumbersAreFaults() throws {
        let c = try context(output: CapturedOutput())
        let at = try storeWrite(c, fd: 7, data: 0x4000, length: 4)
        #expect(throws: HypercallFault.self) { try c.dispatch(number: UInt64(KUMO_HC_WRITE.rawValue), argument: at) }
        #expect(throws: HypercallFault.self) { try c.dispatch(number: 999, argument: at) }
        #expect(throws: HypercallFault.self) { try c.dispatch(number: UInt64(KUMO_HC_EXIT.rawValue), argument: UInt64.max - 4) }
    }
}
