import Functions

/// What the node tells an instance process to become. The image comes just
/// before it, as a sealed memfd on the instance's image socket: a sandboxed
/// instance reads no file of the node's.
public struct StartInstance: Codable, Sendable {
    public var function: String
    public var config: ImageConfig
    public var fpga: FPGAGrantInfo?
    /// Keep-alive 0: the node stops the instance after one request, so a run's
    /// teardown is left to the process's exit instead of following the answer.
    public var stopsAfterRequest = false

    package init(function: String, config: ImageConfig, fpga: FPGAGrantInfo?, stopsAfterRequest: Bool = false) {
        self.function = function
        self.config = config
        self.fpga = fpga
        self.stopsAfterRequest = stopsAfterRequest
    }
}

/// Sent to a pre-started process before its start: a guest memory size that a
/// cold start may soon ask for, so its spare VM's memory is ready, and whether an
/// FPGA function may be next, so the host's OpenCL runtime is started too. No
/// more: a pooled process holds no tenant's data until its start.
public struct PrepareInstance: Codable, Sendable, Equatable {
    public var memorySize: UInt64
    public var openCL: Bool

    public init(memorySize: UInt64, openCL: Bool = false) {
        self.memorySize = memorySize
        self.openCL = openCL
    }
}

/// Sent to a pooled process that the node dedicates to one FPGA function ahead of its next
/// cold start; the function's image follows on the image socket, as for a start. While it
/// waits, the process reads the image, readies memory of its size, starts the host's OpenCL
/// runtime and builds the program of the bitstream the image carries. The node keeps such a
/// process apart and starts it only as that function's instance, with no image (it has it).
public struct BindInstance: Codable, Sendable {
    public var function: String
    public var config: ImageConfig

    package init(function: String, config: ImageConfig) {
        self.function = function
        self.config = config
    }
}

/// The card an instance was granted, and what its fabric still holds.
public struct FPGAGrantInfo: Codable, Sendable {
    public var card: String
    public var reconfigureNanoseconds: Int64
    public var loadedBitstream: String?
    /// A real card's model and PCI address; nil for an emulated card.
    public var pciCard: String?

    package init(card: String, reconfigureNanoseconds: Int64, loadedBitstream: String?, pciCard: String? = nil) {
        self.card = card
        self.reconfigureNanoseconds = reconfigureNanoseconds
        self.loadedBitstream = loadedBitstream
        self.pciCard = pciCard
    }
}

/// One invocation; the body travels as the frame's blob.
public struct InvokeRequest: Codable, Sendable {
    public var id: UInt64
    public var environment: [String]
    public var timeoutSeconds: Double

    package init(id: UInt64, environment: [String], timeoutSeconds: Double) {
        self.id = id
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
    }
}

/// How an invocation ended, as the gateway maps it to HTTP.
public enum InvocationStatus: String, Codable, Sendable {
    /// Exit status 0 (run) or response status 0 (persistent).
    case succeeded
    /// A non-zero exit or response status, a crash, a signal, a broken limit.
    case failed
    case timedOut
    /// The image could not be booted at all.
    case bootFailed
}

/// The answer to one InvokeRequest; stdout (run) or the response (persistent) is the blob.
public struct InvokeResult: Codable, Sendable {
    public var id: UInt64
    public var status: InvocationStatus
    /// The guest's exit status (run), response status (persistent), or kumo run's code for a failure.
    public var code: Int32
    public var detail: String
    public var stderr: String
    public var nanoseconds: UInt64
    /// The instance is gone after this (persistent guest exited, crashed or timed out).
    public var instanceEnded: Bool
    /// CPU time the guest's vCPU thread got over `nanoseconds` (0: not measured): their ratio
    /// says how much its node's CPU is shared, whatever the request's length.
    public var cpuNanoseconds: UInt64 = 0

    package init(id: UInt64, status: InvocationStatus, code: Int32, detail: String, stderr: String, nanoseconds: UInt64,
                 instanceEnded: Bool, cpuNanoseconds: UInt64 = 0) {
        self.id = id
        self.status = status
        self.code = code
        self.detail = detail
        self.stderr = stderr
        self.nanoseconds = nanoseconds
        self.instanceEnded = instanceEnded
        self.cpuNanoseconds = cpuNanoseconds
    }
}

/// An instance's console line, for `kumo logs` (persistent mode and run-mode stderr).
public struct LogLine: Codable, Sendable {
    public var stream: String
    public var text: String

    package init(stream: String, text: String) {
        self.stream = stream
        self.text = text
    }
}

/// Sent when an instance stops: what its FPGA (if any) now holds.
public struct InstanceStopped: Codable, Sendable {
    public var loadedBitstream: String?
    public var reconfigurations: Int
    public var wedged: Bool

    package init(loadedBitstream: String?, reconfigurations: Int, wedged: Bool) {
        self.loadedBitstream = loadedBitstream
        self.reconfigurations = reconfigurations
        self.wedged = wedged
    }
}

public enum WorkerMessage: Codable, Sendable {
    case prepare(PrepareInstance)
    case bind(BindInstance)
    case start(StartInstance)
    case invoke(InvokeRequest)
    case stop
    case result(InvokeResult)
    case log(LogLine)
    case stopped(InstanceStopped)
    case failed(String)
}
