import Foundation
import Synchronization

/// One instance: its process and its life. The life is under a lock of its own
/// because two parties take idle instances: the scheduler (an actor) and the
/// gateway's event-loop fast lane (`NodeScheduler.invokeWarm`). Whoever claims
/// an instance has it alone until it is released.
public final class NodeInstance: Sendable {
    public let id: String
    let process: InstanceProcess
    let version: String
    let card: String?
    /// The guest memory reserved for it in the node's budget, and whose it is.
    let reservation: (bytes: UInt64, tenant: String)
    /// Keep-alive zero: the instance stops once its request is answered.
    let stopsWhenIdle: Bool
    let started = Date()

    struct Life {
        var busy = true
        var retired = false
        var lastUsed = ContinuousClock.now
        var served = 0
        /// While busy: past this, the process is killed (it stopped answering).
        var backstop: ContinuousClock.Instant?
    }
    private let life = Mutex(Life())

    init(id: String, process: InstanceProcess, version: String, card: String?, reservation: (bytes: UInt64, tenant: String),
         stopsWhenIdle: Bool = false) {
        self.id = id
        self.process = process
        self.version = version
        self.card = card
        self.reservation = reservation
        self.stopsWhenIdle = stopsWhenIdle
    }

    var snapshot: Life { life.withLock { $0 } }
    var alive: Bool { process.endedReason == nil }

    /// Takes the instance if it is idle, not retired, alive and of `version` (any, if nil).
    func claim(version wanted: String? = nil) -> Bool {
        guard wanted == nil || wanted == version, alive else { return false }
        return life.withLock { l in
            guard !l.busy, !l.retired else { return false }
            l.busy = true
            return true
        }
    }

    /// Takes it for stopping if it has been idle `keepAlive` or longer (or its process died).
    func claimIfExpired(keepAlive: Duration, now: ContinuousClock.Instant) -> Bool {
        let dead = !alive
        return life.withLock { l in
            guard !l.busy, dead || now - l.lastUsed >= keepAlive else { return false }
            l.busy = true
            l.retired = true
            return true
        }
    }

    func arm(timeoutSeconds: Double) {
        life.withLock { $0.backstop = .now + .seconds(timeoutSeconds + 5) }
    }

    /// A request finished: counted; idle again unless `keepBusy` (handed to a waiter).
    func finishedRequest(keepBusy: Bool) {
        life.withLock { l in
            l.lastUsed = .now
            l.backstop = nil
            l.served += 1
            if !keepBusy { l.busy = false }
        }
    }

    /// Started ahead of a request (a pre-warm or a scale-out): idle from now.
    func ready() {
        life.withLock { l in
            l.lastUsed = .now
            l.busy = false
        }
    }

    /// Gives back a claim that was not used.
    func unclaim() { life.withLock { $0.busy = false } }

    /// Retires it; true if it was idle (the caller now owns it and should stop it).
    func retire() -> Bool {
        life.withLock { l in
            l.retired = true
            guard !l.busy else { return false }
            l.busy = true
            return true
        }
    }

    var retired: Bool { life.withLock { $0.retired } }
}
