import NIOCore

/// Runs a task's jobs on the NIO event loop that took its request. A cold
/// start's task, and the scheduler actor's code it calls, then starts on that
/// loop and resumes there when the instance answers, instead of hopping to
/// Swift's cooperative pool and back: two cross-thread wakeups fewer, each tens
/// of µs here and at times milliseconds. Only for work that does not block:
/// routes keep large bodies (whose pipe writes can block) off it.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
