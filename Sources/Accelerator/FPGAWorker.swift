import Foundation

/// The card's own thread, for what happens between tenants: closing a
/// session (waiting for its work, scrubbing its memory) runs here, in order,
/// off the instance's path; the next session opens once that is done. A
/// kernel that never ends leaves this thread waiting, never a vCPU thread.
final class FPGAWorker: @unchecked Sendable {
    private final class Job {
        let body: () -> Void
        var done = false
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []   // guarded by condition

    init(name: String) {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.body()
            condition.lock()
            job.done = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Runs `body` on the worker; returns false if `deadline` passed first (it may still run later).
    func run(until deadline: Date, _ body: @escaping () -> Void) -> Bool {
        let job = Job(body)
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        condition.broadcast()
        while !job.done {
            if !condition.wait(until: deadline) { return job.done }
        }
        return true
    }

    /// Queues `body` without waiting.
    func post(_ body: @escaping () -> Void) {
        condition.lock()
        jobs.append(Job(body))
        condition.broadcast()
        condition.unlock()
    }
}
