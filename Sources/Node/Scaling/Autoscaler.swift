import Foundation

/// How many instances one function wants, from its observed concurrency, after
/// Knative's KPA: the average over a stable window (60 s) sets the number; a short
/// panic window (6 s) that asks for twice what is ready scales out at once, and while
/// panicking (until a stable window passes without a new trigger) it never scales in.
struct Autoscaler: Sendable {
    struct Windows: Sendable {
        var stable: Duration = .seconds(60)
        var panic: Duration = .seconds(6)
        /// Panic when the panic window wants this many times the ready instances.
        var panicThreshold = 2.0
    }

    /// One decision, and what it was made from (for `kumo describe` and /metrics).
    struct Decision: Sendable, Equatable, Codable {
        var desired: Int
        var stableConcurrency: Double
        var panicConcurrency: Double
        var panicking: Bool
    }

    let windows: Windows
    /// Per-tick readings within the stable window: when, how long, request-seconds.
    private var readings: [(at: ContinuousClock.Instant, seconds: Double, area: Double)] = []
    private var panicTriggered: ContinuousClock.Instant?
    /// The most wanted while panicking: a panic never scales in.
    private var panicPeak = 0
    private(set) var last = Decision(desired: 0, stableConcurrency: 0, panicConcurrency: 0, panicking: false)

    init(windows: Windows = Windows()) {
        self.windows = windows
    }

    /// `average` requests in flight over the last `seconds`; `ready` instances are up now.
    mutating func decide(average: Double, seconds: Double, now: ContinuousClock.Instant, ready: Int,
                         target: Int, bounds: ClosedRange<Int>) -> Decision {
        readings.append((now, seconds, average * seconds))
        let stableWindow = windows.stable
        readings.removeAll { now - $0.at > stableWindow }
        let stable = mean(since: now - windows.stable)
        let panic = mean(since: now - windows.panic)
        let perInstance = Double(max(target, 1))
        let wantStable = Int((stable / perInstance).rounded(.up))
        let wantPanic = Int((panic / perInstance).rounded(.up))
        if Double(wantPanic) >= windows.panicThreshold * Double(max(ready, 1)) {
            panicTriggered = now
        } else if let since = panicTriggered, now - since >= windows.stable {
            panicTriggered = nil
            panicPeak = 0
        }
        var desired = wantStable
        if panicTriggered != nil {
            desired = max(wantPanic, panicPeak, wantStable)
            panicPeak = desired
        }
        desired = min(max(desired, bounds.lowerBound), bounds.upperBound)
        last = Decision(desired: desired, stableConcurrency: stable, panicConcurrency: panic, panicking: panicTriggered != nil)
        return last
    }

    /// Request-seconds over the seconds covered since `start` (the window, or as much of it as there is).
    private func mean(since start: ContinuousClock.Instant) -> Double {
        var area = 0.0, covered = 0.0
        for r in readings where r.at > start {
            area += r.area
            covered += r.seconds
        }
        return covered > 0 ? area / covered : 0
    }
}
