import Foundation
@testable import Node
import Testing

/// The autoscaler's decisions, the learned keep-alive's windows and the concurrency meter,
/// on explicit instants (no clock in these tests).
@Suite("Scaling: KPA autoscaler, hybrid histogram, concurrency meter")
struct ScalingTests {
    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    @Test func theStableWindowAveragesAndThePanicWindowScalesOutAtOnce() {
        var kpa = Autoscaler()
        // 60 s of 3 requests in flight at a target of 1: three instances, no panic.
        var d = kpa.decide(average: 0, seconds: 1, now: at(0), ready: 3, target: 1, bounds: 0...50)
        for s in 1...60 { d = kpa.decide(average: 3, seconds: 1, now: at(Double(s)), ready: 3, target: 1, bounds: 0...50) }
        #expect(d.desired == 3 && !d.panicking)
        // A burst to 30 in flight: the 6 s window wants 10× what is ready; panic scales out at once.
        d = kpa.decide(average: 30, seconds: 1, now: at(61), ready: 3, target: 1, bounds: 0...50)
        #expect(d.panicking && d.desired >= 6, "\(d)")
        for s in 62...66 { d = kpa.decide(average: 30, seconds: 1, now: at(Double(s)), ready: d.desired, target: 1, bounds: 0...50) }
        let peak = d.desired
        #expect(peak == 30 && d.panicking)
        // The burst ends: still panicking, so no scaling in for a stable window after the last trigger.
        for s in 67...100 { d = kpa.decide(average: 0, seconds: 1, now: at(Double(s)), ready: peak, target: 1, bounds: 0...50) }
        #expect(d.panicking && d.desired == peak)
        for s in 101...130 { d = kpa.decide(average: 0, seconds: 1, now: at(Double(s)), ready: peak, target: 1, bounds: 0...50) }
        #expect(!d.panicking && d.desired < peak, "calm for 60 s: the stable window decides again")
        // Idle for a whole stable window: zero.
        for s in 131...200 { d = kpa.decide(average: 0, seconds: 1, now: at(Double(s)), ready: 0, target: 1, bounds: 0...50) }
        #expect(d.desired == 0)
    }

    @Test func theTargetAndTheBoundsShapeTheNumber() {
        var kpa = Autoscaler()
        var d = kpa.decide(average: 10, seconds: 1, now: at(1), ready: 3, target: 4, bounds: 0...50)
        #expect(d.desired == 3, "10 in flight at 4 per instance")
        kpa = Autoscaler()
        d = kpa.decide(average: 100, seconds: 1, now: at(1), ready: 1, target: 1, bounds: 2...8)
        #expect(d.desired == 8, "never above max_instances")
        kpa = Autoscaler()
        d = kpa.decide(average: 0, seconds: 1, now: at(1), ready: 0, target: 1, bounds: 2...8)
        #expect(d.desired == 2, "never below min_instances")
    }

    @Test func tooFewIdleTimesUseTheFallback() {
        var h = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<5 { h.record(idleSeconds: 125) }
        let w = h.windows(.hybrid, fallbackSeconds: 600)
        #expect(w == KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: 600, basis: .tooFew))
    }

    /// Idle times around 5 minutes: unload after each call, pre-warm before the 5th percentile
    /// (less 10%), keep until past the 99th (plus 10%).
    @Test func aConcentratedHistogramPrewarmsAtItsHeadAndKeepsToItsTail() {
        var h = IdleTimeHistogram(binSeconds: 60)
        for i in 0..<100 { h.record(idleSeconds: 300 + Double(i % 50)) }  // bin 5
        let w = h.windows(.hybrid, fallbackSeconds: 600)
        #expect(w.basis == .histogram)
        #expect(abs(w.prewarmSeconds - 270) < 1e-9, "5 minutes less 10%")
        #expect(abs(w.warmUntil - 396) < 1e-9, "6 minutes plus 10%")
        // Frequent calls: no pre-warm, kept a bin and a margin.
        var busy = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<50 { busy.record(idleSeconds: 2) }
        let frequent = busy.windows(.hybrid, fallbackSeconds: 600)
        #expect(frequent.basis == .histogram && frequent.prewarmSeconds == 0 && abs(frequent.keepAliveSeconds - 66) < 1e-9)
    }

    @Test func aFlatHistogramFallsBackAndOutOfRangeIdleTimesArePredicted() {
        var flat = IdleTimeHistogram(binSeconds: 60)
        for bin in 0..<240 { flat.record(idleSeconds: Double(bin) * 60 + 30) }
        #expect(flat.coefficientOfVariation < 2)
        #expect(flat.windows(.hybrid, fallbackSeconds: 600).basis == .flat)
        var rare = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<12 { rare.record(idleSeconds: 6 * 3600) }  // every 6 hours: beyond the 4-hour range
        let w = rare.windows(.hybrid, fallbackSeconds: 600)
        #expect(w.basis == .recent && abs(w.prewarmSeconds - 0.85 * 6 * 3600) < 1e-6 && abs(w.warmUntil - 1.15 * 6 * 3600) < 1e-6)
    }

    /// Kumo's policy predicts a timer's next call from two regular idle times, where the
    /// hybrid waits for ten; irregular ones it does not predict.
    @Test func kumoPredictsRegularIdleTimesEarly() {
        var timer = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<2 { timer.record(idleSeconds: 300) }
        #expect(timer.windows(.hybrid, fallbackSeconds: 600).basis == .tooFew)
        let w = timer.windows(.kumo, fallbackSeconds: 600)
        #expect(w.basis == .recent && abs(w.prewarmSeconds - 255) < 1e-9)
        var poisson = IdleTimeHistogram(binSeconds: 60)
        for s in [5.0, 300, 40] { poisson.record(idleSeconds: s) }
        #expect(poisson.windows(.kumo, fallbackSeconds: 600).basis == .tooFew)
        // Calls back to back agree as well as a timer's, but a pre-warm under a bin would stop
        // the instance after every call: it stays warm, at least the fallback.
        var loop = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<3 { loop.record(idleSeconds: 0.004) }
        #expect(loop.windows(.kumo, fallbackSeconds: 600) == KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: 600, basis: .recent))
    }

    /// Without a pre-warm, Kumo keeps an instance at least as long as the fixed fallback.
    @Test func kumoNeverKeepsLessThanTheFallbackWithoutAPrewarm() {
        var busy = IdleTimeHistogram(binSeconds: 60)
        for i in 0..<50 { busy.record(idleSeconds: Double(i % 7)) }
        #expect(busy.windows(.hybrid, fallbackSeconds: 600).warmUntil < 100)
        #expect(busy.windows(.kumo, fallbackSeconds: 600) == KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: 600, basis: .histogram))
    }

    @Test func storedHistogramsAreCheckedAndOldCountsFade() throws {
        var h = IdleTimeHistogram(binSeconds: 60)
        for _ in 0..<(IdleTimeHistogram.decayAt - 1) { h.record(idleSeconds: 1) }
        #expect(h.samples == IdleTimeHistogram.decayAt - 1)
        h.record(idleSeconds: 1)
        #expect(h.samples == IdleTimeHistogram.decayAt / 2, "halved past the decay point")
        let json = try JSONEncoder().encode(h)
        #expect(try JSONDecoder().decode(IdleTimeHistogram.self, from: json) == h)
        var text = String(decoding: json, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"binSeconds\":60", with: "\"binSeconds\":-1")
        #expect(try JSONDecoder().decode(IdleTimeHistogram.self, from: Data(text.utf8)).isWellFormed == false)
        h.record(idleSeconds: .nan)
        h.record(idleSeconds: -3)
        #expect(h.samples == IdleTimeHistogram.decayAt / 2, "nonsense idle times are not counted")
    }

    @Test func theMeterIntegratesConcurrencyAndRecordsIdleGaps() {
        let meter = ConcurrencyMeter(now: at(0))
        meter.begin(now: at(0))
        meter.begin(now: at(0.5))
        meter.end(now: at(1))
        meter.end(now: at(1.5))
        meter.begin(now: at(3.5))  // idle 2 s
        let r = meter.drain(now: at(4))
        // Request-seconds: 0.5 (0–0.5 at 1) + 1 (0.5–1 at 2) + 0.5 (1–1.5) + 0.5 (3.5–4) = 2.5 over 4 s.
        #expect(abs(r.average - 0.625) < 1e-9)
        #expect(r.idleGaps.count == 1 && abs(r.idleGaps[0] - 2) < 1e-9)
        #expect(r.peak == 2 && r.inFlight == 1 && r.arrivals == 3 && r.idleSince == nil)
        meter.end(now: at(5))
        let next = meter.drain(now: at(6))
        #expect(abs(next.average - 0.5) < 1e-9 && next.idleSince == at(5) && next.idleGaps.isEmpty)
    }
}
