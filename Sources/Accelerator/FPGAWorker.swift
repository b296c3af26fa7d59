import Foundation

/// The one thread that drives one FPGA. Requests run on it in order; the
/// caller (a vCPU thread at a doorbell) waits with a deadline, so a kernel
/// that never ends costs the guest its timeout, never the tender its thread.
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
