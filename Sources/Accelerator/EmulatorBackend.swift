import COpenCL
import Foundation
import KumoSupport

/// The emulated FPGA: kernels run on the host's OpenCL runtime (PoCL on the
/// CPU, through ocl-icd), like Xilinx's sw_emu. Each handle class releases its
/// OpenCL object when the device model drops it.
public final class EmulatorBackend: FPGABackend {
    public final class Queue { let handle: cl_command_queue; init(_ h: cl_command_queue) { handle = h }; deinit { clReleaseCommandQueue(handle) } }
    public final class Buffer { let handle: cl_mem; init(_ h: cl_mem) { handle = h }; deinit { clReleaseMemObject(handle) } }
    public final class Program { let handle: cl_program; init(_ h: cl_program) { handle = h }; deinit { clReleaseProgram(handle) } }
    public final class Kernel {
        let handle: cl_kernel
        /// What each argument was last set to: a launch sets only what changed.
        var bound: [BoundArgument?] = []
        init(_ h: cl_kernel) { handle = h }
        deinit { clReleaseKernel(handle) }
    }
    enum BoundArgument: Equatable { case buffer(UInt), local(UInt32), value([UInt8]) }
    public final class Event { let handle: cl_event; init(_ h: cl_event) { handle = h }; deinit { clReleaseEvent(handle) } }

    let context: cl_context
    let device: cl_device_id
    public let target: String

    /// Device memory at least this large lives in pages mapped for it (the kernel's
    /// zeroed pages), never in reused heap memory: see `allocate`.
    public static let freshPagesThreshold: UInt64 = 256 << 10

    /// Opens the host's first OpenCL device (PoCL's CPU device on these machines).
    public init() throws(FPGAError) {
        var count: cl_uint = 0
        guard clGetPlatformIDs(0, nil, &count) == CL_SUCCESS, count > 0 else {
            throw FPGAError(CL_DEVICE_NOT_AVAILABLE, "the FPGA emulator needs the host's OpenCL runtime: apt-get install -y pocl-opencl-icd ocl-icd-libopencl1")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        try FPGAError.check(clGetPlatformIDs(count, &platforms, nil), "clGetPlatformIDs")
        var found: cl_device_id?
        for case let platform? in platforms {
            var d: cl_device_id?
            if clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 1, &d, nil) == CL_SUCCESS, d != nil { found = d; break }
        }
        guard let device = found else { throw FPGAError(CL_DEVICE_NOT_AVAILABLE, "the host's OpenCL runtime lists no device") }
        var status: cl_int = 0
        var d: cl_device_id? = device
        guard let context = clCreateContext(nil, 1, &d, nil, nil, &status), status == CL_SUCCESS else {
            throw FPGAError(status, "clCreateContext on the host")
        }
        self.device = device
        self.context = context
        let name = Self.deviceString(device, cl_device_info(CL_DEVICE_NAME))
        self.target = "pocl:" + (name.split(separator: "-").prefix(2).joined(separator: "-"))
    }

    deinit { clReleaseContext(context) }

    static func deviceString(_ device: cl_device_id, _ param: cl_device_info) -> String {
        var size = 0
        guard clGetDeviceInfo(device, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard clGetDeviceInfo(device, param, size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func deviceValue<T: FixedWidthInteger>(_ param: cl_device_info, as: T.Type) -> T {
        var value: T = 0
        _ = clGetDeviceInfo(device, param, MemoryLayout<T>.size, &value, nil)
        return value
    }

    /// The host device's limits, which an emulated FPGA must not promise beyond.
    public var hostLimits: (maxWorkGroup: UInt64, maxItems: [UInt64], localMemory: UInt64, maxAlloc: UInt64) {
        var items = [Int](repeating: 0, count: 3)
        _ = clGetDeviceInfo(device, cl_device_info(CL_DEVICE_MAX_WORK_ITEM_SIZES), 3 * 8, &items, nil)
        return (UInt64(deviceValue(cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE), as: Int.self)),
                items.map { UInt64($0) },
                deviceValue(cl_device_info(CL_DEVICE_LOCAL_MEM_SIZE), as: UInt64.self),
                deviceValue(cl_device_info(CL_DEVICE_MAX_MEM_ALLOC_SIZE), as: UInt64.self))
    }

    public func makeQueue(profiling: Bool, outOfOrder: Bool) throws(FPGAError) -> Queue {
        var properties: cl_command_queue_properties = 0
        if profiling { properties |= cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE) }
        if outOfOrder { properties |= cl_command_queue_properties(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) }
        var list: [cl_queue_properties] = [cl_queue_properties(CL_QUEUE_PROPERTIES), cl_queue_properties(properties), 0]
        var status: cl_int = 0
        guard let q = clCreateCommandQueueWithProperties(context, device, &list, &status), status == CL_SUCCESS else {
            throw FPGAError(status, "creating a command queue")
        }
        return Queue(q)
    }

    static func flags(_ access: BufferAccess) -> cl_mem_flags {
        switch access {
        case .readWrite: cl_mem_flags(CL_MEM_READ_WRITE)
        case .readOnly: cl_mem_flags(CL_MEM_READ_ONLY)
        case .writeOnly: cl_mem_flags(CL_MEM_WRITE_ONLY)
        }
    }

    /// A large buffer gets pages mapped for it, zeroed by the kernel, so a guest never reads what
    /// the process left in its heap (malloc would serve it from a kept, reused heap); smaller
    /// buffers come from the runtime and are zero-filled by the device model.
    public func allocate(bytes: UInt64, access: BufferAccess) throws(FPGAError) -> Buffer {
        var status: cl_int = 0
        guard bytes >= Self.freshPagesThreshold else {
            guard let m = clCreateBuffer(context, Self.flags(access), Int(bytes), nil, &status), status == CL_SUCCESS else {
                throw FPGAError(status == CL_SUCCESS ? CL_MEM_OBJECT_ALLOCATION_FAILURE : status, "allocating \(bytes) bytes of device memory")
            }
            return Buffer(m)
        }
        let pages = try FreshPages(bytes: Int(bytes))
        guard let m = clCreateBuffer(context, Self.flags(access) | cl_mem_flags(CL_MEM_USE_HOST_PTR), Int(bytes), pages.address, &status),
              status == CL_SUCCESS else {
            throw FPGAError(status == CL_SUCCESS ? CL_MEM_OBJECT_ALLOCATION_FAILURE : status, "allocating \(bytes) bytes of device memory")
        }
        // Unmapped when the runtime destroys the buffer: commands still queued may use it after our release.
        let owner = Unmanaged.passRetained(pages).toOpaque()
        guard clSetMemObjectDestructorCallback(m, { _, owner in
            // owner: the retained FreshPages passed below, released exactly once here.
            if let owner { Unmanaged<FreshPages>.fromOpaque(owner).release() }
        }, owner) == CL_SUCCESS else {
            clReleaseMemObject(m)  // nothing was queued on it yet: the runtime is done with it
            Unmanaged<FreshPages>.fromOpaque(owner).release()
            throw FPGAError(CL_OUT_OF_RESOURCES, "registering the release of \(bytes) bytes of device memory")
        }
        return Buffer(m)
    }

    /// Anonymous pages that back one large buffer, unmapped when the last owner lets go.
    final class FreshPages {
        let address: UnsafeMutableRawPointer
        let bytes: Int

        init(bytes: Int) throws(FPGAError) {
            let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let mapped, mapped != MAP_FAILED else {
                throw FPGAError(CL_MEM_OBJECT_ALLOCATION_FAILURE, "mapping \(bytes) bytes of device memory: \(String(cString: strerror(errno)))")
            }
            address = mapped
            self.bytes = bytes
        }

        deinit { munmap(address, bytes) }
    }

    public func region(of buffer: Buffer, offset: UInt64, bytes: UInt64, access: BufferAccess) throws(FPGAError) -> Buffer {
        var region = cl_buffer_region(origin: Int(offset), size: Int(bytes))
        var status: cl_int = 0
        guard let m = clCreateSubBuffer(buffer.handle, Self.flags(access), cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION),
                                        &region, &status), status == CL_SUCCESS else {
            throw FPGAError(status, "a sub-buffer at \(offset) of \(bytes) bytes")
        }
        return Buffer(m)
    }

    public func scrub(_ buffer: Buffer, bytes: UInt64, on queue: Queue) throws(FPGAError) {
        var zero: UInt8 = 0
        try FPGAError.check(clEnqueueFillBuffer(queue.handle, buffer.handle, &zero, 1, 0, Int(bytes), 0, nil, nil),
                            "scrubbing device memory")
    }

    /// Programs built ahead, by payload, in a pooled process bound to one FPGA function
    /// (`EmulatorPrestart.prepare`): the card's load at the instance's start takes its own.
    private var prepared: [(payload: [UInt8], program: Program)] = []

    /// Builds a bitstream's program ahead; a payload the runtime refuses is left for the guest's own load to report.
    func prepare(payload: [UInt8]) {
        guard !prepared.contains(where: { $0.payload == payload }), let program = try? load(payload: payload) else { return }
        prepared.append((payload, program))
    }

    public func configure(payload: [UInt8]) throws(FPGAError) -> Program {
        if let program = prepared.first(where: { $0.payload == payload })?.program {
            Trace.mark("fpga program built ahead")
            return program
        }
        return try load(payload: payload)
    }

    private func load(payload: [UInt8]) throws(FPGAError) -> Program {
        var status: cl_int = 0, binaryStatus: cl_int = 0
        var d: cl_device_id? = device
        var length = payload.count
        let program = payload.withUnsafeBufferPointer { raw -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = raw.baseAddress
            return clCreateProgramWithBinary(context, 1, &d, &length, &pointer, &binaryStatus, &status)
        }
        guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
            throw .invalidBinary("the emulator refused the bitstream's payload (status \(status)/\(binaryStatus)); rebuild it with `kumo xclbin build` on this machine")
        }
        let wrapped = Program(program)
        guard clBuildProgram(program, 1, &d, nil, nil, nil) == CL_SUCCESS else {
            throw .invalidBinary("the bitstream's payload did not load: \(log(of: wrapped))")
        }
        return wrapped
    }

    public func build(source: String, options: String) -> (program: Program?, log: String, status: Int32) {
        var status: cl_int = 0
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
        }
        guard let program, status == CL_SUCCESS else { return (nil, "the source was refused (status \(status))", status) }
        let wrapped = Program(program)
        var d: cl_device_id? = device
        // The device model checks every launch against the kernels' signatures, so it needs them.
        let all = options.contains("-cl-kernel-arg-info") ? options : options + " -cl-kernel-arg-info"
        let built = all.withCString { clBuildProgram(program, 1, &d, $0, nil, nil) }
        let log = log(of: wrapped)
        return (built == CL_SUCCESS ? wrapped : nil, log, built)
    }

    func log(of program: Program) -> String {
        var size = 0
        guard clGetProgramBuildInfo(program.handle, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size) == CL_SUCCESS,
              size > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: size)
        _ = clGetProgramBuildInfo(program.handle, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    public func payload(of program: Program) throws(FPGAError) -> [UInt8] {
        var size = 0
        try FPGAError.check(clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), 8, &size, nil), "binary size")
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { raw -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = raw.baseAddress
            return clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARIES), 8, &pointer, nil)
        }
        try FPGAError.check(status, "reading the program's binary")
        return bytes
    }

    public func kernelNames(in program: Program) throws(FPGAError) -> [String] {
        var size = 0
        try FPGAError.check(clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_KERNEL_NAMES), 0, nil, &size), "kernel names")
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        try FPGAError.check(clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_KERNEL_NAMES), size, &bytes, nil), "kernel names")
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).split(separator: ";").map(String.init)
    }

    public func kernel(_ name: String, in program: Program) throws(FPGAError) -> (Kernel, KernelLimits) {
        var status: cl_int = 0
        guard let k = clCreateKernel(program.handle, name, &status), status == CL_SUCCESS else {
            throw FPGAError(status == CL_SUCCESS ? CL_INVALID_KERNEL_NAME : status, "no kernel \(name) in the program")
        }
        func value(_ p: Int32) -> UInt64 {
            var v = 0
            _ = clGetKernelWorkGroupInfo(k, device, cl_kernel_work_group_info(p), 8, &v, nil)
            return UInt64(v)
        }
        var compile = [Int](repeating: 0, count: 3)
        _ = clGetKernelWorkGroupInfo(k, device, cl_kernel_work_group_info(CL_KERNEL_COMPILE_WORK_GROUP_SIZE), 24, &compile, nil)
        var local: cl_ulong = 0, priv: cl_ulong = 0
        _ = clGetKernelWorkGroupInfo(k, device, cl_kernel_work_group_info(CL_KERNEL_LOCAL_MEM_SIZE), 8, &local, nil)
        _ = clGetKernelWorkGroupInfo(k, device, cl_kernel_work_group_info(CL_KERNEL_PRIVATE_MEM_SIZE), 8, &priv, nil)
        let limits = KernelLimits(workGroupSize: value(CL_KERNEL_WORK_GROUP_SIZE), compileWorkGroupSize: compile.map { UInt64($0) },
                                  localMemory: local, privateMemory: priv,
                                  preferredMultiple: value(CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE))
        return (Kernel(k), limits)
    }

    public func signature(of kernel: Kernel, name: String) throws(FPGAError) -> KernelSignature {
        var count: cl_uint = 0
        try FPGAError.check(clGetKernelInfo(kernel.handle, cl_kernel_info(CL_KERNEL_NUM_ARGS), 4, &count, nil), "argument count")
        guard count <= 64 else { throw FPGAError(CL_INVALID_KERNEL, "kernel \(name) has \(count) arguments; at most 64 are supported") }
        var arguments: [KernelSignature.Argument] = []
        for i in 0..<count {
            func string(_ p: Int32) -> String {
                var bytes = [UInt8](repeating: 0, count: 256)
                guard clGetKernelArgInfo(kernel.handle, i, cl_kernel_arg_info(p), 256, &bytes, nil) == CL_SUCCESS else { return "" }
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            func number(_ p: Int32) -> UInt64 {
                var v: UInt64 = 0
                _ = clGetKernelArgInfo(kernel.handle, i, cl_kernel_arg_info(p), 8, &v, nil)
                return v
            }
            let address = Int32(truncatingIfNeeded: number(CL_KERNEL_ARG_ADDRESS_QUALIFIER))
            let kind: KernelSignature.Argument.Kind = switch address {
            case CL_KERNEL_ARG_ADDRESS_GLOBAL: .global
            case CL_KERNEL_ARG_ADDRESS_CONSTANT: .constant
            case CL_KERNEL_ARG_ADDRESS_LOCAL: .local
            default: .value
            }
            let type = string(CL_KERNEL_ARG_TYPE_NAME)
            arguments.append(KernelSignature.Argument(
                name: String(string(CL_KERNEL_ARG_NAME).prefix(63)), typeName: String(type.prefix(63)), kind: kind,
                size: kind == .value ? KernelSignature.size(ofType: type) : 8,
                access: UInt32(truncatingIfNeeded: number(CL_KERNEL_ARG_ACCESS_QUALIFIER)),
                typeQualifier: UInt32(truncatingIfNeeded: number(CL_KERNEL_ARG_TYPE_QUALIFIER))))
        }
        return KernelSignature(name: name, arguments: arguments)
    }
}
