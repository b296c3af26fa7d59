import CKumoABI
import COpenCL

/// Bitstreams, programs from source, kernels and their launches.
extension FPGASession {
    static var maxBitstreamBytes: UInt64 { 256 << 20 }
    static var maxSourceBytes: UInt64 { 16 << 20 }

    func configure(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_program.self)
        try claim(p.id, in: programs, "program")
        guard p.length <= Self.maxBitstreamBytes else {
            throw .invalidBinary("an xclbin of \(p.length) bytes; the most is \(Self.maxBitstreamBytes)")
        }
        let bytes = Array(UnsafeRawBufferPointer(try guestBytes(p.data, p.length)))
        do {
            let bitstream = try Bitstream.parsed(bytes)
            let program = try device.configure(bitstream, deadline: deadline)
            let log = "loaded bitstream \(bitstream.xclbin.uuidString) (\(bitstream.kernels.map(\.name).joined(separator: ", ")))"
            programs[p.id] = Program(program: program, bitstream: bitstream, log: log)
            writeLog(log, p.log, p.log_length)
        } catch {
            writeLog(error.message, p.log, p.log_length)
            throw error
        }
    }

    func programSource(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_program.self)
        try claim(p.id, in: programs, "program")
        guard p.length > 0, p.length <= Self.maxSourceBytes else { throw .invalidValue("program source of \(p.length) bytes") }
        let bytes = try guestBytes(p.data, p.length)
        guard let source = String(validating: bytes, as: UTF8.self) else { throw .invalidValue("program source is not UTF-8") }
        programs[p.id] = Program(source: source)
    }

    func build(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_program.self)
        guard var entry = programs[p.id] else { throw FPGAError(CL_INVALID_PROGRAM, "no program \(p.id)") }
        guard entry.kernels == 0 else { throw FPGAError(CL_INVALID_OPERATION, "program \(p.id) has kernels attached") }
        guard let source = entry.source else { return }   // a bitstream is built already
        guard p.length <= 64 << 10 else { throw FPGAError(CL_INVALID_BUILD_OPTIONS, "build options of \(p.length) bytes") }
        let options = p.length == 0 ? "" : String(decoding: try guestBytes(p.data, p.length), as: UTF8.self)
        let (program, log, status) = device.backend.build(source: source, options: options)
        entry.program = program
        entry.log = log
        programs[p.id] = entry
        writeLog(log, p.log, p.log_length)
        guard program != nil else {
            throw FPGAError(status == CL_INVALID_BUILD_OPTIONS ? status : CL_BUILD_PROGRAM_FAILURE, "the program did not build")
        }
    }

    /// Copies a NUL-terminated log into the guest's buffer, truncated to fit; ignores a bad buffer.
    func writeLog(_ log: String, _ address: UInt64, _ length: UInt64) {
        guard length > 0, let target = try? guestBytes(address, min(length, 1 << 20)) else { return }
        let bytes = Array(log.utf8.prefix(target.count - 1)) + [0]
        target.copyBytes(from: bytes)
    }

    func programInfo(_ c: Command) throws(FPGAError) {
        var q = try payload(c, kumo_fpga_query.self)
        guard let entry = programs[q.id] else { throw FPGAError(CL_INVALID_PROGRAM, "no program \(q.id)") }
        let text: String
        switch q.param {
        case KUMO_FPGA_PROGRAM_KERNEL_NAMES.rawValue:
            guard let program = entry.program else { throw FPGAError(CL_INVALID_PROGRAM_EXECUTABLE, "program \(q.id) is not built") }
            text = try device.backend.kernelNames(in: program).joined(separator: ";")
        case KUMO_FPGA_PROGRAM_BUILD_LOG.rawValue: text = entry.log
        default: throw .invalidValue("program query \(q.param)")
        }
        q.needed = UInt64(text.utf8.count + 1)
        if q.reply_length > 0 { writeLog(text, q.reply, q.reply_length) }
        try store(q, at: c.payloadAddress)
    }

    func createKernel(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_kernel.self)
        try claim(p.id, in: kernels, "kernel")
        guard let entry = programs[p.program] else { throw FPGAError(CL_INVALID_PROGRAM, "no program \(p.program)") }
        guard let program = entry.program else { throw FPGAError(CL_INVALID_PROGRAM_EXECUTABLE, "program \(p.program) is not built") }
        let name = withUnsafeBytes(of: p.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let (kernel, limits) = try device.backend.kernel(name, in: program)
        let signature: KernelSignature
        if let known = entry.bitstream?.signature(of: name) { signature = known }
        else { signature = try device.backend.signature(of: kernel, name: name) }
        kernels[p.id] = Kernel(kernel: kernel, signature: signature, limits: limits, program: p.program)
        programs[p.program]?.kernels += 1

        var reply = kumo_fpga_kernel_info()
        reply.nargs = UInt32(signature.arguments.count)
        reply.work_group_size = min(limits.workGroupSize, info.max_work_group_size)
        let cw = limits.compileWorkGroupSize + [0, 0, 0]
        reply.compile_work_group_size = (cw[0], cw[1], cw[2])
        reply.local_mem_size = limits.localMemory
        reply.private_mem_size = limits.privateMemory
        reply.preferred_multiple = limits.preferredMultiple
        withUnsafeMutableBytes(of: &reply.args) { raw in
            let stride = MemoryLayout<kumo_fpga_arg_info>.stride
            for (i, a) in signature.arguments.enumerated() {
                var arg = kumo_fpga_arg_info()
                arg.kind = a.abiKind
                arg.size = a.size
                arg.access = a.access
                arg.type_qualifier = a.typeQualifier
                Self.put(a.typeName, into: &arg.type_name)
                Self.put(a.name, into: &arg.name)
                // i < 64 = the tuple's length: signatures are capped at 64 arguments.
                raw.storeBytes(of: arg, toByteOffset: i * stride, as: kumo_fpga_arg_info.self)
            }
        }
        try store(reply, at: p.reply)
    }

    static func put<T>(_ s: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { raw in
            let bytes = Array(s.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes + [0])
        }
    }

    func execute(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_execute.self)
        let queue = try queue(c)
        guard let k = kernels[p.kernel] else { throw FPGAError(CL_INVALID_KERNEL, "no kernel \(p.kernel)") }
        guard (1...3).contains(p.dimensions) else { throw FPGAError(CL_INVALID_WORK_DIMENSION, "\(p.dimensions) dimensions") }
        let n = Int(p.dimensions)
        let offset = Array([p.offset.0, p.offset.1, p.offset.2].prefix(n))
        let global = Array([p.global.0, p.global.1, p.global.2].prefix(n))
        let local = Array([p.local.0, p.local.1, p.local.2].prefix(n))
        guard global.allSatisfy({ $0 > 0 && $0 <= 1 << 32 }) else {
            throw FPGAError(CL_INVALID_GLOBAL_WORK_SIZE, "global size \(global)")
        }
        for (o, g) in zip(offset, global) where o.addingReportingOverflow(g).overflow {
            throw FPGAError(CL_INVALID_GLOBAL_OFFSET, "offset \(o) + size \(g) overflows")
        }
        var range = LaunchRange(dimensions: n, offset: offset, global: global, local: nil)
        if local.contains(where: { $0 != 0 }) {
            guard local.allSatisfy({ $0 > 0 }), zip(global, local).allSatisfy({ $0 % $1 == 0 }),
                  local.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= min(k.limits.workGroupSize, info.max_work_group_size)
            else { throw FPGAError(CL_INVALID_WORK_GROUP_SIZE, "local size \(local) for global \(global), at most \(k.limits.workGroupSize) items") }
            range.local = local
        }
        guard p.nargs == UInt32(k.signature.arguments.count) else {
            throw FPGAError(CL_INVALID_KERNEL_ARGS, "\(p.nargs) arguments for \(k.signature.name), which takes \(k.signature.arguments.count)")
        }
        let waits = try waitList(c, after: kumo_fpga_execute.self)
        let arguments = try kernelArguments(c, k.signature)
        try finishQueued(c, try device.backend.execute(k.kernel, arguments: arguments, range: range, on: queue, after: waits))
    }

    func kernelArguments(_ c: Command, _ signature: KernelSignature) throws(FPGAError) -> [KernelArgument<Backend.Buffer>] {
        var at = c.variableAddress(after: kumo_fpga_execute.self)
        var out: [KernelArgument<Backend.Buffer>] = []
        let header = UInt64(MemoryLayout<kumo_fpga_arg>.size)
        for (i, expected) in signature.arguments.enumerated() {
            guard at + header <= c.end else { throw FPGAError(CL_INVALID_KERNEL_ARGS, "argument \(i) lies past the command") }
            let a = try load(kumo_fpga_arg.self, at: at)
            at += header
            guard a.kind == expected.abiKind else {
                throw FPGAError(CL_INVALID_ARG_VALUE, "argument \(i) (\(expected.name)) must be \(expected.kind.rawValue)")
            }
            switch expected.kind {
            case .global, .constant:
                guard a.mem != 0 else { out.append(.buffer(nil)); continue }
                guard a.mem < UInt64(KUMO_FPGA_IDS_MAX), let m = mems[UInt32(a.mem)] else {
                    throw FPGAError(CL_INVALID_MEM_OBJECT, "argument \(i) names no buffer (\(a.mem))")
                }
                out.append(.buffer(m.buffer))
            case .local:
                guard a.size > 0, UInt64(a.size) <= info.local_memory else {
                    throw FPGAError(CL_INVALID_ARG_SIZE, "argument \(i): \(a.size) bytes of local memory, at most \(info.local_memory)")
                }
                out.append(.local(bytes: a.size))
            case .value:
                guard a.size > 0, a.size <= KUMO_FPGA_SCALAR_MAX, expected.size == 0 || a.size == expected.size else {
                    throw FPGAError(CL_INVALID_ARG_SIZE, "argument \(i) (\(expected.typeName)) is \(expected.size) bytes, not \(a.size)")
                }
                let padded = (UInt64(a.size) + 7) & ~7
                guard at + padded <= c.end else { throw FPGAError(CL_INVALID_KERNEL_ARGS, "argument \(i)'s value lies past the command") }
                let bytes = try guestBytes(at, UInt64(a.size))
                out.append(.value(Array(UnsafeRawBufferPointer(bytes))))
                at += padded
            }
        }
        return out
    }
}
