import Foundation
import KVM
import KumoSupport
import Synchronization

/// Kills a guest that runs past its deadline: sets immediate_exit and kicks the
/// vCPU thread out of KVM_RUN with a signal. Holds the vCPU only until
/// cancelled, so a finished run frees its memory at once.
final class Watchdog {
    private let target: WatchdogTarget

    init(vcpu: VCPU, deadline: ContinuousClock.Instant) {
        target = WatchdogTarget(vcpu: vcpu, thread: VCPUKick.currentThread(), deadline: deadline)
        DeadlineThread.shared.add(target)
    }

    var fired: Bool { target.fired }

    /// Persistent mode: no deadline while the guest waits for a request.
    func pause() { DeadlineThread.shared.remove(target) }

    /// Persistent mode: a new request, a new deadline.
    func rearm(deadline: ContinuousClock.Instant) {
        target.deadline = deadline
        DeadlineThread.shared.add(target)
    }

    func cancel() {
        target.release()
        DeadlineThread.shared.remove(target)
    }
}

final class WatchdogTarget: Sendable {
    private let state: Mutex<(vcpu: VCPU?, fired: Bool)>
    private let thread: pthread_t
    private let deadlineState: Mutex<ContinuousClock.Instant>
    var deadline: ContinuousClock.Instant {
        get { deadlineState.withLock { $0 } }
        set { deadlineState.withLock { $0 = newValue } }
    }

    init(vcpu: VCPU, thread: pthread_t, deadline: ContinuousClock.Instant) {
        state = Mutex((vcpu, false))
        self.thread = thread
        deadlineState = Mutex(deadline)
    }

    /// Under the lock, so the vCPU cannot be released (and its thread move on) mid-kick.
    func fire() {
        state.withLock { s in
            guard let vcpu = s.vcpu else { return }
            s.fired = true
            vcpu.requestImmediateExit(true)
            VCPUKick.kick(thread)
        }
    }

    func release() { state.withLock { $0.vcpu = nil } }

    var fired: Bool { state.withLock { $0.fired } }
}

/// One thread per process that sleeps until the earliest deadline. Arming a
/// deadline is a lock and a signal (a timer per run cost ~0.2 ms).
final class DeadlineThread: @unchecked Sendable {
    static let shared = DeadlineThread()

    private let condition = NSCondition()
    private var targets: [ObjectIdentifier: WatchdogTarget] = [:]  // guarded by condition

    static let idleTick: Duration = .seconds(1)

    private init() {
        VCPUKick.installHandler()
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "kumo-watchdog"
        thread.start()
    }

    /// When the thread will next look, if it sleeps with a timeout (guarded by condition).
    private var nextWake: ContinuousClock.Instant?

    func add(_ target: WatchdogTarget) {
        condition.lock()
        targets[ObjectIdentifier(target)] = target
        // Waking the thread costs a cross-CPU wakeup; needless when it will look before this deadline anyway
        // (a persistent instance re-arms on every request).
        if nextWake.map({ target.deadline < $0 }) ?? true { condition.signal() }
        condition.unlock()
    }

    func remove(_ target: WatchdogTarget) {
        condition.lock()
        targets[ObjectIdentifier(target)] = nil
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            let now = ContinuousClock.now
            for (key, target) in targets where target.deadline <= now {
                target.fire()
                targets[key] = nil
            }
            guard let next = targets.values.map(\.deadline).min() else {
                // Idle, it still looks once a second, so that a run whose deadline is
                // further off need not wake it: a cross-CPU wakeup on the run's path
                // costs tens of µs here, and at times milliseconds.
                nextWake = now + Self.idleTick
                _ = condition.wait(until: Date(timeIntervalSinceNow: Self.idleTick.seconds))
                continue
            }
            nextWake = next
            let wait = max(next - now, .zero).seconds
            _ = condition.wait(until: Date(timeIntervalSinceNow: wait))
        }
    }
}
