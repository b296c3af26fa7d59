import Dispatch
import Functions
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
    private let bindings = Mutex(Bindings())

    /// The FPGA functions to keep a bound process for (at most `openCLSize`), those processes,
    /// and how often each FPGA function cold-starts: a count of its starts and deploys that
    /// decays by a tenth at each. A function takes another's place only with half again its
    /// count: two functions taking turns on one card would otherwise swap at every start, and
    /// each swap ends a process and starts another (~100 ms of CPU beside the requests).
    struct Bindings {
        var wanted: [Binding] = []
        var bound: [String: (version: String, process: InstanceProcess)] = [:]
        var starts: [String: Double] = [:]
    }

    /// A function whose next cold start may take a process made ready for it alone: its image
    /// read and its bitstream's program built in the host's OpenCL runtime.
    struct Binding: Sendable {
        let function: String
        let version: String
        let config: ImageConfig
        let image: @Sendable () throws(InstanceFailure) -> SealedImage
    }

    public init(launch: InstanceLaunch, size: Int, openCLSize: Int, logger: Logger) {
        self.launch = launch
        self.size = max(size, 0)
        self.openCLSize = max(openCLSize, 0)
        self.logger = logger
    }

    public var idleCount: Int {
        idle.withLock { $0.plain.count + $0.openCL.count } + bindings.withLock { $0.bound.count }
    }

    /// A live pre-started process: the one bound to this function's version if there is one,
    /// else one of the kind asked for, else of the other kind, else a new one. The pool is
    /// topped up by the scheduler's reaper (`refill`), off the cold start's path: starting a
    /// process costs tens of ms of CPU.
    func take(openCL: Bool, function: String, version: String) throws(InstanceFailure) -> InstanceProcess {
        let bound = bindings.withLock { b -> InstanceProcess? in
            guard let entry = b.bound[function], entry.version == version else { return nil }
            b.bound[function] = nil
            return entry.process
        }
        if let bound, bound.endedReason == nil { return bound }
        // The newest first: the longer a process has been idle, the colder its caches.
        while let process = idle.withLock({ openCL ? ($0.openCL.popLast() ?? $0.plain.popLast()) : ($0.plain.popLast() ?? $0.openCL.popLast()) }) {
            if process.endedReason == nil { return process }
        }
        refill()  // ran dry: this cold start is slow anyway; the next ones need not be
        return try InstanceProcess.spawn(launch, logger: logger)
    }

    /// An FPGA function was deployed or cold-started: it keeps (or gets, if it starts often enough)
    /// a process bound to its latest version from the next refill on.
    func bind(_ binding: Binding) {
        guard openCLSize > 0 else { return }
        let dropped = bindings.withLock { b -> [InstanceProcess] in
            b.starts = b.starts.compactMapValues { $0 * 0.9 >= 0.01 ? $0 * 0.9 : nil }
            b.starts[binding.function, default: 0] += 1
            let starts = b.starts
            let count = { (function: String) in starts[function, default: 0] }
            if let at = b.wanted.firstIndex(where: { $0.function == binding.function }) {
                b.wanted[at] = binding
                guard let entry = b.bound[binding.function], entry.version != binding.version else { return [] }
                b.bound[binding.function] = nil
                return [entry.process]
            }
            if b.wanted.count < openCLSize {
                b.wanted.append(binding)
                return []
            }
            guard let weakest = b.wanted.indices.min(by: { count(b.wanted[$0].function) < count(b.wanted[$1].function) }),
                  count(binding.function) > 1.5 * count(b.wanted[weakest].function) else { return [] }
            let replaced = b.bound.removeValue(forKey: b.wanted[weakest].function)
            b.wanted[weakest] = binding
            return replaced.map { [$0.process] } ?? []
        }
        for process in dropped { process.kill() }
        // The reaper's next tick starts it: this runs in cold starts, whose CPUs it would take.
    }

    /// The function was removed: its bound process ends.
    func unbind(function: String) {
        let dropped = bindings.withLock { b in
            b.wanted.removeAll { $0.function == function }
            b.starts[function] = nil
            return b.bound.removeValue(forKey: function)?.process
        }
        dropped?.kill()
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

    /// Tops the pool up in the background: `size` plain processes, `openCLSize` for FPGA
    /// functions once one is expected, and one bound to each function in `bind`'s list.
    public func refill() {
        guard !closed.load(ordering: .relaxed),
              filling.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        DispatchQueue.global().async { [self] in
            defer { filling.store(false, ordering: .releasing) }
            while !closed.load(ordering: .relaxed), let need = missing() {
                let process: InstanceProcess
                do { process = try InstanceProcess.spawn(launch, logger: logger) } catch {
                    logger.error("instance pool: \(error)")
                    return
                }
                switch need {
                case .plain: keep(process, openCL: false)
                case .openCL: keep(process, openCL: true)
                case .bound(let binding): keep(process, boundTo: binding)
                }
            }
        }
    }

    /// What the pool is short of, if anything.
    private enum Need {
        case plain, openCL, bound(Binding)
    }

    private func keep(_ process: InstanceProcess, openCL: Bool) {
        // The most recent last: it sets the size the process readies memory for.
        for hint in expected.withLock({ $0 }) where hint.openCL == openCL { process.prepare(hint) }
        idle.withLock { openCL ? $0.openCL.append(process) : $0.plain.append(process) }
    }

    private func missing() -> Need? {
        let wantsOpenCL = expected.withLock { $0.contains { $0.openCL } }
        let kind: Need? = idle.withLock { idle in
            if idle.plain.count < size { return .plain }
            if wantsOpenCL, idle.openCL.count < openCLSize { return .openCL }
            return nil
        }
        if let kind { return kind }
        return bindings.withLock { b -> Need? in
            for binding in b.wanted {
                guard let entry = b.bound[binding.function] else { return .bound(binding) }
                if entry.process.endedReason != nil {
                    b.bound[binding.function] = nil
                    return .bound(binding)
                }
            }
            return nil
        }
    }

    /// Binds a new process to the function, and keeps it if the function is still wanted.
    private func keep(_ process: InstanceProcess, boundTo binding: Binding) {
        do {
            try process.bind(BindInstance(function: binding.function, config: binding.config), image: binding.image)
        } catch {
            logger.error("instance pool: a process for \(binding.function): \(error)")
            process.kill()
            bindings.withLock { b in b.wanted.removeAll { $0.function == binding.function && $0.version == binding.version } }
            return
        }
        let kept = bindings.withLock { b -> Bool in
            guard b.wanted.contains(where: { $0.function == binding.function && $0.version == binding.version }),
                  b.bound[binding.function] == nil else { return false }
            b.bound[binding.function] = (binding.version, process)
            return true
        }
        if !kept { process.kill() }
    }

    /// Ends the idle processes (serve is shutting down).
    public func close() {
        closed.store(true, ordering: .relaxed)
        let all = idle.withLock { p in defer { p = ([], []) }; return p.plain + p.openCL }
            + bindings.withLock { b in defer { b = Bindings() }; return b.bound.values.map(\.process) }
        for process in all { process.kill() }
    }
}
