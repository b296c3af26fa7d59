import Dispatch

/// The host's OpenCL runtime started while a pooled instance process waits for its start
/// (PoCL's start is ~30 ms of a cold FPGA instance): the node asks for it when FPGA
/// functions are deployed. It holds no tenant's data, unless the node bound the process to one
/// function (`prepare`); the instance that starts takes it.
public enum EmulatorPrestart {
    private static let queue = DispatchQueue(label: "kumo.opencl-prestart")
    /// Touched only on `queue`, which orders every read and write of it.
    nonisolated(unsafe) private static var started: Result<EmulatorBackend, FPGAError>?

    /// Starts the runtime in the background (once; later calls do nothing).
    public static func begin() {
        queue.async {
            guard started == nil else { return }
            started = Result { () throws(FPGAError) in try EmulatorBackend() }
        }
    }

    /// Builds the program of a bitstream the process's function will load (a pooled process
    /// bound to that function), once the runtime is started. Checked as a guest's own load is.
    public static func prepare(xclbin: ArraySlice<UInt8>) {
        guard UInt64(xclbin.count) <= FPGASession<EmulatorBackend>.maxBitstreamBytes else { return }
        let bytes = Array(xclbin)
        queue.async {
            guard case .success(let backend) = started, let bitstream = try? Bitstream(bytes: bytes),
                  bitstream.target == backend.target else { return }
            backend.prepare(payload: bitstream.payload)
        }
    }

    /// The runtime started ahead, waiting for it if it is still starting; nil if none was
    /// asked for or it failed (the caller starts one itself and reports that error).
    static func take() -> EmulatorBackend? {
        queue.sync {
            defer { started = nil }
            return try? started?.get()
        }
    }
}
