import Dispatch
import InstanceWire
import Logging
import Synchronization

/// Instance processes started ahead of time, so that process start (and
/// KVM's VM creation, which each does while it waits) is off the cold path.
public final class ProcessPool: Sendable {
    public let launch: InstanceLaunch
    public let size: Int
    let logger: Logger
    private let idle = Mutex<[InstanceProcess]>([])
    private let filling = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// Memory sizes cold starts may ask for, oldest first: each pooled process is told of them.
    private let expected = Mutex<[PrepareInstance]>([])
    static let maxExpected = 8

    public init(launch: InstanceLaunch, size: Int, logger: Logger) {
        self.launch = launch
        self.size = max(size, 0)
        self.logger = logger
    }

    public var idleCount: Int { idle.withLock { $0.count } }

    /// A live pre-started process, or a new one when the pool ran dry. The pool is
    /// topped up by the scheduler's reaper (`refill`), off the cold start's path:
    /// starting a process costs tens of ms of CPU.
    public func take() throws(InstanceFailure) -> InstanceProcess {
        // The newest first: the longer a process has been idle, the colder its caches.
        while let process = idle.withLock({ $0.popLast() }) {
            if process.endedReason == nil { return process }
        }
        refill()  // ran dry: this cold start is slow anyway; the next ones need not be
        return try InstanceProcess.spawn(launch, logger: logger)
    }

    /// A memory size that a cold start may soon ask for (a deploy, a cold start):
    /// the pooled processes ready memory of that size while they wait.
    public func expect(_ image: PrepareInstance) {
        let isNew: Bool = expected.withLock { list in
            let known = list.last == image
            list.removeAll { $0 == image }
            list.append(image)
            if list.count > Self.maxExpected { list.removeFirst(list.count - Self.maxExpected) }
            return !known
        }
        guard isNew else { return }
        for process in idle.withLock({ $0 }) { process.prepare(image) }
    }

    /// Tops the pool up in the background.
    public func refill() {
        guard !closed.load(ordering: .relaxed),
              filling.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        DispatchQueue.global().async { [self] in
            defer { filling.store(false, ordering: .releasing) }
            while !closed.load(ordering: .relaxed), idle.withLock({ $0.count }) < size {
                do {
                    let process = try InstanceProcess.spawn(launch, logger: logger)
                    // The most recent last: it sets the size the process readies memory for.
                    for image in expected.withLock({ $0 }) { process.prepare(image) }
                    idle.withLock { $0.append(process) }
                } catch {
                    logger.error("instance pool: \(error)")
                    return
                }
            }
        }
    }

    /// Ends the idle processes (serve is shutting down).
    public func close() {
        closed.store(true, ordering: .relaxed)
        for process in idle.withLock({ p in defer { p = [] }; return p }) { process.kill() }
    }
}
