import Accelerator
import CKumoABI
import Foundation
import KVM
import Logging
import Tender

/// A guest's hypercalls. Input: the hypercall number (8 bytes), the argument
/// (8 bytes: even means "the argument struct's address", odd is used as it is),
/// the argument struct (64 bytes, written at `structAddress`), then bytes
/// written just after it (what the struct's pointers may point at) and given as stdin.
final class HypercallTarget: FuzzTarget {
    static let memorySize: UInt64 = 16 << 20
    static let structAddress = UInt64(KUMO_IMAGE_BASE) + 0x10000
    let memory: GuestMemory

    init() throws { memory = try GuestMemory(size: Self.memorySize) }

    func run(_ input: [UInt8]) {
        var reader = InputReader(input)
        let number = reader.word()
        let argument = reader.word()
        let argumentStruct = reader.take(64)
        let rest = reader.rest()
        _ = try? memory.write(argumentStruct, at: Self.structAddress)
        _ = try? memory.write(Array(rest.prefix(1 << 16)), at: Self.structAddress + 64)
        let context = HypercallContext(memory: memory, input: BytesInput(rest), output: CapturedOutput(),
                                       outputLimit: 1 << 16, deadline: .now, timeoutSeconds: 0)
        _ = try? context.dispatch(number: number, argument: argument & 1 == 0 ? Self.structAddress : argument)
    }

    static func seed(_ m: inout Mutator) -> [UInt8] {
        var out: [UInt8] = []
        let number = m.below(10) == 0 ? m.next() : m.next() % UInt64(KUMO_HC_COUNT.rawValue)
        let argument = m.below(16) == 0 ? m.next() | 1 : 0
        withUnsafeBytes(of: number.littleEndian) { out += $0 }
        withUnsafeBytes(of: argument.littleEndian) { out += $0 }
        return out + m.structBytes(memorySize: memorySize) + m.bytes(count: m.below(128))
    }
}

/// A guest's FPGA command batches on a card (PoCL behind it). Input: the
/// command count (4 bytes), then the batch. A guest's session lasts one
/// invocation; the harness starts a new one every `sessionLength` inputs, as
/// an instance would, so that objects a batch created do not pile up forever.
/// A batch that waits past its deadline ends the session, as its guest's run
/// would end; a card whose worker does not come back is wedged, and the harness
/// takes a fresh one (a node retires a wedged card).
final class FPGABatchTarget: FuzzTarget {
    static let memorySize: UInt64 = 16 << 20
    static let batchAddress = UInt64(KUMO_IMAGE_BASE)
    static let sessionLength = 10_000
    /// Short, so that inputs waiting on events nothing will complete cost little.
    static let deadline: TimeInterval = 0.1
    let memory: GuestMemory
    var device: EmulatedFPGA
    var session: FPGASession<EmulatorBackend>
    var runs = 0

    init() throws {
        memory = try GuestMemory(size: Self.memorySize)
        (device, session) = try Self.freshCard(memory)
    }

    deinit { session.close() }

    static func freshCard(_ memory: GuestMemory) throws -> (EmulatedFPGA, FPGASession<EmulatorBackend>) {
        var logger = Logger(label: "fuzz")
        logger.logLevel = .error  // each refused command is a warning line: noise at a million inputs
        let device = try EmulatedFPGA(reconfigureCost: .zero, logger: logger)
        guard let session = device.session(memory: memory, identity: FPGAIdentity()) else {
            throw HarnessError.setup("a new emulated FPGA did not open")
        }
        return (device, session)
    }

    /// A batch that ran past its deadline ends the session, as its guest's run would end.
    var sessionTimedOut = false

    func run(_ input: [UInt8]) {
        runs += 1
        if sessionTimedOut || device.wedged || runs % Self.sessionLength == 0 {
            sessionTimedOut = false
            session.close()
            if !device.wedged, let next = device.session(memory: memory, identity: FPGAIdentity()) {
                session = next
            } else if let (card, next) = try? Self.freshCard(memory) {
                (device, session) = (card, next)
            }
        }
        var reader = InputReader(input)
        let count = UInt32(truncatingIfNeeded: reader.word(bytes: 4))
        let batch = Array(reader.rest().prefix(1 << 20))
        _ = try? memory.write(batch, at: Self.batchAddress)
        let result = session.submit(batch: Self.batchAddress, bytes: UInt32(batch.count), count: count,
                                    deadline: Date(timeIntervalSinceNow: Self.deadline))
        sessionTimedOut = result == .timedOut
    }

    static func seed(_ m: inout Mutator) -> [UInt8] {
        let (batch, count) = m.fpgaBatch(memorySize: memorySize)
        var out: [UInt8] = []
        withUnsafeBytes(of: count.littleEndian) { out += $0 }
        return out + batch
    }
}

/// Little-endian fields off the front of an input; missing bytes read as zero.
struct InputReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(bytes.count, at + n)
        defer { at = end }
        return Array(bytes[min(at, end)..<end]) + [UInt8](repeating: 0, count: n - (end - min(at, end)))
    }

    mutating func word(bytes n: Int = 8) -> UInt64 {
        take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func rest() -> [UInt8] { take(max(0, bytes.count - at)) }
}
