import KumoSupport
import Synchronization

/// One function's requests in flight on this node, integrated over time (the
/// autoscaler wants the time-weighted average, as Knative's queue proxy reports it,
/// not a sample that misses short requests), and the idle gaps before arrivals that
/// found nothing in flight. Both paths count here: the actor's and the fast lane.
final class ConcurrencyMeter: Sendable {
    /// What the meter saw since the last drain.
    struct Reading {
        /// Time-weighted requests in flight over `seconds`.
        var average: Double
        var seconds: Double
        var inFlight: Int
        /// Seconds idle before each arrival that found the function idle, oldest first.
        var idleGaps: [Double]
        /// When the function last went idle (nil: never, or busy now).
        var idleSince: ContinuousClock.Instant?
        var arrivals: Int
        /// The most in flight at once.
        var peak: Int
    }

    private struct State {
        var inFlight = 0
        var changed: ContinuousClock.Instant
        var drained: ContinuousClock.Instant
        var area = 0.0
        var idleSince: ContinuousClock.Instant?
        var idleGaps: [Double] = []
        var arrivals = 0
        var peak = 0

        mutating func advance(to now: ContinuousClock.Instant) {
            area += Double(inFlight) * (now - changed).seconds
            changed = now
        }
    }

    /// A tick drains the gaps; a function that gets no ticks (the node stopping) keeps at most these.
    static let maxPendingGaps = 4096

    private let state: Mutex<State>

    init(now: ContinuousClock.Instant = .now) {
        state = Mutex(State(changed: now, drained: now))
    }

    func begin(now: ContinuousClock.Instant = .now) {
        state.withLock { s in
            s.advance(to: now)
            if s.inFlight == 0, let idle = s.idleSince, s.idleGaps.count < Self.maxPendingGaps {
                s.idleGaps.append((now - idle).seconds)
            }
            s.inFlight += 1
            s.arrivals += 1
            s.peak = max(s.peak, s.inFlight)
            s.idleSince = nil
        }
    }

    func end(now: ContinuousClock.Instant = .now) {
        state.withLock { s in
            s.advance(to: now)
            s.inFlight = max(0, s.inFlight - 1)
            if s.inFlight == 0 { s.idleSince = now }
        }
    }

    var inFlight: Int { state.withLock { $0.inFlight } }

    func drain(now: ContinuousClock.Instant = .now) -> Reading {
        state.withLock { s in
            s.advance(to: now)
            let seconds = (now - s.drained).seconds
            let reading = Reading(average: seconds > 0 ? s.area / seconds : Double(s.inFlight), seconds: seconds,
                                  inFlight: s.inFlight, idleGaps: s.idleGaps, idleSince: s.idleSince, arrivals: s.arrivals,
                                  peak: max(s.peak, s.inFlight))
            s.area = 0
            s.drained = now
            s.idleGaps.removeAll(keepingCapacity: true)
            s.arrivals = 0
            s.peak = s.inFlight
            return reading
        }
    }
}
