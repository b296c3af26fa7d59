import Accelerator
import CSandbox
import Foundation
import Functions
import InstanceWire
import KumoSupport
import Logging
import Tender

/// The instance process's side (`kumo instance`): becomes one function's
/// instance, serves its invocations over the frame pipe, then reports what
/// its FPGA holds and exits. One process per instance, so a crash or an
/// exploit stays inside one tenant's process.
public final class InstanceServer {
    let input: Int32
    let output: Int32
    let images: Int32
    let logger: Logger
    var device: (any FPGACard)?
    /// Honour `?kumo_test_hook=` requests (the test suite's way to act as an exploited instance).
    let testHooks: Bool

    public init(input: Int32, output: Int32, images: Int32, logger: Logger, testHooks: Bool = false) {
        self.input = input
        self.output = output
        self.images = images
        self.logger = logger
        self.testHooks = testHooks
    }

    /// A test hook: an instance taken over by its guest would try to reach the
    /// network; the seccomp filter must end the process on the spot.
    func runTestHook(_ environment: [String]) {
        guard testHooks, environment.contains("QUERY_kumo_test_hook=forbidden-syscall") else { return }
        _ = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    }

    /// Encodes and decodes each message once: the first use of the coders in a
    /// process costs far more than later ones, and should not fall on a cold start.
    /// The start carries env and args as real ones do: the process's first String-keyed
    /// dictionary (the hash seed, the generic metadata) cost a cold start ~40 µs.
    public func warmUp() {
        let result = InvokeResult(id: 0, status: .succeeded, code: 0, detail: "", stderr: "", nanoseconds: 0, instanceEnded: false)
        var spec = FunctionSpec(name: "warmup", sources: [])
        spec.env = ["KUMO_WARMUP": "1"]
        spec.args = ["warmup"]
        let config = ImageConfig(spec: spec)
        let start = StartInstance(function: "warmup", config: config,
                                  fpga: FPGAGrantInfo(card: "fpga0", reconfigureNanoseconds: 0, loadedBitstream: nil))
        let messages: [WorkerMessage] = [.start(start), .invoke(InvokeRequest(id: 0, environment: ["A=b"], timeoutSeconds: 1)),
                                         .result(result), .log(LogLine(stream: "stdout", text: "")), .stop,
                                         .stopped(InstanceStopped(loadedBitstream: nil, reconfigurations: 0, wedged: false))]
        for message in messages {
            if let data = try? JSONEncoder().encode(message) { _ = try? JSONDecoder().decode(WorkerMessage.self, from: data) }
            if let binary = BinaryMessages.encode(message) { _ = BinaryMessages.decode(binary) }
        }
    }

    /// The image the node sent with the start: a sealed memfd, copied out and closed
    /// (the instance keeps no descriptor of it).
    func receiveImage() throws(FrameIO.Failure) -> [UInt8] {
        let fd = csb_receive_fd(images)
        Trace.mark("inst image received")
        guard fd >= 0 else { throw fd == -EBADMSG ? .malformed("the node sent no image descriptor") : .io(-fd) }
        defer { close(fd) }
        return try SealedImageDescriptor.bytes(of: fd)
    }

    /// Serves until told to stop or the node goes away; returns the process exit status.
    public func run() -> Int32 {
        var start: StartInstance?
        var bound: (function: String, image: ELFImage)?
        var imageBytes: [UInt8] = []
        while start == nil, let frame = try? FrameIO.read(from: input) {
            switch frame.message {
            case .start(let message):
                if let bound {
                    guard message.function == bound.function else {
                        try? FrameIO.write(.failed("this process is bound to \(bound.function), not \(message.function)"), to: output)
                        return 1
                    }
                } else {
                    do { imageBytes = try receiveImage() } catch {
                        try? FrameIO.write(.failed("\(error)"), to: output)
                        return 1
                    }
                }
                start = message
            case .prepare(let hint):
                Tender.prepare(memorySize: hint.memorySize)
                if hint.openCL { EmulatorPrestart.begin() }
            case .bind(let binding) where bound == nil:
                do {
                    let image = try ELFImage(bytes: try receiveImage())
                    bound = (binding.function, image)
                    Trace.mark("inst bound")
                    Tender.prepare(memorySize: binding.config.memory)
                    EmulatorPrestart.begin()
                    if let path = binding.config.env["KUMO_BITSTREAM"], let xclbin = image.carriedFile(path) {
                        EmulatorPrestart.prepare(xclbin: xclbin)
                    }
                } catch {
                    try? FrameIO.write(.failed("\(error)"), to: output)
                    return 1
                }
            default:
                logger.error("instance: the node sent something other than a prepare, one bind, or a start first")
                return 2
            }
        }
        guard let start else { return 2 }  // the node went away
        Trace.mark("inst start decoded")
        let image: ELFImage
        var options = start.config.runOptions(arguments: nil)
        do {
            image = try bound?.image ?? ELFImage(bytes: imageBytes)
            if let grant = start.fpga, let identity = start.config.fpga {
                let fpga: any FPGACard = try grant.pciCard.map {
                    PCIPassthroughCard(name: grant.card, hardware: $0, fabricHolds: grant.loadedBitstream)
                } ?? EmulatedFPGA(name: grant.card, reconfigureCost: .nanoseconds(grant.reconfigureNanoseconds),
                                  fabricHolds: grant.loadedBitstream, logger: logger)
                device = fpga
                options.fpga = FPGAAttachment(device: fpga, identity: identity)
                // Its bitstream loads while the guest boots (or, for a pre-warm, before the request;
                // in a bound process its program is built already).
                if let path = start.config.env["KUMO_BITSTREAM"], let xclbin = image.carriedFile(path) { fpga.preload(xclbin: xclbin) }
            }
        } catch {
            try? FrameIO.write(.failed("\(error)"), to: output)
            return 1
        }
        Trace.mark("inst image loaded")
        let tender = Tender(logger: logger)
        logger.debug("instance started", metadata: ["function": "\(start.function)", "image bytes": "\(imageBytes.count)"])
        switch start.config.mode {
        case .run: serveRuns(tender: tender, image: image, options: options, tearDownRuns: !start.stopsAfterRequest)
        case .persistent: servePersistent(tender: tender, image: image, options: options)
        }
        let stopped = InstanceStopped(loadedBitstream: device?.loadedBitstream, reconfigurations: device?.reconfigurations ?? 0,
                                      wedged: device.map { !$0.settle(patience: Self.cardPatience) } ?? false)
        try? FrameIO.write(.stopped(stopped), to: output)
        return 0
    }

    /// mode: run — a fresh boot per invocation; the body is stdin, stdout the response.
    /// `tearDownRuns`: free each run's VM and memory (and make a spare) once its answer
    /// is out; false when the process ends after one request and its exit frees them.
    func serveRuns(tender: Tender, image: ELFImage, options base: RunOptions, tearDownRuns: Bool) {
        while let frame = try? FrameIO.read(from: input) {
            guard case .invoke(let request) = frame.message else { return }
            Trace.mark("inst invoke decoded")
            runTestHook(request.environment)
            var options = base
            options.environment += request.environment
            options.timeoutSeconds = request.timeoutSeconds
            let captured = CapturedOutput()
            let result: InvokeResult
            var stdout: [UInt8] = []
            Tender.holdTeardowns()
            defer { if tearDownRuns { Tender.releaseTeardowns() } }
            do {
                let cpu = ThreadCPUClock.now()
                let report = try tender.run(image: image, options: options, input: BytesInput(frame.blob), output: captured)
                stdout = captured.stdout
                var ran = Self.result(id: request.id, report.outcome, nanoseconds: report.totalNanoseconds,
                                      stderr: captured.stderrText, ended: cardLost(after: report.outcome))
                ran.cpuNanoseconds = ThreadCPUClock.now() &- cpu
                result = ran
            } catch {
                result = InvokeResult(id: request.id, status: .bootFailed, code: 1, detail: "\(error)",
                                      stderr: "", nanoseconds: 0, instanceEnded: cardUnusable)
            }
            Trace.mark("inst ran")
            guard (try? FrameIO.write(.result(result), blob: stdout, to: output)) != nil, !result.instanceEnded else { return }
            Trace.mark("inst result written")
        }
    }

    /// mode: persistent — one boot; requests arrive through kumo_next_request().
    func servePersistent(tender: Tender, image: ELFImage, options base: RunOptions) {
        var options = base
        let channel = FrameChannel(input: input, output: output, baseEnvironment: base.environment)
        options.channel = channel
        let report: RunReport
        do {
            report = try tender.run(image: image, options: options, input: nil, output: LogOutput(output: output))
        } catch {
            let message = "\(error)"
            if let id = channel.openRequest {
                let failed = InvokeResult(id: id, status: .bootFailed, code: 1, detail: message, stderr: "",
                                          nanoseconds: 0, instanceEnded: true)
                try? FrameIO.write(.result(failed), to: output)
            } else {
                try? FrameIO.write(.failed(message), to: output)
            }
            return
        }
        // The guest ended: a request it held gets the run's outcome.
        if let id = channel.openRequest {
            var result = Self.result(id: id, report.outcome, nanoseconds: report.totalNanoseconds, stderr: "", ended: true)
            if case .exited = report.outcome {
                result.status = .failed
                result.detail = "the function exited (\(report.outcome)) without answering the request"
            }
            try? FrameIO.write(.result(result), to: output)
        } else if !channel.stopRequested {
            try? FrameIO.write(.failed("the function exited: \(report.outcome)"), to: output)
        }
    }

    /// How long a card's worker may take to finish a session's cleanup before the card counts as wedged.
    static let cardPatience: TimeInterval = 2

    /// Whether this instance's card is gone: after a run that timed out, its worker must come
    /// back within `cardPatience` (a guest that only waited on its own unset user event
    /// leaves a card that does; a kernel that never ends, one that does not).
    func cardLost(after outcome: RunOutcome) -> Bool {
        guard let device else { return false }
        if case .timedOut = outcome { return !device.settle(patience: Self.cardPatience) }
        return cardUnusable
    }

    /// The card is wedged, or no guest can use it (a real card without a backend): the
    /// instance ends, and the node gets the card back.
    var cardUnusable: Bool { device.map { $0.wedged || $0.unavailable != nil } ?? false }

    static func result(id: UInt64, _ outcome: RunOutcome, nanoseconds: UInt64, stderr: String, ended: Bool) -> InvokeResult {
        let status: InvocationStatus
        switch outcome {
        case .exited(let code): status = code == 0 ? .succeeded : .failed
        case .timedOut: status = .timedOut
        default: status = .failed
        }
        return InvokeResult(id: id, status: status, code: outcome.exitCode, detail: outcome.description,
                            stderr: String(stderr.prefix(64 << 10)), nanoseconds: nanoseconds, instanceEnded: ended)
    }
}

/// Persistent mode's request source: invoke frames in, result frames out.
final class FrameChannel: InvocationChannel, @unchecked Sendable {
    let input: Int32
    let output: Int32
    let baseEnvironment: [String]
    /// Only the vCPU thread touches these.
    var openRequest: UInt64?
    var stopRequested = false
    var started = ContinuousClock.now
    var startedCPU: UInt64 = 0

    init(input: Int32, output: Int32, baseEnvironment: [String]) {
        self.input = input
        self.output = output
        self.baseEnvironment = baseEnvironment
    }

    func respond(_ response: GuestResponse) {
        guard let id = openRequest else { return }
        openRequest = nil
        let result = InvokeResult(
            id: id, status: response.status == 0 ? .succeeded : .failed, code: response.status,
            detail: response.status == 0 ? "responded" : "responded with status \(response.status)",
            stderr: "", nanoseconds: (ContinuousClock.now - started).wholeNanoseconds, instanceEnded: false,
            cpuNanoseconds: ThreadCPUClock.now() &- startedCPU)
        try? FrameIO.write(.result(result), blob: response.body, to: output)
    }

    func next() -> GuestRequest? {
        guard let frame = try? FrameIO.read(from: input), case .invoke(let request) = frame.message else {
            stopRequested = true
            return nil
        }
        openRequest = request.id
        started = ContinuousClock.now
        startedCPU = ThreadCPUClock.now()
        return GuestRequest(body: frame.blob, environment: request.environment,
                            timeoutSeconds: request.timeoutSeconds)
    }
}

/// Persistent mode's console: every write becomes a log frame for `kumo logs`.
final class LogOutput: GuestOutput {
    let output: Int32
    init(output: Int32) { self.output = output }
    func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        let line = LogLine(stream: fd == 2 ? "stderr" : "stdout", text: String(decoding: bytes, as: UTF8.self))
        try? FrameIO.write(.log(line), to: output)
    }
}

/// CPU time of the calling thread (the vCPU's: guest time included, since the guest runs
/// inside its KVM_RUN call).
enum ThreadCPUClock {
    static func now() -> UInt64 {
        var now = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0 else { return 0 }
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
