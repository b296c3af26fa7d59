import Dispatch
import InstanceWire
import Logging
import Synchronization

/// Instance processes started ahead of time, so that process start (and
/// KVM's VM creation, which each does while it waits) is off the cold path.
public final class ProcessPool: Sendable {
    public let launch: InstanceLaunch
    public let size: Int
    /// How many of those for FPGA functions it keeps (at most one per emulated card).
    public let openCLSize: Int
    let logger: Logger
    /// Pre-started processes of each kind: those for FPGA functions also have the host's
    /// OpenCL runtime started. A plain instance is better off without it (the runtime
    /// changes the process's allocator settings and adds its threads).
    private let idle = Mutex<(plain: [InstanceProcess], openCL: [InstanceProcess])>(([], []))
    private let filling = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// What cold starts may ask for, oldest first: each pooled process is told those of its kind.
    private let expected = Mutex<[PrepareInstance]>([])
    static let maxExpected = 8

    public init(launch: InstanceLaunch, size: Int, openCLSize: Int, logger: Logger) {
        self.launch = launch
        self.size = max(size, 0)
        self.openCLSize = max(openCLSize, 0)
        self.logger = logger
    }

    public var idleCount: Int { idle.withLock { $0.plain.count + $0.openCL.count } }

    /// A live pre-started process of the kind asked for (else of the other kind, else a new
    /// one). The pool is topped up by the scheduler's reaper (`refill`), off the cold start's
    /// path: starting a process costs tens of ms of CPU.
    public func take(openCL: Bool) throws(InstanceFailure) -> InstanceProcess {
        // The newest first: the longer a process has been idle, the colder its caches.
        while let process = idle.withLock({ openCL ? ($0.openCL.popLast() ?? $0.plain.popLast()) : ($0.plain.popLast() ?? $0.openCL.popLast()) }) {
            if process.endedReason == nil { return process }
        }
        refill()  // ran dry: this cold start is slow anyway; the next ones need not be
        return try InstanceProcess.spawn(launch, logger: logger)
    }

    /// What a cold start may soon ask for (a deploy, a cold start): the pooled processes of
    /// its kind ready memory of that size while they wait.
    public func expect(_ hint: PrepareInstance) {
        let isNew: Bool = expected.withLock { list in
            let known = list.last == hint
            list.removeAll { $0 == hint }
            list.append(hint)
            if list.count > Self.maxExpected { list.removeFirst(list.count - Self.maxExpected) }
            return !known
        }
        guard isNew else { return }
        for process in idle.withLock({ hint.openCL ? $0.openCL : $0.plain }) { process.prepare(hint) }
        if hint.openCL, openCLSize > 0 { refill() }
    }

    /// Tops the pool up in the background: `size` plain processes, and `openCLSize` for FPGA
    /// functions once one is expected.
    public func refill() {
        guard !closed.load(ordering: .relaxed),
              filling.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        DispatchQueue.global().async { [self] in
            defer { filling.store(false, ordering: .releasing) }
            while !closed.load(ordering: .relaxed), let openCL = missingKind() {
                do {
                    let process = try InstanceProcess.spawn(launch, logger: logger)
                    // The most recent last: it sets the size the process readies memory for.
                    for hint in expected.withLock({ $0 }) where hint.openCL == openCL { process.prepare(hint) }
                    idle.withLock { openCL ? $0.openCL.append(process) : $0.plain.append(process) }
                } catch {
                    logger.error("instance pool: \(error)")
                    return
                }
            }
        }
    }

    /// The kind the pool is short of (true: for FPGA functions), if any.
    private func missingKind() -> Bool? {
        let wantsOpenCL = expected.withLock { $0.contains { $0.openCL } }
        return idle.withLock { idle in
            if idle.plain.count < size { return false }
            if wantsOpenCL, idle.openCL.count < openCLSize { return true }
            return nil
        }
    }

    /// Ends the idle processes (serve is shutting down).
    public func close() {
        closed.store(true, ordering: .relaxed)
        let all = idle.withLock { p in defer { p = ([], []) }; return p.plain + p.openCL }
        for process in all { process.kill() }
    }
}
