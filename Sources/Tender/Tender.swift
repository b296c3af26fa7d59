import Accelerator
import CKumoABI
import Foundation
import KVM
import KumoSupport
import Logging

/// The solo5-style monitor: boots one image on KVM and runs it to the end.
public struct Tender: Sendable {
    let logger: Logger
    /// Take VMs made ahead of time and reuse scrubbed guest memory (see TenderPools).
    let pooling: Bool

    public init(logger: Logger, pooling: Bool = true) {
        self.logger = logger
        self.pooling = pooling
    }

    /// Opens KVM and makes a warmed spare VM, so that the first boot of this
    /// process takes the fast path (a pre-started instance process calls it).
    /// A boot of a 4 KiB image in `memorySize` of guest memory also faults in
    /// the run path and leaves a scrubbed region of that size in the pool.
    public static func prewarm(memorySize: UInt64 = RunOptions.defaultMemory, logger: Logger) {
        TenderPools.shared.prepare()
        guard let image = try? ELFImage(bytes: WarmupImage.bytes()) else { return }
        let options = RunOptions(memorySize: memorySize, timeoutSeconds: 5, arguments: ["warmup"])
        do {
            let report = try Tender(logger: logger).run(image: image, options: options, input: nil, output: nil)
            logger.debug("warm-up boot", metadata: ["outcome": "\(report.outcome)", "total": "\(report.totalNanoseconds / 1000)us"])
        } catch {
            logger.warning("warm-up boot failed: \(error)")
        }
    }

    /// Until `releaseTeardowns`, finished runs leave their VM and memory as they
    /// are: an instance process answers first, then frees (see TenderPools).
    public static func holdTeardowns() { TenderPools.shared.holdTeardowns() }
    public static func releaseTeardowns() { TenderPools.shared.releaseTeardowns() }

    /// The memory size the next run will likely ask for: the spare VM gets its
    /// memory of that size attached ahead (in the background).
    public static func prepare(memorySize: UInt64) {
        guard RunOptions.isValidMemorySize(memorySize) else { return }
        TenderPools.shared.prepare(memorySize: memorySize)
    }

    /// What a run would refuse before booting: limits, and segments that do not fit memory.
    public static func checkBootable(_ image: ELFImage, options: RunOptions) throws(TenderError) {
        try options.validate()
        try image.validatePlacement(memorySize: options.memorySize,
                                    stackSize: GuestLayout.stackSize(memorySize: options.memorySize))
    }

    /// Loads and validates an image file (ELF + manifest). Plain open/fstat/read:
    /// this is on every cold start, and Foundation's file calls cost more.
    public static func loadImage(path: String) throws(TenderError) -> ELFImage {
        try ELFImage(bytes: try readImageFile(path: path))
    }

    /// An image file's bytes, refused past the largest guest memory.
    public static func readImageFile(path: String) throws(TenderError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .unreadableImage(path: path, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw .unreadableImage(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard UInt64(size) <= KUMO_MEMORY_MAX else {
            throw .invalidImage("the file is \(size) bytes, larger than the largest guest memory (2 GiB)")
        }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                // Within the buffer: count < size == buffer.count.
                let n = read(fd, buffer.baseAddress! + count, size - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : EIO; break }
                count += n
            }
        }
        guard failure == 0, bytes.count == size else {
            throw .unreadableImage(path: path, reason: "read failed: \(String(cString: strerror(failure == 0 ? EIO : failure)))")
        }
        Trace.mark("load read")
        return bytes
    }

    /// Boots `image` and runs it until it exits, crashes, or hits a limit.
    /// Blocks the calling thread, which becomes the vCPU thread.
    public func run(image: ELFImage, options: RunOptions, input: GuestInput?, output: GuestOutput?) throws(TenderError) -> RunReport {
        let start = ContinuousClock.now
        try options.validate()
        let stackSize = GuestLayout.stackSize(memorySize: options.memorySize)
        try image.validatePlacement(memorySize: options.memorySize, stackSize: stackSize)
        try checkDevices(image.manifest, fpga: options.fpga, channel: options.channel)

        let device: KVMDevice, shell: VMShell, memory: GuestMemory
        /// The shell came with this memory attached, page tables written, long mode set.
        var prepared = false
        do {
            device = try KVMDevice.shared()
            let pooled = pooling ? TenderPools.shared.takeShell(memorySize: options.memorySize) : nil
            if let pooled {
                shell = pooled
            } else {
                let vm = try device.createVM()
                shell = VMShell(vm: vm, vcpu: try vm.createVCPU())
            }
            Trace.mark("tender shell")
            if let attached = shell.memory, attached.size == options.memorySize {
                memory = attached
                prepared = true
            } else {
                if let other = shell.memory {
                    try shell.vm.detachMemory()
                    TenderPools.shared.recycleLater(other)
                }
                if pooling, let reused = TenderPools.shared.takeMemory(size: options.memorySize) {
                    memory = reused
                } else {
                    memory = try GuestLayout.makeMemory(size: options.memorySize)
                }
                Trace.mark("tender memory")
                try shell.vm.attach(memory: memory)
            }
        } catch { throw .kvm(error) }
        Trace.mark("tender attached")
        let vcpu = shell.vcpu
        // A guest with an FPGA: the card may still write its memory until the
        // session closes, so that memory is never handed to another guest.
        let session = image.manifest.devices.contains { $0.kind == .fpga }
            ? options.fpga.flatMap { $0.device.open(memory: memory, identity: $0.identity) } : nil
        if image.manifest.devices.contains(where: { $0.kind == .fpga }), session == nil {
            TenderPools.shared.finish(run: shell, memory: memory, device: device, reuseMemory: pooling)
            throw .unsupportedDevice("the FPGA did not finish scrubbing the last instance's memory; it is out of service")
        }
        defer {
            session?.close()
            TenderPools.shared.finish(run: shell, memory: memory, device: device, reuseMemory: pooling && session == nil)
        }

        let bootInfoAddress: UInt64
        do {
            if !prepared { try GuestLayout.writePageTables(into: memory) }
            Trace.mark("tender pagetables")
            for segment in image.segments where segment.fileSize > 0 {
                let target = try memory.bytes(at: segment.address, length: segment.fileSize)
                image.bytes.withUnsafeBytes { file in
                    // Offsets were checked against the file when the image was parsed.
                    target.copyMemory(from: UnsafeRawBufferPointer(
                        rebasing: file[Int(segment.fileOffset)..<Int(segment.fileOffset + segment.fileSize)]))
                }
            }
        } catch { throw .guestMemory(error) }
        Trace.mark("tender segments")
        var random = SystemRandomNumberGenerator()
        let tscKHz = vcpu.tscKHz() ?? Self.calibratedTSCKHz
        bootInfoAddress = try BootInfo(
            memorySize: options.memorySize, stackSize: stackSize,
            arguments: options.arguments, environment: options.environment,
            entry: image.entry, programHeaders: image.programHeaders, tscKHz: tscKHz,
            epochNanoseconds: Self.wallClockNanoseconds(), monotonicNanoseconds: Self.monotonicNanoseconds(),
            random: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) },
            devices: image.manifest.devices, workingDirectory: options.workingDirectory,
            exportsScratch: options.scratchOutput != nil
        ).write(into: memory)

        Trace.mark("tender bootinfo")
        do {
            if !prepared { try vcpu.setLongMode(GuestLayout.longMode) }
            try vcpu.setEntry(rip: image.entry, rsp: options.memorySize, rflags: GuestLayout.initialFlags, rdi: bootInfoAddress)
        } catch { throw .kvm(error) }

        let deadline = start + .nanoseconds(Int64(options.timeoutSeconds * 1e9))
        let context = HypercallContext(
            memory: memory, input: image.manifest.has(.stdin) ? input : nil,
            output: image.manifest.has(.console) ? output : nil,
            outputLimit: options.outputLimit, deadline: deadline, timeoutSeconds: options.timeoutSeconds)
        context.fpga = session
        context.scratchOutput = options.scratchOutput
        context.channel = image.manifest.has(.requests) ? options.channel : nil
        let watchdog = Watchdog(vcpu: vcpu, deadline: deadline)
        context.watchdog = watchdog
        defer { watchdog.cancel() }
        let setup = (ContinuousClock.now - start).wholeNanoseconds
        Trace.mark("tender setup done")
        return try runLoop(vcpu: vcpu, image: image, context: context, watchdog: watchdog,
                           options: options, start: start, setup: setup, tscKHz: tscKHz)
    }

    private func runLoop(vcpu: VCPU, image: ELFImage, context: HypercallContext, watchdog: Watchdog,
                         options: RunOptions, start: ContinuousClock.Instant, setup: UInt64,
                         tscKHz: UInt64) throws(TenderError) -> RunReport {
        var exits = 0
        func report(_ outcome: RunOutcome, tsc: (entry: UInt64, exit: UInt64)? = nil) -> RunReport {
            switch outcome {
            case .crashed, .timedOut, .badHypercall: salvageStdout(image: image, context: context)
            default: break
            }
            Trace.mark("tender report")
            let total = ContinuousClock.now - start
            let guest = tsc.flatMap { RunReport.guestNanoseconds(tsc: $0, tscKHz: tscKHz) }
            logger.debug("guest finished", metadata: ["outcome": "\(outcome)", "exits": "\(exits)"])
            return RunReport(outcome: outcome, vmExits: exits, totalNanoseconds: total.wholeNanoseconds,
                             setupNanoseconds: setup, guestNanoseconds: guest, outputBytes: context.outputBytes)
        }
        while true {
            if watchdog.fired { return report(.timedOut(seconds: options.timeoutSeconds)) }
            let exit: VCPUExit
            do { exit = try vcpu.run() } catch { throw .kvm(error) }
            Trace.mark("tender exit")
            exits += 1
            switch ExitClassifier.classify(exit) {
            case .resume: continue
            case .stopped:
                exits -= 1  // a kick, not a guest exit
                if watchdog.fired { return report(.timedOut(seconds: options.timeoutSeconds)) }
            case .badHypercall(let why): return report(.badHypercall(why))
            case .fault(let reason):
                let regs = try? vcpu.registers()
                let crash = GuestCrash(reason: reason, rip: regs?.rip ?? 0, rsp: regs?.rsp ?? 0,
                                       symbol: regs.flatMap { image.symbol(containing: $0.rip) })
                return report(.crashed(crash))
            case .hypercall(let number, let argument):
                do {
                    switch try context.dispatch(number: number, argument: argument) {
                    case .resume: continue
                    case .finish(let outcome, let tsc): return report(outcome, tsc: tsc)
                    }
                } catch { return report(.badHypercall(error.message)) }
            }
        }
    }

    /// A guest that dies loses what its runtime had gathered for stdout; read
    /// that from guest memory (bounds-checked, within the output limit) and
    /// pass it on, as a Linux process's written output survives its crash.
    func salvageStdout(image: ELFImage, context: HypercallContext) {
        guard let buffer = image.stdoutBuffer, let output = context.output,
              let used = try? context.memory.load(UInt64.self, at: buffer.usedAddress) else { return }
        let count = min(used, buffer.size, context.outputLimit - context.outputBytes)
        guard count > 0, let bytes = try? context.memory.bytes(at: buffer.address, length: count) else { return }
        output.write(fd: 1, UnsafeRawBufferPointer(bytes))
        context.outputBytes += count
    }

    /// Refuses an image that needs a device this tender cannot attach.
    func checkDevices(_ manifest: Manifest, fpga: FPGAAttachment?, channel: (any InvocationChannel)?) throws(TenderError) {
        let wanted = manifest.devices.filter { $0.kind == .fpga }
        if wanted.count > 1 {
            throw .unsupportedDevice("the image names \(wanted.count) FPGAs; an instance gets one")
        }
        if manifest.has(.requests), channel == nil {
            throw .unsupportedDevice("this function is mode: persistent; it serves requests under `kumo serve` (deploy it), not `kumo run`")
        }
        if let device = wanted.first {
            guard let fpga else { throw .unsupportedDevice("\(device.name) (fpga): no FPGA was granted to this run") }
            if let why = fpga.device.unavailable { throw .unsupportedDevice(why) }
            guard !fpga.device.wedged else {
                throw .unsupportedDevice("\(fpga.device.name) is still busy with an earlier guest's kernel; it cannot be granted")
            }
        }
    }

    static func wallClockNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Where KVM cannot tell the TSC rate: measure it once against CLOCK_MONOTONIC.
    static let calibratedTSCKHz: UInt64 = {
        func tsc() -> UInt64 { HostClock.timestampCounter() }
        let t0 = monotonicNanoseconds(), c0 = tsc()
        usleep(20_000)
        let t1 = monotonicNanoseconds(), c1 = tsc()
        return (c1 - c0) * 1_000_000 / max(t1 - t0, 1)
    }()
}

