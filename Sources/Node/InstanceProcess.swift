import CSandbox
import Foundation
import InstanceWire
import KumoSupport
import Tender
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why an instance could not answer.
public enum InstanceFailure: Error, CustomStringConvertible, Sendable {
    case spawnFailed(String)
    /// The process ended or refused its start; the reason it gave, if any.
    case ended(String)
    public var description: String {
        switch self {
        case .spawnFailed(let why): return "cannot start an instance process: \(why)"
        case .ended(let why): return "the instance ended: \(why)"
        }
    }
}

/// The node's handle on one instance process (`kumo instance`): frames out on
/// its stdin, frames in from its stdout, read by a thread of its own, and its
/// image as a sealed memfd over a socket that is its descriptor 3.
public final class InstanceProcess: @unchecked Sendable {
    public let pid: pid_t
    let toChild: Int32
    let fromChild: Int32
    let imageSocket: Int32
    let logger: Logger

    public typealias Reply = Result<(InvokeResult, [UInt8]), any Error>
    /// Who waits for an answer: a task, or a callback on the reader thread (the fast lane).
    enum Answer {
        case task(CheckedContinuation<(InvokeResult, [UInt8]), any Error>)
        case callback(@Sendable (Reply) -> Void)

        func deliver(_ reply: Reply) {
            switch self {
            case .task(let continuation): continuation.resume(with: reply)
            case .callback(let callback): callback(reply)
            }
        }
    }
    struct State {
        var pending: [UInt64: Answer] = [:]
        var stopWaiters: [CheckedContinuation<InstanceStopped?, Never>] = []
        var stopped: InstanceStopped?
        var ended: String?
        var onLog: (@Sendable (LogLine) -> Void)?
    }
    private let state = Mutex(State())
    /// Guards writes, and whether the pipe to the child is still open.
    private let writeLock = Mutex(true)

    /// Starts `kumo instance`; it confines itself, warms KVM and waits for a start frame.
    /// It gets its two pipes, /dev/null as stderr, its image socket as descriptor 3,
    /// nothing else of the node's descriptors (every one above 3 is closed in the
    /// child before exec) and a clean environment.
    public static func spawn(_ launch: InstanceLaunch, logger: Logger) throws(InstanceFailure) -> InstanceProcess {
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0], images: [Int32] = [0, 0]
        guard csb_pipe_cloexec(&down) == 0 else { throw .spawnFailed(String(cString: strerror(errno))) }
        guard csb_pipe_cloexec(&up) == 0 else {
            close(down[0]); close(down[1])
            throw .spawnFailed(String(cString: strerror(errno)))
        }
        let paired = csb_socketpair_cloexec(&images)
        guard paired == 0 else {
            for fd in down + up { close(fd) }
            throw .spawnFailed(String(cString: strerror(-paired)))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, down[0], 0)
        posix_spawn_file_actions_adddup2(&actions, up[1], 1)
        if !launch.keepsStderr { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, images[1], SealedImageDescriptor.socket)
        guard csb_spawn_close_from(&actions, SealedImageDescriptor.socket + 1) == 0 else {
            for fd in down + up + images { close(fd) }
            throw .spawnFailed("cannot close the node's descriptors in the child")
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([launch.executable] + launch.arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = launch.environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, launch.executable, &actions, nil, argv, envp)
        close(down[0])
        close(up[1])
        close(images[1])
        guard rc == 0 else {
            close(down[1]); close(up[0]); close(images[0])
            throw .spawnFailed("\(launch.executable): \(String(cString: strerror(rc)))")
        }
        let process = InstanceProcess(pid: pid, toChild: down[1], fromChild: up[0], imageSocket: images[0], logger: logger)
        let reader = Thread { process.readLoop() }
        reader.name = "kumo-instance-\(pid)"
        reader.start()
        return process
    }

    init(pid: pid_t, toChild: Int32, fromChild: Int32, imageSocket: Int32, logger: Logger) {
        self.pid = pid
        self.toChild = toChild
        self.fromChild = fromChild
        self.imageSocket = imageSocket
        self.logger = logger
    }

    /// nil while the process lives; else why it ended.
    public var endedReason: String? { state.withLock { $0.ended } }

    /// The function this pooled process was bound to (`bind`), if any.
    private let boundTo = Mutex<String?>(nil)

    /// Makes the process one function's instance: the start frame first, so that it decodes
    /// the start while `image` is found and its descriptor sent (each ~20 µs here). A process
    /// bound to the function has its image already.
    func start(_ start: StartInstance, image: () throws(InstanceFailure) -> SealedImage,
               onLog: @escaping @Sendable (LogLine) -> Void) throws(InstanceFailure) {
        state.withLock { $0.onLog = onLog }
        try send(.start(start))
        guard boundTo.withLock({ $0 }) != start.function else { return }
        try send(image: image)
    }

    /// Dedicates a pooled process to one function ahead of its cold start: it reads the image
    /// and builds its bitstream's program while it waits (the pool keeps it for that function alone).
    func bind(_ binding: BindInstance, image: () throws(InstanceFailure) -> SealedImage) throws(InstanceFailure) {
        boundTo.withLock { $0 = binding.function }
        try send(.bind(binding))
        try send(image: image)
    }

    private func send(image: () throws(InstanceFailure) -> SealedImage) throws(InstanceFailure) {
        do {
            let image = try image()
            try writeLock.withLock { open throws(InstanceFailure) in
                guard open else { throw .ended("it closed its pipe") }
                // The cache may drop the image meanwhile: its descriptor must stay open through the send.
                let sent = withExtendedLifetime(image) { csb_send_fd(imageSocket, image.descriptor) }
                guard sent == 0 else { throw .ended("cannot hand it its image: \(String(cString: strerror(-sent)))") }
            }
        } catch {
            kill()  // it would wait for its image forever
            throw error
        }
    }

    /// Tells a process still in the pool of a memory size it may be started with.
    func prepare(_ hint: PrepareInstance) {
        try? send(.prepare(hint))
    }

    /// One invocation; the process answers requests in order.
    public func invoke(_ request: InvokeRequest, body: [UInt8]) async throws -> (InvokeResult, [UInt8]) {
        try await withCheckedThrowingContinuation { continuation in
            submit(request, body: body, answer: .task(continuation))
        }
    }

    /// The same, answered by a callback on this process's reader thread.
    public func invoke(_ request: InvokeRequest, body: [UInt8], callback: @escaping @Sendable (Reply) -> Void) {
        submit(request, body: body, answer: .callback(callback))
    }

    private func submit(_ request: InvokeRequest, body: [UInt8], answer: Answer) {
        let ended: String? = state.withLock { s in
            if let why = s.ended { return why }
            s.pending[request.id] = answer
            return nil
        }
        if let ended { return answer.deliver(.failure(InstanceFailure.ended(ended))) }
        do { try send(.invoke(request), blob: body); Trace.mark("node invoke sent") } catch {
            if let waiting = state.withLock({ $0.pending.removeValue(forKey: request.id) }) {
                waiting.deliver(.failure(error))
            }
        }
    }

    /// Asks the instance to finish (persistent guests get -1 from kumo_next_request);
    /// kills it after `grace`. Returns what its FPGA holds, if it said.
    public func stop(grace: Duration = .seconds(5)) async -> InstanceStopped? {
        try? send(.stop)
        let pid = self.pid
        let killer = Task {
            try? await Task.sleep(for: grace)
            Glibc.kill(pid, SIGKILL)
        }
        defer { killer.cancel() }
        return await withCheckedContinuation { (waiter: CheckedContinuation<InstanceStopped?, Never>) in
            let done: InstanceStopped?? = state.withLock { s in
                if s.ended != nil { return .some(s.stopped) }
                s.stopWaiters.append(waiter)
                return nil
            }
            if let done { waiter.resume(returning: done) }
        }
    }

    /// Ends it now (a hung request past its grace, a node shutting down).
    public func kill() { _ = Glibc.kill(pid, SIGKILL) }

    private func send(_ message: WorkerMessage, blob: [UInt8] = []) throws(InstanceFailure) {
        do {
            try writeLock.withLock { open throws(FrameIO.Failure) in
                guard open else { throw .closed }
                try FrameIO.write(message, blob: blob, to: toChild)
            }
        } catch { throw .ended("cannot write to it: \(error)") }
    }

    private func readLoop() {
        var reason = "the instance process exited"
        while true {
            let frame: FrameIO.Frame
            do { frame = try FrameIO.read(from: fromChild) } catch {
                if case .malformed = error { reason = "it sent a \(error)" }
                break
            }
            switch frame.message {
            case .result(let result):
                Trace.mark("node result read")
                state.withLock { $0.pending.removeValue(forKey: result.id) }?.deliver(.success((result, frame.blob)))
            case .log(let line):
                state.withLock { $0.onLog }?(line)
            case .stopped(let stopped):
                state.withLock { $0.stopped = stopped }
            case .failed(let why):
                reason = why
            case .prepare, .bind, .start, .invoke, .stop:
                reason = "it sent a node's message"
            }
        }
        kill()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(fromChild)
        writeLock.withLock { open in
            close(toChild)
            close(imageSocket)
            open = false
        }
        let (pending, waiters, stopped) = state.withLock { s in
            s.ended = reason
            defer { s.pending = [:]; s.stopWaiters = [] }
            return (s.pending, s.stopWaiters, s.stopped)
        }
        for answer in pending.values { answer.deliver(.failure(InstanceFailure.ended(reason))) }
        for waiter in waiters { waiter.resume(returning: stopped) }
    }
}
