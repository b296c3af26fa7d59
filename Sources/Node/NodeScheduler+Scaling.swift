import Foundation
import KumoSupport
import Logging
import Metrics

/// The autoscaler and the learned keep-alive, run at every reaper tick: each function's
/// concurrency is read, its desired instances decided and started ahead of need, its idle
/// times learned, and its pre-warm started when due.
extension NodeScheduler {
    /// The function's scaler, made at its deploy or first request (with what the store learned before).
    func meter(for deployment: Deployment) -> ConcurrencyMeter {
        if let known = scalers[deployment.name] {
            // Version and limits are what a redeploy changes; comparing them, not the whole config, keeps this cheap per request.
            if known.deployment.version != deployment.version || known.deployment.limits != deployment.limits {
                scalers[deployment.name]?.deployment = deployment
            }
            return known.meter
        }
        var histogram = IdleTimeHistogram(binSeconds: scaling.binSeconds)
        if let saved = learned.removeValue(forKey: deployment.name), saved.matches(binSeconds: scaling.binSeconds) { histogram = saved }
        let made = FunctionScaler(deployment: deployment, histogram: histogram)
        scalers[deployment.name] = made
        return made.meter
    }

    /// What the store learned before this process started (a restart keeps what was learned).
    func loadLearned() async {
        guard let store = scaling.store else { return }
        do { learned = try await store.histograms() } catch {
            logger.warning("learned keep-alives could not be read; they start again: \(error)")
        }
        // Functions adopted while the store was read take theirs now, if they learned nothing meanwhile.
        for (name, s) in scalers where s.histogram.samples == 0 {
            if let saved = learned.removeValue(forKey: name), saved.matches(binSeconds: scaling.binSeconds) {
                scalers[name]?.histogram = saved
            }
        }
    }

    /// What was learned since the last save, saved now (the node is stopping).
    func saveLearned() async {
        guard let store = scaling.store else { return }
        for (name, s) in scalers where s.unsaved {
            do { try await store.save(s.histogram, function: name) } catch {
                logger.warning("the learned keep-alive of \(name) was not saved: \(error)")
            }
        }
    }

    func scaleAll(now: ContinuousClock.Instant) {
        for name in Array(scalers.keys) { scale(name, now: now) }
    }

    private func scale(_ name: String, now: ContinuousClock.Instant) {
        guard var s = scalers[name] else { return }
        let reading = s.meter.drain(now: now)
        for gap in reading.idleGaps { s.histogram.record(idleSeconds: gap) }
        if !reading.idleGaps.isEmpty { s.unsaved = true }
        s.busyPeak = max(s.busyPeak, reading.peak)
        var relearn = !reading.idleGaps.isEmpty
        if let idle = reading.idleSince {
            if s.idleSince != idle {  // a new idle period: learn its busy peak, decide its windows
                s.histogram.record(peak: s.busyPeak)
                s.busyPeak = 0
                s.idleSince = idle
                s.prewarmedThisIdle = false
                relearn = true
            }
        } else {
            s.idleSince = nil
        }
        if relearn {  // the windows always follow the histogram, so what `describe` shows agrees with itself
            s.windows = s.deployment.limits.learnsKeepAlive
                ? s.histogram.windows(scaling.policy, fallbackSeconds: s.deployment.limits.keepAliveSeconds) : nil
        }
        let limits = s.deployment.limits
        let state = functions[name]
        let live = (state?.instances.filter { !$0.retired }.count ?? 0) + (state?.starting ?? 0)
        // A stored record is outside input: the bounds are made a valid range whatever it says.
        let high = max(limits.maxInstances, 1)
        let decision = s.autoscaler.decide(average: reading.average, seconds: reading.seconds, now: now, ready: live,
                                           target: limits.concurrency, bounds: min(max(limits.minInstances, 0), high)...high)
        // While requests are in flight (or a panic holds) the autoscaler sets the number; an
        // idle function keeps its minimum, and the keep-alive decides about the rest (a start
        // after the last answer would be the keep-alive's call, not the autoscaler's).
        s.floor = max(limits.minInstances, reading.inFlight > 0 || decision.panicking ? decision.desired : 0)
        var start = limits.stopsWhenIdle ? 0 : max(0, s.floor - live)
        if start == 0, live == 0, s.prewarmDue(now: now) {
            // Kumo's policy pre-warms as many as the function had in flight at once lately.
            start = scaling.policy == .kumo ? min(s.histogram.recentPeaks.max() ?? 1, limits.maxInstances) : 1
            s.prewarmedThisIdle = true
            s.prewarms += start
            handles(name).prewarms.increment(by: start)
        }
        if s.unsaved, let store = scaling.store, now - s.savedAt >= .seconds(5) {
            s.unsaved = false
            s.savedAt = now
            let histogram = s.histogram, logger = self.logger
            Task.detached {
                do { try await store.save(histogram, function: name) } catch {
                    logger.debug("learned keep-alive of \(name) not saved: \(error)")
                }
            }
        }
        let deployment = s.deployment
        scalers[name] = s
        record(decision, of: name, windows: s.windows)
        for _ in 0..<start { Task { await self.startAhead(deployment) } }
    }

    /// An instance started before a request asks for it; it waits idle. An FPGA function
    /// starts one only on a card that is free: a pre-warm never takes another's card,
    /// and an idle pre-warmed instance gives its card up to the next tenant who asks.
    func startAhead(_ deployment: Deployment) async {
        if deployment.config.accelerator == .fpga, await inventory.freeCount == 0 { return }
        let name = deployment.name
        if functions[name] == nil { functions[name] = FunctionState(deployment: deployment) }
        do {
            let instance = try await coldStart(deployment, evicting: false)
            guard scalers[name] != nil, instance.version == functions[name]?.deployment.version else {
                remove(instance, function: name, reason: "removed or deployed again while it started")
                return
            }
            instance.ready()
            serveWaiter(name)
            handOn(instance, function: name)  // still idle: to a request waiting in the fast lane
        } catch {
            logger.debug("starting \(deployment.name) ahead of need failed: \(error)")
        }
    }

    /// Idle instances past what the function keeps (never below its desired or minimum).
    func reapIdle(_ name: String, now: ContinuousClock.Instant) {
        guard let state = functions[name] else { return }
        let keepAlive = scalers[name]?.keepAlive(now: now) ?? .seconds(state.deployment.limits.keepAliveSeconds)
        let floor = scalers[name]?.floor ?? state.deployment.limits.minInstances
        let extrasGo = scalers[name]?.extrasExpired(now: now, policy: scaling.policy, binSeconds: scaling.binSeconds) ?? false
        var live = state.instances.filter { !$0.retired }.count
        for instance in state.instances {
            let life = instance.snapshot
            if life.busy, let limit = life.backstop, now > limit { instance.process.kill() }
            // A dead one always goes; a live one only above the floor (and an extra one above one).
            let limit = live > floor ? (extrasGo && live > 1 ? .zero : keepAlive) : .seconds(Int64.max / 2)
            if instance.claimIfExpired(keepAlive: limit, now: now) {
                live -= 1
                remove(instance, function: name, reason: instance.alive ? "idle past its keep-alive" : "the instance process ended")
            }
        }
    }

    public func scalingStatus(of function: String) -> ScalingStatus? {
        guard let s = scalers[function] else { return nil }
        let limits = s.deployment.limits, d = s.autoscaler.last
        let state = functions[function]
        return ScalingStatus(node: nodeName, instances: state?.instances.count ?? 0, starting: state?.starting ?? 0,
                             queued: (state?.waiters.count ?? 0) + laneQueued(function), desired: d.desired, stableConcurrency: d.stableConcurrency, panicConcurrency: d.panicConcurrency,
                             panicking: d.panicking, target: limits.concurrency, minInstances: limits.minInstances,
                             maxInstances: limits.maxInstances, keepAlive: limits.keepAlive.description,
                             learned: limits.learnsKeepAlive ? s.windows ?? s.histogram.windows(scaling.policy, fallbackSeconds: limits.keepAliveSeconds) : nil,
                             idleTimes: s.histogram.samples, prewarms: s.prewarms, reason: Self.reason(d, limits: limits))
    }

    static func reason(_ d: Autoscaler.Decision, limits: InstanceLimits) -> String {
        let wanted = Int(((d.panicking ? d.panicConcurrency : d.stableConcurrency) / Double(max(limits.concurrency, 1))).rounded(.up))
        if d.desired == limits.minInstances, d.desired > 0, wanted < d.desired { return "min_instances \(limits.minInstances)" }
        if d.desired == limits.maxInstances, wanted > d.desired { return "max_instances \(limits.maxInstances)" }
        if d.panicking {
            return String(format: "panic: %.1f in flight over 6 s at %d per instance; no scaling in until 60 s calm",
                          d.panicConcurrency, limits.concurrency)
        }
        if d.desired == 0 { return "no requests in the last 60 s: scaled to zero once idle past the keep-alive" }
        return String(format: "%.3g in flight over 60 s at %d per instance", d.stableConcurrency, limits.concurrency)
    }

    private func record(_ d: Autoscaler.Decision, of function: String, windows: KeepAliveWindows?) {
        let h = handles(function)
        h.desired.record(d.desired)
        h.stableConcurrency.record(d.stableConcurrency)
        h.panicking.record(d.panicking ? 1 : 0)
        if let windows { h.warmSeconds.record(windows.warmUntil) }
    }
}
