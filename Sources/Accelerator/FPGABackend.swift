import Foundation

/// What the device model asks of the thing that really runs kernels. The
/// requests are about an FPGA, not about OpenCL: memory, transfer, execute,
/// sync. The emulator (`EmulatorBackend`, on the host's OpenCL runtime) is one
/// implementation; a real card (XRT, VFIO) would be another.
///
/// Calls come from one thread at a time: the FPGA's worker.
public protocol FPGABackend: AnyObject {
    associatedtype Queue: AnyObject
    associatedtype Buffer: AnyObject
    associatedtype Program: AnyObject
    associatedtype Kernel: AnyObject
    associatedtype Event: AnyObject

    /// What the bitstream's payload must have been built for, e.g. "pocl:pthread-skylake-avx512".
    var target: String { get }
    /// Allocations smaller than this may come from memory that held earlier data: the device
    /// model zeroes them before a guest can read them (larger ones come zeroed).
    static var freshPagesThreshold: UInt64 { get }
    /// What the device that runs the kernels allows, to cap what the card reports.
    var hostLimits: (maxWorkGroup: UInt64, maxItems: [UInt64], localMemory: UInt64, maxAlloc: UInt64) { get }

    func makeQueue(profiling: Bool, outOfOrder: Bool) throws(FPGAError) -> Queue
    func allocate(bytes: UInt64, access: BufferAccess) throws(FPGAError) -> Buffer
    func region(of buffer: Buffer, offset: UInt64, bytes: UInt64, access: BufferAccess) throws(FPGAError) -> Buffer
    /// Zeroes the buffer's device memory; done before the memory can serve anyone else.
    func scrub(_ buffer: Buffer, bytes: UInt64, on queue: Queue) throws(FPGAError)

    /// Programs the fabric with a bitstream payload (built by `compile` for this target).
    func configure(payload: [UInt8]) throws(FPGAError) -> Program
    /// Builds from source; the emulator can, a real card cannot. The log is returned either way.
    func build(source: String, options: String) -> (program: Program?, log: String, status: Int32)
    /// A build's payload, to be stored in a bitstream.
    func payload(of program: Program) throws(FPGAError) -> [UInt8]
    func kernelNames(in program: Program) throws(FPGAError) -> [String]
    func kernel(_ name: String, in program: Program) throws(FPGAError) -> (Kernel, KernelLimits)
    /// The kernel's signature as the build knows it (for programs built from source).
    func signature(of kernel: Kernel, name: String) throws(FPGAError) -> KernelSignature

    /// Transfers never block: the device model waits, with a deadline, where the guest must.
    func write(_ buffer: Buffer, offset: UInt64, from bytes: UnsafeRawBufferPointer, on queue: Queue,
               after waits: [Event]) throws(FPGAError) -> Event
    func read(_ buffer: Buffer, offset: UInt64, into bytes: UnsafeMutableRawBufferPointer, on queue: Queue,
              after waits: [Event]) throws(FPGAError) -> Event
    func copy(from source: Buffer, offset sourceOffset: UInt64, to destination: Buffer, offset destinationOffset: UInt64,
              bytes: UInt64, on queue: Queue, after waits: [Event]) throws(FPGAError) -> Event
    func fill(_ buffer: Buffer, offset: UInt64, bytes: UInt64, pattern: [UInt8], on queue: Queue,
              after waits: [Event]) throws(FPGAError) -> Event
    func execute(_ kernel: Kernel, arguments: [KernelArgument<Buffer>], range: LaunchRange, on queue: Queue,
                 after waits: [Event]) throws(FPGAError) -> Event
    func marker(on queue: Queue, after waits: [Event], barrier: Bool) throws(FPGAError) -> Event

    func makeUserEvent() throws(FPGAError) -> Event
    func complete(userEvent: Event, status: Int32) throws(FPGAError)
    func state(of event: Event) -> EventState
    /// The execution status alone (cheaper than `state`).
    func status(of event: Event) -> Int32
    func flush(_ queue: Queue)
    /// Waits for everything queued, however long it takes (closing a session, on the card's worker).
    func finish(_ queue: Queue) throws(FPGAError)
    /// Waits until every event has completed or `deadline` passes (false). Throws if one failed.
    func wait(for events: [Event], until deadline: Date) throws(FPGAError) -> Bool
}

public enum BufferAccess: Sendable {
    case readWrite, readOnly, writeOnly
}

/// One kernel argument as the device model hands it on.
public enum KernelArgument<Buffer> {
    case buffer(Buffer?)
    case local(bytes: UInt32)
    case value([UInt8])
}

public struct LaunchRange: Sendable, Equatable {
    public var dimensions: Int
    public var offset: [UInt64]
    public var global: [UInt64]
    /// nil: the device chooses.
    public var local: [UInt64]?
}

/// OpenCL's execution status values, and a negative code for failure.
public struct EventState: Sendable, Equatable {
    public var status: Int32
    public var queued: UInt64 = 0, submitted: UInt64 = 0, started: UInt64 = 0, ended: UInt64 = 0
}

public struct KernelLimits: Sendable, Equatable {
    public var workGroupSize: UInt64
    public var compileWorkGroupSize: [UInt64]
    public var localMemory: UInt64
    public var privateMemory: UInt64
    public var preferredMultiple: UInt64
}
