import Dispatch

/// The host's OpenCL runtime started while a pooled instance process waits for its start
/// (PoCL's start is ~30 ms of a cold FPGA instance): the node asks for it when FPGA
/// functions are deployed. It holds no tenant's data, unless the node bound the process to one
/// function (`prepare`); the instance that starts takes it.
public enum EmulatorPrestart {
    private static let queue = DispatchQueue(label: "kumo.opencl-prestart")
    /// Touched only on `queue`, which orders every read and write of them.
    nonisolated(unsafe) private static var started: Result<EmulatorBackend, FPGAError>?
    nonisolated(unsafe) private static var worker: FPGAWorker?

    /// Starts the runtime in the background (once; later calls do nothing), with what else an
    /// emulated card's first use in a process costs: its worker thread (~130 µs here) and the
    /// card type's generic metadata and conformances (~110 µs).
    public static func begin() {
        queue.async {
            guard started == nil else { return }
            started = Result { () throws(FPGAError) in try EmulatorBackend() }
            worker = FPGAWorker(name: "kumo.fpga")
            let card: any FPGACard.Type = EmulatedFPGA.self
            _ = ObjectIdentifier(card)
        }
    }

    /// Builds the program of a bitstream the process's function will load (a pooled process
    /// bound to that function), once the runtime is started. Checked as a guest's own load is.
    public static func prepare(xclbin: ArraySlice<UInt8>) {
        guard UInt64(xclbin.count) <= FPGASession<EmulatorBackend>.maxBitstreamBytes else { return }
        let bytes = Array(xclbin)
        queue.async {
            guard case .success(let backend) = started, let bitstream = try? Bitstream.parsed(bytes),
                  bitstream.target == backend.target else { return }
            backend.prepare(payload: bitstream.payload)
        }
    }

    /// The runtime (and the card's worker) started ahead, waiting for them if they are still
    /// starting; nil if none was asked for or it failed (the caller starts one itself and
    /// reports that error).
    static func take() -> (backend: EmulatorBackend, worker: FPGAWorker?)? {
        queue.sync {
            defer { (started, worker) = (nil, nil) }
            return (try? started?.get()).map { ($0, worker) }
        }
    }
}
