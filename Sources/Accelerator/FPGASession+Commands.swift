import CKumoABI
import COpenCL
import KVM

/// Each command, checked field by field against the session's objects and
/// the guest's memory before the backend sees it.
extension FPGASession {
    func run(_ c: Command) throws(FPGAError) {
        guard c.header.nwait <= KUMO_FPGA_WAIT_MAX else {
            throw FPGAError(CL_INVALID_EVENT_WAIT_LIST, "\(c.header.nwait) events in a wait list; at most \(KUMO_FPGA_WAIT_MAX)")
        }
        switch Int(c.header.op) {
        case Int(KUMO_FPGA_INFO.rawValue):
            let q = try payload(c, kumo_fpga_query.self)
            guard q.reply_length >= UInt64(MemoryLayout<kumo_fpga_info>.size) else { throw .invalidValue("INFO: reply too small") }
            try store(info, at: q.reply)
        case Int(KUMO_FPGA_QUEUE_CREATE.rawValue):
            let p = try payload(c, kumo_fpga_queue.self)
            try claim(p.id, in: queues, "queue")
            let unordered = p.flags & KUMO_FPGA_QUEUE_OUT_OF_ORDER != 0
            queues[p.id] = try device.backend.makeQueue(profiling: p.flags & KUMO_FPGA_QUEUE_PROFILING != 0, outOfOrder: unordered)
            if unordered { outOfOrder.insert(p.id) }
        case Int(KUMO_FPGA_QUEUE_RELEASE.rawValue):
            let id = try payload(c, kumo_fpga_id.self).id
            // Released, its queued work still completes (guest memory stays mapped until the session closes).
            guard queues.removeValue(forKey: id) != nil else { throw FPGAError(CL_INVALID_COMMAND_QUEUE, "no queue \(id)") }
            lastEvents.removeValue(forKey: id)
            outOfOrder.remove(id)
        case Int(KUMO_FPGA_MEM_ALLOC.rawValue): try allocate(c)
        case Int(KUMO_FPGA_MEM_SUB.rawValue): try subBuffer(c)
        case Int(KUMO_FPGA_MEM_RELEASE.rawValue): try releaseMem(try payload(c, kumo_fpga_id.self).id)
        case Int(KUMO_FPGA_WRITE.rawValue), Int(KUMO_FPGA_READ.rawValue): try transfer(c)
        case Int(KUMO_FPGA_COPY.rawValue): try copy(c)
        case Int(KUMO_FPGA_FILL.rawValue): try fill(c)
        case Int(KUMO_FPGA_CONFIGURE.rawValue): try configure(c)
        case Int(KUMO_FPGA_PROGRAM_SOURCE.rawValue): try programSource(c)
        case Int(KUMO_FPGA_PROGRAM_BUILD.rawValue): try build(c)
        case Int(KUMO_FPGA_PROGRAM_INFO.rawValue): try programInfo(c)
        case Int(KUMO_FPGA_PROGRAM_RELEASE.rawValue):
            let id = try payload(c, kumo_fpga_id.self).id
            guard programs.removeValue(forKey: id) != nil else { throw FPGAError(CL_INVALID_PROGRAM, "no program \(id)") }
        case Int(KUMO_FPGA_KERNEL_CREATE.rawValue): try createKernel(c)
        case Int(KUMO_FPGA_KERNEL_RELEASE.rawValue):
            let id = try payload(c, kumo_fpga_id.self).id
            guard let k = kernels.removeValue(forKey: id) else { throw FPGAError(CL_INVALID_KERNEL, "no kernel \(id)") }
            programs[k.program]?.kernels -= 1
        case Int(KUMO_FPGA_EXECUTE.rawValue): try execute(c)
        case Int(KUMO_FPGA_MARKER.rawValue), Int(KUMO_FPGA_BARRIER.rawValue):
            let queue = try queue(c)
            let waits = try waitList(c, after: kumo_fpga_id.self)
            let event = try device.backend.marker(on: queue, after: waits, barrier: Int(c.header.op) == Int(KUMO_FPGA_BARRIER.rawValue))
            try finishQueued(c, event)
        case Int(KUMO_FPGA_USER_EVENT.rawValue):
            let id = try payload(c, kumo_fpga_id.self).id
            try claim(id, in: events, "event")
            guard unsetUserEvents.count < Self.maxObjects else {
                throw FPGAError(CL_OUT_OF_RESOURCES, "more than \(Self.maxObjects) user events not yet set")
            }
            let event = try device.backend.makeUserEvent()
            events[id] = (event, true)
            unsetUserEvents[ObjectIdentifier(event)] = event
        case Int(KUMO_FPGA_USER_EVENT_SET.rawValue):
            let p = try payload(c, kumo_fpga_user_event.self)
            guard let e = events[p.id], e.user else { throw FPGAError(CL_INVALID_EVENT, "no user event \(p.id)") }
            guard p.status == CL_COMPLETE || p.status < 0 else { throw .invalidValue("a user event's status is CL_COMPLETE or negative") }
            try device.backend.complete(userEvent: e.event, status: p.status)
            unsetUserEvents[ObjectIdentifier(e.event)] = nil
        case Int(KUMO_FPGA_EVENT_RELEASE.rawValue):
            let id = try payload(c, kumo_fpga_id.self).id
            guard events.removeValue(forKey: id) != nil else { throw FPGAError(CL_INVALID_EVENT, "no event \(id)") }
        case Int(KUMO_FPGA_EVENT_QUERY.rawValue):
            let q = try payload(c, kumo_fpga_query.self)
            guard let e = events[q.id] else { throw FPGAError(CL_INVALID_EVENT, "no event \(q.id)") }
            let s = device.backend.state(of: e.event)
            try store(kumo_fpga_event_state(status: s.status, reserved: 0, queued: s.queued, submitted: s.submitted,
                                            started: s.started, ended: s.ended), at: q.reply)
        case Int(KUMO_FPGA_FLUSH.rawValue): device.backend.flush(try queue(c))
        case Int(KUMO_FPGA_FINISH.rawValue):
            try settle(queueID: c.header.queue)
            if !released.isEmpty { try scrubReleased() }
        case Int(KUMO_FPGA_WAIT.rawValue):
            try settle(try waitList(c, after: kumo_fpga_id.self))
        default:
            throw .invalidValue("unknown command \(c.header.op)")
        }
    }

    // MARK: checked access

    func payload<T: BitwiseCopyable>(_ c: Command, _ type: T.Type) throws(FPGAError) -> T {
        guard c.variableAddress(after: T.self) <= c.end else {
            throw .invalidValue("the command's \(c.header.size) bytes cannot hold its payload and \(c.header.nwait) wait ids")
        }
        return try load(T.self, at: c.payloadAddress)
    }

    func load<T: BitwiseCopyable>(_ type: T.Type, at address: UInt64) throws(FPGAError) -> T {
        do { return try memory.load(T.self, at: address) }
        catch { throw .invalidValue("0x\(String(address, radix: 16)) lies outside guest memory") }
    }

    func store<T: BitwiseCopyable>(_ value: T, at address: UInt64) throws(FPGAError) {
        guard address >= KUMO_IMAGE_BASE else { throw .invalidValue("a reply address below the image (0x\(String(address, radix: 16)))") }
        do { try memory.store(value, at: address) }
        catch { throw .invalidValue("a reply at 0x\(String(address, radix: 16)) lies outside guest memory") }
    }

    /// Guest bytes a transfer may use: inside guest memory, above the page tables and boot info.
    func guestBytes(_ address: UInt64, _ length: UInt64) throws(FPGAError) -> UnsafeMutableRawBufferPointer {
        guard address >= KUMO_IMAGE_BASE else {
            throw .invalidValue("guest buffer at 0x\(String(address, radix: 16)) lies below the image")
        }
        do { return try memory.bytes(at: address, length: length) }
        catch { throw .invalidValue("guest buffer 0x\(String(address, radix: 16)) + \(length) bytes lies outside guest memory") }
    }

    func claim<V>(_ id: UInt32, in table: [UInt32: V], _ what: String) throws(FPGAError) {
        guard id > 0, id < KUMO_FPGA_IDS_MAX else { throw .invalidValue("\(what) id \(id) is out of range") }
        guard table[id] == nil else { throw .invalidValue("\(what) id \(id) is already in use") }
        guard table.count < Self.maxObjects else { throw FPGAError(CL_OUT_OF_RESOURCES, "more than \(Self.maxObjects) of \(what)s") }
    }

    func queue(_ c: Command) throws(FPGAError) -> Backend.Queue {
        guard let q = queues[c.header.queue] else { throw FPGAError(CL_INVALID_COMMAND_QUEUE, "no queue \(c.header.queue)") }
        return q
    }

    func mem(_ id: UInt32) throws(FPGAError) -> Mem {
        guard let m = mems[id] else { throw FPGAError(CL_INVALID_MEM_OBJECT, "no buffer \(id)") }
        return m
    }

    func waitList<T>(_ c: Command, after: T.Type) throws(FPGAError) -> [Backend.Event] {
        var list: [Backend.Event] = []
        let start = c.waitsAddress(after: T.self)
        for i in 0..<UInt64(c.header.nwait) {
            let id = try load(UInt32.self, at: start + 4 * i)
            guard let e = events[id] else { throw FPGAError(CL_INVALID_EVENT_WAIT_LIST, "no event \(id) to wait for") }
            list.append(e.event)
        }
        return list
    }

    /// Keeps the command's event if the guest asked for one; waits if it is blocking.
    func finishQueued(_ c: Command, _ event: Backend.Event) throws(FPGAError) {
        if !outOfOrder.contains(c.header.queue) { lastEvents[c.header.queue] = event }
        if c.header.event != 0 {
            try claim(c.header.event, in: events, "event")
            events[c.header.event] = (event, false)
        }
        if c.blocking { try settle([event]) }
    }

    static func checkRange(_ offset: UInt64, _ size: UInt64, within total: UInt64, _ what: String) throws(FPGAError) {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= total else { throw .invalidValue("\(what): bytes \(offset) + \(size) exceed the buffer's \(total)") }
    }
}
