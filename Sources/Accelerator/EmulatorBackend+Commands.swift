import COpenCL
import Foundation

/// Transfers, execution and synchronisation on the emulator. Host pointers
/// are guest memory: the runtime reads and writes it directly, no copy.
extension EmulatorBackend {
    /// Runs `body` with the wait list as an OpenCL array and returns the event it made.
    private func enqueue(_ waits: [Event], _ what: @autoclosure () -> String,
                         _ body: (cl_uint, UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>) -> cl_int) throws(FPGAError) -> Event {
        var list: [cl_event?] = waits.map { $0.handle }
        var event: cl_event?
        let status = list.withUnsafeMutableBufferPointer { raw in
            body(cl_uint(raw.count), raw.count == 0 ? nil : UnsafePointer(raw.baseAddress), &event)
        }
        try FPGAError.check(status, what())
        guard let event else { throw FPGAError(CL_OUT_OF_RESOURCES, "\(what()): the runtime returned no event") }
        return Event(event)
    }

    public func write(_ buffer: Buffer, offset: UInt64, from bytes: UnsafeRawBufferPointer, on queue: Queue,
                      after waits: [Event]) throws(FPGAError) -> Event {
        try enqueue(waits, "writing \(bytes.count) bytes to device memory") { n, list, event in
            clEnqueueWriteBuffer(queue.handle, buffer.handle, cl_bool(CL_FALSE), Int(offset), bytes.count,
                                 bytes.baseAddress, n, list, event)
        }
    }

    public func read(_ buffer: Buffer, offset: UInt64, into bytes: UnsafeMutableRawBufferPointer, on queue: Queue,
                     after waits: [Event]) throws(FPGAError) -> Event {
        try enqueue(waits, "reading \(bytes.count) bytes of device memory") { n, list, event in
            clEnqueueReadBuffer(queue.handle, buffer.handle, cl_bool(CL_FALSE), Int(offset), bytes.count,
                                bytes.baseAddress, n, list, event)
        }
    }

    public func copy(from source: Buffer, offset sourceOffset: UInt64, to destination: Buffer, offset destinationOffset: UInt64,
                     bytes: UInt64, on queue: Queue, after waits: [Event]) throws(FPGAError) -> Event {
        try enqueue(waits, "copying \(bytes) bytes in device memory") { n, list, event in
            clEnqueueCopyBuffer(queue.handle, source.handle, destination.handle, Int(sourceOffset), Int(destinationOffset),
                                Int(bytes), n, list, event)
        }
    }

    public func fill(_ buffer: Buffer, offset: UInt64, bytes: UInt64, pattern: [UInt8], on queue: Queue,
                     after waits: [Event]) throws(FPGAError) -> Event {
        try enqueue(waits, "filling \(bytes) bytes of device memory") { n, list, event in
            pattern.withUnsafeBytes { p in
                clEnqueueFillBuffer(queue.handle, buffer.handle, p.baseAddress, p.count, Int(offset), Int(bytes), n, list, event)
            }
        }
    }

    public func execute(_ kernel: Kernel, arguments: [KernelArgument<Buffer>], range: LaunchRange, on queue: Queue,
                        after waits: [Event]) throws(FPGAError) -> Event {
        if kernel.bound.count != arguments.count { kernel.bound = Array(repeating: nil, count: arguments.count) }
        for (i, argument) in arguments.enumerated() {
            let status: cl_int, bound: BoundArgument
            switch argument {
            case .buffer(let buffer):
                var handle: cl_mem? = buffer?.handle
                bound = .buffer(UInt(bitPattern: handle))
                if kernel.bound[i] == bound { continue }
                status = clSetKernelArg(kernel.handle, cl_uint(i), MemoryLayout<cl_mem?>.size, &handle)
            case .local(let bytes):
                bound = .local(bytes)
                if kernel.bound[i] == bound { continue }
                status = clSetKernelArg(kernel.handle, cl_uint(i), Int(bytes), nil)
            case .value(let bytes):
                bound = .value(bytes)
                if kernel.bound[i] == bound { continue }
                status = bytes.withUnsafeBytes { clSetKernelArg(kernel.handle, cl_uint(i), $0.count, $0.baseAddress) }
            }
            kernel.bound[i] = nil
            try FPGAError.check(status, "kernel argument \(i)")
            kernel.bound[i] = bound
        }
        let offset = range.offset.map { Int($0) }, global = range.global.map { Int($0) }
        let local = range.local?.map { Int($0) }
        return try enqueue(waits, "launching the kernel") { n, list, event in
            if let local {
                return clEnqueueNDRangeKernel(queue.handle, kernel.handle, cl_uint(range.dimensions), offset, global, local, n, list, event)
            }
            return clEnqueueNDRangeKernel(queue.handle, kernel.handle, cl_uint(range.dimensions), offset, global, nil, n, list, event)
        }
    }

    public func marker(on queue: Queue, after waits: [Event], barrier: Bool) throws(FPGAError) -> Event {
        try enqueue(waits, barrier ? "a barrier" : "a marker") { n, list, event in
            barrier ? clEnqueueBarrierWithWaitList(queue.handle, n, list, event)
                    : clEnqueueMarkerWithWaitList(queue.handle, n, list, event)
        }
    }

    public func makeUserEvent() throws(FPGAError) -> Event {
        var status: cl_int = 0
        guard let e = clCreateUserEvent(context, &status), status == CL_SUCCESS else { throw FPGAError(status, "a user event") }
        return Event(e)
    }

    public func complete(userEvent: Event, status: Int32) throws(FPGAError) {
        try FPGAError.check(clSetUserEventStatus(userEvent.handle, status), "setting a user event's status")
    }

    public func state(of event: Event) -> EventState {
        var status: cl_int = 0
        _ = clGetEventInfo(event.handle, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), 4, &status, nil)
        var state = EventState(status: status)
        guard status == CL_COMPLETE else { return state }
        func time(_ p: Int32) -> UInt64 {
            var t: cl_ulong = 0
            return clGetEventProfilingInfo(event.handle, cl_profiling_info(p), 8, &t, nil) == CL_SUCCESS ? t : 0
        }
        state.queued = time(CL_PROFILING_COMMAND_QUEUED)
        state.submitted = time(CL_PROFILING_COMMAND_SUBMIT)
        state.started = time(CL_PROFILING_COMMAND_START)
        state.ended = time(CL_PROFILING_COMMAND_END)
        return state
    }

    public func flush(_ queue: Queue) { clFlush(queue.handle) }

    public func finish(_ queue: Queue) throws(FPGAError) {
        try FPGAError.check(clFinish(queue.handle), "finishing the queue")
    }

    /// The runtime calls back as each event completes; the caller sleeps until
    /// the last one or the deadline, so an endless kernel never holds it.
    public func wait(for events: [Event], until deadline: Date) throws(FPGAError) -> Bool {
        guard !events.isEmpty else { return true }
        // Short commands end within microseconds; the runtime's callbacks arrive
        // hundreds of microseconds later. Watch the status briefly, yielding the
        // CPU to the runtime's threads, before sleeping on callbacks.
        let spinUntil = ContinuousClock.now + .microseconds(300)
        while events.contains(where: { status(of: $0) > CL_COMPLETE }) {
            guard ContinuousClock.now < spinUntil else { return try sleep(for: events, until: deadline) }
            sched_yield()
        }
        for event in events where status(of: event) < 0 {
            throw FPGAError(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, "an awaited command failed")
        }
        return true
    }

    public func status(of event: Event) -> Int32 {
        var status: cl_int = CL_QUEUED
        _ = clGetEventInfo(event.handle, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), 4, &status, nil)
        return status
    }

    private func sleep(for events: [Event], until deadline: Date) throws(FPGAError) -> Bool {
        let waiter = EventWaiter(count: events.count)
        for event in events {
            // Retained for the callback, which releases it; it may outlive a timed-out wait.
            let box = Unmanaged.passRetained(waiter).toOpaque()
            let status = clSetEventCallback(event.handle, CL_COMPLETE, { _, _, data in
                guard let data else { return }
                Unmanaged<EventWaiter>.fromOpaque(data).takeRetainedValue().completed()
            }, box)
            if status != CL_SUCCESS {
                Unmanaged<EventWaiter>.fromOpaque(box).release()
                throw FPGAError(status, "waiting for an event")
            }
        }
        guard waiter.wait(until: deadline) else { return false }
        for event in events where state(of: event).status < 0 {
            throw FPGAError(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, "an awaited command failed")
        }
        return true
    }
}

/// Counts completions down to zero for a thread waiting with a deadline.
final class EventWaiter: @unchecked Sendable {
    private let condition = NSCondition()
    private var remaining: Int   // guarded by condition

    init(count: Int) { remaining = count }

    func completed() {
        condition.lock()
        remaining -= 1
        if remaining == 0 { condition.broadcast() }
        condition.unlock()
    }

    func wait(until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        // Foundation traps on a far deadline (Date.distantFuture): wait without one.
        let unbounded = deadline.timeIntervalSinceNow > 86_400 * 365
        while remaining > 0 {
            if unbounded { condition.wait() } else if !condition.wait(until: deadline) { return remaining == 0 }
        }
        return true
    }
}
