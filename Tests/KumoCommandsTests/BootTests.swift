import Foundation
import ArgumentParser
import Logging
import Testing
@testable import KumoCommands
@testable import LocalCommands
import Functions
@testable import Tender

/// Builds the examples and fixtures with the real toolchain and boots them on
/// KVM. Serialized: one tender process, run after run, as the issue asks.
@Suite("Booting real unikernels", .serialized)
struct BootTests {
    static let root = Toolchain.locateRoot() ?? FileManager.default.currentDirectoryPath
    let builder: ImageBuilder
    let tender = Tender(logger: Logger(label: "test"))

    init() throws {
        builder = ImageBuilder(toolchain: try Toolchain.prepare(root: Self.root), logger: Logger(label: "test"))
    }

    func path(_ relative: String) -> String { Self.root + "/" + relative }

    /// Builds (if stale) and boots a function directory with its own config.
    func boot(_ relative: String, stdin: String = "", input: GuestInput? = nil, arguments: [String]? = nil,
              adjust: (inout RunOptions) -> Void = { _ in }) throws -> (RunReport, CapturedOutput) {
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: path(relative)))
        var options = try #require(ImageConfig.read(from: image)).runOptions(arguments: arguments)
        adjust(&options)
        let output = CapturedOutput()
        let report = try tender.run(image: image, options: options, input: input ?? BytesInput(stdin), output: output)
        return (report, output)
    }

    /// What every pre-started instance process boots while it waits.
    @Test func theWarmUpImageBootsAndExitsZero() throws {
        guard KVMRequirement.check() else { return }
        let image = try ELFImage(bytes: WarmupImage.bytes())
        let report = try tender.run(image: image, options: RunOptions(timeoutSeconds: 5), input: nil, output: nil)
        #expect(report.outcome == .exited(status: 0))
        #expect(report.vmExits == 1)
    }

    @Test func helloPrintsArgvEnvAndACarriedFile() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/hello", arguments: ["a", "b c"])
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText.contains("argv[0] = hello\nargv[1] = a\nargv[2] = b c\n"))
        #expect(out.stdoutText.contains("env: GREETING=hi"))
        #expect(out.stdoutText.contains("greeting: Greetings from the file tree carried in the image."))
        #expect(report.vmExits <= 3)
    }

    /// cflags' relative paths (-I, -include) are the function directory's, wherever kumo build runs.
    @Test func cflagsPathsResolveAgainstTheFunctionDirectory() throws {
        guard KVMRequirement.check() else { return }
        #expect(FileManager.default.currentDirectoryPath != path("Tests/Fixtures/guests/include-path"))
        let (report, output) = try boot("Tests/Fixtures/guests/include-path")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == "included from inc/\nincluded from inc/\n")
    }

    /// The guest starts in its workdir; relative opens ('..' included), chdir, fchdir and getcwd
    /// follow the current directory within the file tree.
    @Test func aFunctionStartsInItsWorkdirAndMovesWithinTheTree() throws {
        guard KVMRequirement.check() else { return }
        let (report, output) = try boot("Tests/Fixtures/guests/workdir")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            cwd /app/sub
            inner.txt: inner
            ../top.txt: top
            ./../sub/../top.txt: top
            chdir .. 0
            cwd /app
            sub/inner.txt: inner
            chdir /nowhere -1 No such file or directory
            chdir top.txt -1 Not a directory
            fchdir 0
            cwd /app/sub
            chdir / 0
            app/top.txt: top

            """, "\(output.stdoutText)")
    }

    /// /dev/stdout and /dev/stderr open by name and reach the console's streams, /dev/null is a
    /// sink, /dev/stdin reads the request; each opens only the way it can be used.
    @Test func theStandardStreamsAndDevNullOpenByName() throws {
        guard KVMRequirement.check() else { return }
        let (report, output) = try boot("Tests/Fixtures/guests/dev-streams", stdin: "a line\n")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            written to /dev/stdout
            null: wrote 9, read 0, char device 1
            stdin by path: a line
            stdin for writing -1 Permission denied
            stdout for reading -1 Permission denied
            null writable 0

            """, "\(output.stdoutText)")
        #expect(output.stderrText == "written to /dev/stderr\n")
    }

    /// Files a program writes live in a scratch file system in guest memory: created anywhere
    /// the carried tree has nothing, read back, seeked, truncated, renamed, listed and removed;
    /// the carried tree stays read-only; filling the space is ENOSPC and the program goes on.
    @Test func aProgramWritesReadsAndRemovesScratchFiles() throws {
        guard KVMRequirement.check() else { return }
        let (report, output) = try boot("Tests/Fixtures/guests/scratch-files")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            read back: sum=42
            after seek: hello kumo!
            truncated: size 5, end at 5
            hole: 11 bytes, byte 7 is 0
            appended: size 12
            exclusive again: File exists
            mkdir: ok
            mkdir again: File exists
            mkdir without parent: No such file or directory
            rename: ok
            old name: No such file or directory
            new name: ok, size 12
            ls /tmp/out: data.bin
            rmdir non-empty: Directory not empty
            unlink while open: ok
            still readable: hello
            rmdir: ok
            write carried: Read-only file system
            unlink carried: Read-only file system
            rename carried: Read-only file system
            writable: ok
            ls /data: input.txt new.txt
            ls /: data/ tmp/ result.txt
            filled after some MiB: No space left on device
            after unlink: room again
            end

            """, "\(output.stdoutText)")
    }

    /// `kumo run --output DIR` gets a copy of what the run created (its empty directories too).
    @Test func kumoRunOutputCopiesTheScratchFilesBack() throws {
        guard KVMRequirement.check() else { return }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-output-\(UUID().uuidString)").path + "/made"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        var command = try KumoCLI.parseAsRoot(["run", path("Tests/Fixtures/guests/scratch-files"), "--output", out])
        #expect(throws: ExitCode(0)) { try command.run() }
        #expect(try String(contentsOfFile: out + "/result.txt", encoding: .utf8) == "sum=42\n")
        #expect(try String(contentsOfFile: out + "/data/new.txt", encoding: .utf8) == "made at run time\n")
        #expect(FileManager.default.contents(atPath: out + "/tmp/empty") == Data())
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: out + "/tmp/keep", isDirectory: &isDirectory) && isDirectory.boolValue)
        // Removed files are gone; nothing of the carried tree is copied.
        #expect(!FileManager.default.fileExists(atPath: out + "/tmp/out") && !FileManager.default.fileExists(atPath: out + "/data/input.txt"))
    }

    /// A guest's own export calls cannot leave the output directory; without --output the host keeps nothing.
    @Test func scratchPathsThatLeaveTheOutputDirectoryAreRefused() throws {
        guard KVMRequirement.check() else { return }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-output-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: path("Tests/Fixtures/guests/bad-output")))
        let config = try #require(ImageConfig.read(from: image))
        var options = config.runOptions(arguments: nil)
        options.scratchOutput = try ScratchOutput(directory: base + "/out")
        let output = CapturedOutput()
        let report = try Tender(logger: Logger(label: "test")).run(image: image, options: options, input: BytesInput(""), output: output)
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            dot-dot -22
            relative -22
            empty segment -22
            dot -22
            kept 0
            below a file -20
            directory 0

            """, "\(output.stdoutText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["out"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/out/kept").sorted() == ["empty", "file.txt"])
        let (_, unasked) = try boot("Tests/Fixtures/guests/bad-output")
        #expect(unasked.stdoutText.split(separator: "\n").allSatisfy { $0.hasSuffix(" -1") }, "\(unasked.stdoutText)")
    }

    /// pthreads on the one vCPU, switched at blocking calls: joins with results, a contended
    /// mutex, a producer and consumers on a condition variable, thread-local storage, a sleeper
    /// that lets the main thread run first, a timed wait, detached threads, 60 more at once.
    @Test func threadsRunCooperativelyOnTheOneVCPU() throws {
        guard KVMRequirement.check() else { return }
        let (report, output) = try boot("Tests/Fixtures/guests/threads")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            counter 4000, thread results 38, main's local 7
            consumed 55
            order ab
            timed wait: timed out
            detached ran 1, tid differs 1
            made and joined 60 more
            stack aligned 1

            """, "\(output.stdoutText)")
    }

    /// Threads that wait for each other end the run with a message, not a hang until the
    /// timeout; a thread that calls exit ends the process while the others wait.
    @Test func aDeadlockEndsTheRunAndExitFromAThreadEndsTheProcess() throws {
        guard KVMRequirement.check() else { return }
        let started = ContinuousClock.now
        let (report, output) = try boot("Tests/Fixtures/guests/threads", arguments: ["deadlock"])
        #expect(report.outcome == .signaled(6))
        #expect(output.stdoutText == "main holds a, the other b\n")
        #expect(output.stderrText.contains("kumo: deadlock: every thread waits for another"), "\(output.stderrText)")
        #expect(ContinuousClock.now - started < .seconds(10), "the deadlock waited for the timeout")
        let (exited, exitOutput) = try boot("Tests/Fixtures/guests/threads", arguments: ["exit"])
        #expect(exited.outcome == .exited(status: 3))
        #expect(exitOutput.stdoutText == "joining a thread that calls exit(3)\n")
    }

    /// C++ with Kumo's libstdc++: static constructors and destructors, iostream, strings,
    /// vectors, smart pointers, exceptions, RTTI, chrono and std::thread; a `.c` helper
    /// built as C++ (`language: c++`). An exception nobody catches ends the run with 134
    /// and its type and message on stderr, as natively.
    @Test func cxxProgramsRunAndAnUncaughtExceptionIsNamed() throws {
        guard KVMRequirement.check() else { return }
        let (report, output) = try boot("Tests/Fixtures/guests/cpp-features")
        #expect(report.outcome == .exited(status: 0))
        #expect(output.stdoutText == """
            static constructor ran
            hello, C++!
            3 squares, total area 14
            exception: thrown and caught
            rtti: 1 1
            threads: sum 10, clock moved 1
            static destructor ran

            """, "\(output.stdoutText)")
        let (thrown, thrownOutput) = try boot("Tests/Fixtures/guests/cpp-features", arguments: ["throw"])
        #expect(thrown.outcome == .signaled(6))
        #expect(thrownOutput.stderrText.contains("terminate called after throwing an instance of 'std::logic_error'"))
        #expect(thrownOutput.stderrText.contains("what():  nobody catches this"), "\(thrownOutput.stderrText)")
    }

    /// A workdir the image's file tree does not have is refused at build, saying why.
    @Test func aWorkdirOutsideTheFileTreeIsRefusedAtBuild() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("kumo-workdir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: path("Tests/Fixtures/guests/workdir"), toPath: copy)
        let yaml = copy + "/function.yaml"
        let spec = try String(contentsOfFile: yaml, encoding: .utf8).replacingOccurrences(of: "workdir: /app/sub", with: "workdir: /srv")
        try spec.write(toFile: yaml, atomically: true, encoding: .utf8)
        let error = #expect(throws: BuildError.self) { try builder.build(directory: copy) }
        #expect(error == .workdirMissing("/srv"), "\(String(describing: error))")
    }

    @Test func catCopiesStdinToStdout() throws {
        guard KVMRequirement.check() else { return }
        let input = (0..<5000).map { "line \($0)\n" }.joined()  // larger than every buffer on the way
        let (report, out) = try boot("examples/cat", stdin: input)
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText == input)
    }

    @Test func anOrdinaryLinuxProgramRunsUnchanged() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("examples/linux-program")
        #expect(report.outcome == .exited(status: 0))
        for line in ["sorted 1048576 doubles: yes", "sqrt(2) = 1.414214, exp(1) = 2.718282",
                     "fopen failed as expected: No such file or directory (errno 2)",
                     "year is after 2000: yes", "elapsed is positive: yes"] {
            #expect(out.stdoutText.contains(line), "missing: \(line)")
        }
    }

    @Test func theRuntimeAnswersTheSystemCallsOfOrdinaryPrograms() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/syscalls")
        #expect(report.outcome == .exited(status: 0), "\(out.stdoutText)")
        #expect(out.stdoutText.hasSuffix("0 failures\n"))
        #expect(!out.stdoutText.split(separator: "\n").contains { $0.hasPrefix("FAIL ") })
    }

    @Test func unsupportedSystemCallsAreENOSYSAndReportedOnce() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/unsupported-syscall")
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText == "socket: -1 -1, errno ENOSYS\n")
        #expect(out.stderrText == "kumo: unsupported system call 41, returning ENOSYS\n")
    }

    @Test(arguments: [("crash-null", "main"), ("crash-ud2", "main"), ("crash-divide", "divide")])
    func crashesAreReportedWithRipAndFunction(fixture: String, function: String) throws {
        guard KVMRequirement.check() else { return }
        let (report, _) = try boot("Tests/Fixtures/guests/\(fixture)")
        guard case .crashed(let crash) = report.outcome else {
            Issue.record("\(fixture) should crash, got \(report.outcome)")
            return
        }
        #expect(crash.symbol?.hasPrefix(function) == true)
        #expect(crash.rip >= 0x100000)
        #expect(report.outcome.exitCode == 139)
        try expectHealthyAfterwards()
    }

    @Test func outputWrittenBeforeACrashIsNotLost() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/crash-after-output")
        guard case .crashed = report.outcome else {
            Issue.record("expected a crash, got \(report.outcome)")
            return
        }
        #expect(out.stdoutText == "printed before the crash\nwritten too\n")
    }

    @Test func aGuestThatLoopsForeverIsKilledAtItsTimeout() throws {
        guard KVMRequirement.check() else { return }
        let started = ContinuousClock.now
        let (report, _) = try boot("Tests/Fixtures/guests/loop-forever") { $0.timeoutSeconds = 0.5 }
        #expect(report.outcome == .timedOut(seconds: 0.5))
        #expect(ContinuousClock.now - started < .seconds(10))
        try expectHealthyAfterwards()
    }

    @Test func aGuestWaitingOnASilentStdinIsKilledAtItsTimeout() throws {
        guard KVMRequirement.check() else { return }
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }  // the write end stays open and silent
        let (report, _) = try boot("examples/cat", input: FileDescriptorInput(fd: ends[0])) { $0.timeoutSeconds = 0.3 }
        #expect(report.outcome == .timedOut(seconds: 0.3))
    }

    @Test func aGuestWritingToAStalledReaderIsKilledAtItsTimeout() throws {
        guard KVMRequirement.check() else { return }
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }  // nobody reads: the pipe fills at 64 KiB
        let image = try Tender.loadImage(path: try builder.buildIfStale(directory: path("Tests/Fixtures/guests/flood")))
        var options = try #require(ImageConfig.read(from: image)).runOptions(arguments: nil)
        options.timeoutSeconds = 0.3
        let report = try tender.run(image: image, options: options, input: BytesInput([]),
                                    output: FileDescriptorOutput(stdout: ends[1], stderr: ends[1]))
        #expect(report.outcome == .timedOut(seconds: 0.3))
    }

    @Test func floodingStdoutIsCapped() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/flood")
        #expect(report.outcome == .outputLimitExceeded(bytes: 1 << 20))
        #expect(out.stdout.count == 1 << 20)
        try expectHealthyAfterwards()
    }

    @Test(arguments: ["bad-hypercall-pointer", "bad-hypercall-length"])
    func badHypercallsKillOnlyTheGuest(fixture: String) throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/\(fixture)")
        guard case .badHypercall(let why) = report.outcome else {
            Issue.record("\(fixture) should be killed, got \(report.outcome)")
            return
        }
        #expect(why.contains("outside guest memory"))
        #expect(out.stdout.isEmpty)
        try expectHealthyAfterwards()
    }

    /// Small heap data and a large mapping (in the zone backed by host huge pages) alike.
    @Test(arguments: ["write", "write-mapped"])
    func reusedGuestMemoryHoldsNothingOfThePreviousGuest(writer: String) throws {
        guard KVMRequirement.check() else { return }
        let (wrote, out) = try boot("Tests/Fixtures/guests/memory-probe", arguments: [writer])
        #expect(wrote.outcome == .exited(status: 0) && out.stdoutText.hasPrefix("wrote"))
        // The writer's memory is scrubbed and pooled in the background; wait for it.
        let deadline = ContinuousClock.now + .seconds(5)
        while TenderPools.shared.pooledMemoryCount(size: 64 << 20) == 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(TenderPools.shared.pooledMemoryCount(size: 64 << 20) > 0, "the region should be reused")
        let (scanned, scan) = try boot("Tests/Fixtures/guests/memory-probe", arguments: ["scan"])
        #expect(scanned.outcome == .exited(status: 0))
        #expect(scan.stdoutText == "found 0\n")
    }

    /// A large mapping goes 2 MiB-aligned into the huge-page zone, below the top 4 MiB of the
    /// heap that small mappings fill first (64 MiB of memory: the heap ends at 56 MiB).
    @Test func largeMappingsGoToTheHugePageZoneAndSmallOnesAboveIt() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/memory-probe", arguments: ["place"])
        #expect(report.outcome == .exited(status: 0))
        // 4 MiB and a page, from the highest 2 MiB boundary that keeps it under 52 MiB: 46 MiB.
        #expect(out.stdoutText == "large 46 aligned 1, small 55\n", "\(out.stdoutText)")
        let zone = try #require(GuestLayout.hugePageZone(memorySize: 64 << 20))
        #expect(zone == (16 << 20)..<(52 << 20))
        #expect(GuestLayout.hugePageZone(memorySize: 16 << 20) == nil, "too small to have one")
    }

    @Test func abortEndsWithSignal6() throws {
        guard KVMRequirement.check() else { return }
        let (report, out) = try boot("Tests/Fixtures/guests/abort")
        #expect(report.outcome == .signaled(6))
        #expect(out.stderrText == "about to abort\n")
    }

    @Test func tooLittleMemoryForTheImageIsRefusedBeforeBooting() throws {
        guard KVMRequirement.check() else { return }
        #expect(throws: TenderError.self) {
            _ = try boot("examples/linux-program") { $0.memorySize = 6 << 20 }
        }
        try expectHealthyAfterwards()
    }

    @Test func theBuildRefusesASyscallInstruction() throws {
        let error = #expect(throws: BuildError.self) { try builder.build(directory: path("Tests/Fixtures/guests/inline-syscall")) }
        #expect(error?.description.contains("syscall instruction") == true)
    }

    @Test func compileErrorsFailTheBuild() throws {
        let error = #expect(throws: BuildError.self) { try builder.build(directory: path("Tests/Fixtures/guests/compile-error")) }
        #expect(error == .compileFailed(source: "main.c"))
    }

    @Test func aMissingImageIsAClearError() throws {
        let error = #expect(throws: TenderError.self) { try Tender.loadImage(path: "/nonexistent/x.kumo") }
        #expect(error?.description.contains("no such file") == true)
    }

    @Test func corruptedImagesAndGuestCodeNeverHarmTheHost() throws {
        guard KVMRequirement.check() else { return }
        let path = try builder.buildIfStale(directory: path("examples/hello"))
        let original = try Tender.loadImage(path: path)
        var generator = SystemRandomNumberGenerator()
        // Any header byte: parse, and refuse or accept.
        for _ in 0..<2000 {
            var bytes = original.bytes
            let at = Int.random(in: 0..<min(bytes.count, 4096), using: &generator)
            bytes[at] = UInt8.random(in: 0...255, using: &generator)
            _ = try? ELFImage(bytes: bytes)
        }
        // Scrambled code and data: boot it; whatever the guest does, it ends.
        let text = try #require(original.segments.first)
        var options = try #require(ImageConfig.read(from: original)).runOptions(arguments: nil)
        options.timeoutSeconds = 0.3
        options.outputLimit = 1 << 16
        for _ in 0..<30 {
            var bytes = original.bytes
            for _ in 0..<64 {
                let at = Int(text.fileOffset) + Int.random(in: 0..<Int(text.fileSize), using: &generator)
                bytes[at] = UInt8.random(in: 0...255, using: &generator)
            }
            guard let image = try? ELFImage(bytes: bytes) else { continue }
            _ = try tender.run(image: image, options: options, input: BytesInput("x"), output: CapturedOutput())
        }
        try expectHealthyAfterwards()
    }

    @Test func aGuestsClockReadingsAreOnlyTrustedWhenTheyMakeSense() {
        // 3 GHz: 3_000_000 ticks per millisecond.
        #expect(RunReport.guestNanoseconds(tsc: (entry: 1000, exit: 3_001_000), tscKHz: 3_000_000) == 1_000_000)
        #expect(RunReport.guestNanoseconds(tsc: (entry: 5, exit: 4), tscKHz: 3_000_000) == nil)
        #expect(RunReport.guestNanoseconds(tsc: (entry: 0, exit: .max), tscKHz: 3_000_000) == nil)
        #expect(RunReport.guestNanoseconds(tsc: (entry: 0, exit: 10), tscKHz: 0) == 10_000_000)
    }

    /// The host process is unharmed: the next run in the same process works.
    func expectHealthyAfterwards() throws {
        let (report, out) = try boot("examples/hello")
        #expect(report.outcome == .exited(status: 0))
        #expect(out.stdoutText.hasPrefix("hello from a Kumo unikernel\n"))
    }
}
