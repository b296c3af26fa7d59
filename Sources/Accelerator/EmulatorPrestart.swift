import Dispatch

/// The host's OpenCL runtime started while a pooled instance process waits for its start
/// (PoCL's start is ~30 ms of a cold FPGA instance): the node asks for it when FPGA
/// functions are deployed. It holds no tenant's data; the instance that starts takes it.
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

    /// The runtime started ahead, waiting for it if it is still starting; nil if none was
    /// asked for or it failed (the caller starts one itself and reports that error).
    static func take() -> EmulatorBackend? {
        queue.sync {
            defer { started = nil }
            return try? started?.get()
        }
    }
}
