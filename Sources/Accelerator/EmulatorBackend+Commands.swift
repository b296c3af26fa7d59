import COpenCL

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
                      after waits: [Event], blocking: Bool) throws(FPGAError) -> Event {
        try enqueue(waits, "writing \(bytes.count) bytes to device memory") { n, list, event in
            clEnqueueWriteBuffer(queue.handle, buffer.handle, cl_bool(blocking ? CL_TRUE : CL_FALSE), Int(offset), bytes.count,
                                 bytes.baseAddress, n, list, event)
        }
    }

    public func read(_ buffer: Buffer, offset: UInt64, into bytes: UnsafeMutableRawBufferPointer, on queue: Queue,
                     after waits: [Event], blocking: Bool) throws(FPGAError) -> Event {
        try enqueue(waits, "reading \(bytes.count) bytes of device memory") { n, list, event in
            clEnqueueReadBuffer(queue.handle, buffer.handle, cl_bool(blocking ? CL_TRUE : CL_FALSE), Int(offset), bytes.count,
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
        for (i, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case .buffer(let buffer):
                var handle: cl_mem? = buffer?.handle
                status = clSetKernelArg(kernel.handle, cl_uint(i), MemoryLayout<cl_mem?>.size, &handle)
            case .local(let bytes):
                status = clSetKernelArg(kernel.handle, cl_uint(i), Int(bytes), nil)
            case .value(let bytes):
                status = bytes.withUnsafeBytes { clSetKernelArg(kernel.handle, cl_uint(i), $0.count, $0.baseAddress) }
            }
            try FPGAError.check(status, "kernel argument \(i)")
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

    public func wait(for events: [Event]) throws(FPGAError) {
        guard !events.isEmpty else { return }
        var list: [cl_event?] = events.map { $0.handle }
        try FPGAError.check(clWaitForEvents(cl_uint(list.count), &list), "waiting for events")
    }
}
