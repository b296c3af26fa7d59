import CKumoABI
import COpenCL

/// Device memory: allocation within the card's capacity, regions, transfers
/// straight from and to guest memory, copies and fills.
extension FPGASession {
    static func access(_ flags: UInt32) throws(FPGAError) -> BufferAccess {
        switch flags {
        case KUMO_FPGA_MEM_READ | KUMO_FPGA_MEM_WRITE: .readWrite
        case KUMO_FPGA_MEM_READ: .readOnly
        case KUMO_FPGA_MEM_WRITE: .writeOnly
        default: throw .invalidValue("buffer access flags \(flags)")
        }
    }

    func allocate(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_mem.self)
        try claim(p.id, in: mems, "buffer")
        guard p.size > 0, p.size <= info.max_alloc else {
            throw FPGAError(CL_INVALID_BUFFER_SIZE, "a buffer of \(p.size) bytes; the most is \(info.max_alloc)")
        }
        if allocatedBytes + p.size > identity.globalMemory, !released.isEmpty { try scrubReleased() }
        guard allocatedBytes + p.size <= identity.globalMemory else {
            throw FPGAError(CL_MEM_OBJECT_ALLOCATION_FAILURE,
                            "\(p.size) bytes more would exceed the FPGA's \(identity.globalMemory) bytes (\(allocatedBytes) in use)")
        }
        let buffer = try device.backend.allocate(bytes: p.size, access: try Self.access(p.flags))
        if p.size < Backend.freshPagesThreshold {
            // Small allocations may reuse host heap memory: zero them before the guest can read them.
            let queue = try ownQueue()
            try device.backend.scrub(buffer, bytes: p.size, on: queue)
            try settle(queue: queue)
        }
        allocatedBytes += p.size
        mems[p.id] = Mem(buffer: buffer, size: p.size, parent: 0)
    }

    func subBuffer(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_mem.self)
        try claim(p.id, in: mems, "buffer")
        let parent = try mem(p.parent)
        guard parent.parent == 0 else { throw FPGAError(CL_INVALID_MEM_OBJECT, "a sub-buffer of a sub-buffer") }
        guard p.size > 0 else { throw FPGAError(CL_INVALID_BUFFER_SIZE, "a sub-buffer of 0 bytes") }
        try Self.checkRange(p.offset, p.size, within: parent.size, "sub-buffer")
        guard p.offset % UInt64(info.mem_base_align_bits / 8) == 0 else {
            throw FPGAError(CL_MISALIGNED_SUB_BUFFER_OFFSET, "sub-buffer offset \(p.offset) is not a multiple of \(info.mem_base_align_bits / 8)")
        }
        let region = try device.backend.region(of: parent.buffer, offset: p.offset, bytes: p.size, access: try Self.access(p.flags))
        mems[p.id] = Mem(buffer: region, size: p.size, parent: p.parent)
        mems[p.parent]?.children += 1
    }

    func releaseMem(_ id: UInt32) throws(FPGAError) {
        guard let m = mems[id] else { throw FPGAError(CL_INVALID_MEM_OBJECT, "no buffer \(id)") }
        if m.parent == 0, m.children > 0 {
            throw FPGAError(CL_INVALID_OPERATION, "buffer \(id) still has \(m.children) sub-buffers")
        }
        mems.removeValue(forKey: id)
        if m.parent != 0 { mems[m.parent]?.children -= 1 } else { released.append((m.buffer, m.size)) }
    }

    func transfer(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_transfer.self)
        let queue = try queue(c)
        let m = try mem(p.mem)
        try Self.checkRange(p.offset, p.size, within: m.size, "transfer")
        guard p.size > 0 else { throw .invalidValue("a transfer of 0 bytes") }
        let bytes = try guestBytes(p.guest, p.size)
        let waits = try waitList(c, after: kumo_fpga_transfer.self)
        let event = Int(c.header.op) == Int(KUMO_FPGA_WRITE.rawValue)
            ? try device.backend.write(m.buffer, offset: p.offset, from: UnsafeRawBufferPointer(bytes), on: queue, after: waits)
            : try device.backend.read(m.buffer, offset: p.offset, into: bytes, on: queue, after: waits)
        try finishQueued(c, event)
    }

    func copy(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_copy.self)
        let queue = try queue(c)
        let source = try mem(p.source), destination = try mem(p.destination)
        try Self.checkRange(p.source_offset, p.size, within: source.size, "copy source")
        try Self.checkRange(p.destination_offset, p.size, within: destination.size, "copy destination")
        if p.source == p.destination, max(p.source_offset, p.destination_offset) - min(p.source_offset, p.destination_offset) < p.size {
            throw FPGAError(CL_MEM_COPY_OVERLAP, "the copy's source and destination overlap")
        }
        let waits = try waitList(c, after: kumo_fpga_copy.self)
        try finishQueued(c, try device.backend.copy(from: source.buffer, offset: p.source_offset, to: destination.buffer,
                                                    offset: p.destination_offset, bytes: p.size, on: queue, after: waits))
    }

    func fill(_ c: Command) throws(FPGAError) {
        let p = try payload(c, kumo_fpga_fill.self)
        let queue = try queue(c)
        let m = try mem(p.mem)
        let n = p.pattern_size
        guard n > 0, n <= KUMO_FPGA_SCALAR_MAX, n & (n - 1) == 0 else { throw .invalidValue("fill pattern of \(n) bytes") }
        guard p.offset % UInt64(n) == 0, p.size % UInt64(n) == 0 else {
            throw .invalidValue("fill offset and size must be multiples of the pattern size")
        }
        try Self.checkRange(p.offset, p.size, within: m.size, "fill")
        let pattern = withUnsafeBytes(of: p.pattern) { Array($0.prefix(Int(n))) }
        let waits = try waitList(c, after: kumo_fpga_fill.self)
        try finishQueued(c, try device.backend.fill(m.buffer, offset: p.offset, bytes: p.size, pattern: pattern, on: queue, after: waits))
    }
}
