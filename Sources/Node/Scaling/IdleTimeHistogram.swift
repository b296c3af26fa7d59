import Foundation

/// Which learned keep-alive a node runs for `keep_alive: auto` (`kumo serve --learned-keep-alive`).
public enum LearnedPolicy: String, Sendable, CaseIterable, Codable {
    /// Shahrad et al., "Serverless in the Wild" (ATC'20): the hybrid histogram policy as published.
    case hybrid
    /// The hybrid policy with Kumo's changes (docs/scaling.md says which and why).
    case kumo
}

/// What a learned keep-alive says once the function goes idle: with a pre-warm, its idle
/// instances stop at once and one starts again `prewarmSeconds` later; either way instances
/// stay warm until `prewarmSeconds + keepAliveSeconds` after it went idle.
public struct KeepAliveWindows: Codable, Sendable, Equatable {
    public enum Basis: String, Codable, Sendable {
        /// Too few idle times yet: the fixed fallback.
        case tooFew = "too-few-idle-times"
        /// The histogram is spread flat (its bins' coefficient of variation is low): the fixed fallback.
        case flat = "flat-histogram"
        /// The histogram's head and tail percentiles.
        case histogram
        /// Most idle times fall beyond the histogram: predicted from the recent ones.
        case recent = "recent-idle-times"
    }

    public var prewarmSeconds: Double
    public var keepAliveSeconds: Double
    public var basis: Basis

    /// Seconds after going idle until which an instance stays warm.
    public var warmUntil: Double { prewarmSeconds + keepAliveSeconds }
}

/// A function's idle times between invocations, in bins of `binSeconds` (a minute in
/// production) up to `bins` of them (4 hours), with those beyond counted apart and the
/// recent ones kept for prediction. Persisted in the state store: it outlives a restart.
public struct IdleTimeHistogram: Codable, Sendable, Equatable {
    public static let bins = 240
    /// Samples before the histogram speaks; fewer use the fixed fallback.
    static let minimumSamples = 10
    /// Past this many samples the counts halve: old behaviour fades.
    static let decayAt = 2000
    static let recentKept = 16

    public private(set) var binSeconds: Double
    public private(set) var counts: [UInt32]
    public private(set) var outOfBounds: UInt32 = 0
    public private(set) var recent: [Double] = []
    /// The most requests in flight at once in the recent busy periods (Kumo pre-warms that many).
    public private(set) var recentPeaks: [Int] = []

    public init(binSeconds: Double) {
        self.binSeconds = binSeconds
        counts = Array(repeating: 0, count: Self.bins)
    }

    public var samples: Int { counts.reduce(0) { $0 + Int($1) } + Int(outOfBounds) }
    var range: Double { binSeconds * Double(Self.bins) }

    public mutating func record(idleSeconds: Double) {
        guard idleSeconds.isFinite, idleSeconds >= 0 else { return }
        let bin = Int(idleSeconds / binSeconds)
        if bin < Self.bins { counts[bin] += 1 } else { outOfBounds += 1 }
        recent.append(idleSeconds)
        if recent.count > Self.recentKept { recent.removeFirst(recent.count - Self.recentKept) }
        if samples >= Self.decayAt {
            counts = counts.map { $0 / 2 }
            outOfBounds /= 2
        }
    }

    public mutating func record(peak: Int) {
        recentPeaks.append(max(peak, 1))
        if recentPeaks.count > Self.recentKept { recentPeaks.removeFirst(recentPeaks.count - Self.recentKept) }
    }

    /// What a stored histogram must be to be used (the store is outside this process).
    public var isWellFormed: Bool {
        binSeconds.isFinite && binSeconds > 0 && counts.count == Self.bins && recent.count <= Self.recentKept
            && recentPeaks.count <= Self.recentKept && recent.allSatisfy { $0.isFinite && $0 >= 0 } && recentPeaks.allSatisfy { $0 >= 1 }
    }

    /// A histogram learned with another bin width is started again (the server's setting changed).
    public func matches(binSeconds other: Double) -> Bool { abs(binSeconds - other) < 1e-9 }

    /// Kumo's policy differs from the published hybrid in three places, each measured with
    /// scripts/bench-trace.sh (docs/scaling.md): it predicts a timer from two regular idle
    /// times instead of waiting for ten; without a pre-warm it never keeps an instance for less
    /// than the fixed fallback (a 99th percentile taken from a few dozen idle times cuts off
    /// the tail that the next call falls in); and (in the scheduler) it pre-warms as many
    /// instances as the function had busy at once lately, and keeps only one past a few bins.
    public func windows(_ policy: LearnedPolicy, fallbackSeconds: Double) -> KeepAliveWindows {
        let fallback = KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: fallbackSeconds, basis: .tooFew)
        let total = samples
        let outOfRange = total > 0 && Double(outOfBounds) / Double(total) > 0.5
        let flat = coefficientOfVariation < 2
        if policy == .kumo, total < Self.minimumSamples || outOfRange || flat,
           var timer = predictedFromRecent(minimum: 2, regularOnly: true) {
            if timer.prewarmSeconds == 0 { timer.keepAliveSeconds = max(timer.keepAliveSeconds, fallbackSeconds) }
            return timer
        }
        guard total >= Self.minimumSamples else { return fallback }
        if outOfRange { return predictedFromRecent(minimum: 1) ?? fallback }
        if flat { return KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: fallbackSeconds, basis: .flat) }
        let head = Double(bin(atPercentile: 0.05)) * binSeconds
        let tail = Double(bin(atPercentile: 0.99) + 1) * binSeconds
        // 10% margins: pre-warm a little early, keep a little long.
        let prewarm = head * 0.9
        var keep = max(tail * 1.1 - prewarm, binSeconds)
        if policy == .kumo, prewarm == 0 { keep = max(keep, fallbackSeconds) }
        return KeepAliveWindows(prewarmSeconds: prewarm, keepAliveSeconds: keep, basis: .histogram)
    }

    /// The paper forecasts the next idle time with ARIMA; the mean of the recent ones needs
    /// no model fit. A 15% margin each side. `regularOnly`: only when the recent idle times
    /// agree (a timer's do; a Poisson arrival's do not, and pre-warming on their mean would
    /// miss every short one). A pre-warm under one bin is none: the instance stays warm
    /// (calls back to back agree too, and stopping after each would make every one cold).
    private func predictedFromRecent(minimum: Int, regularOnly: Bool = false) -> KeepAliveWindows? {
        guard recent.count >= minimum else { return nil }
        let predicted = recent.reduce(0, +) / Double(recent.count)
        if regularOnly {
            let spread = (recent.reduce(0) { $0 + pow($1 - predicted, 2) } / Double(recent.count)).squareRoot()
            guard predicted > 0, spread / predicted <= 0.3 else { return nil }
        }
        guard predicted * 0.85 >= binSeconds else {
            return KeepAliveWindows(prewarmSeconds: 0, keepAliveSeconds: max(predicted * 1.15, binSeconds), basis: .recent)
        }
        return KeepAliveWindows(prewarmSeconds: predicted * 0.85, keepAliveSeconds: max(predicted * 0.3, binSeconds), basis: .recent)
    }

    /// Of the in-range bins' counts: a flat histogram says little about the next idle time.
    var coefficientOfVariation: Double {
        let n = Double(counts.count)
        let mean = counts.reduce(0.0) { $0 + Double($1) } / n
        guard mean > 0 else { return 0 }
        let variance = counts.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / n
        return variance.squareRoot() / mean
    }

    /// The bin that holds the `p` quantile of the in-range idle times.
    func bin(atPercentile p: Double) -> Int {
        let inRange = counts.reduce(0) { $0 + Int($1) }
        let wanted = max(1, Int((p * Double(inRange)).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() {
            seen += Int(c)
            if seen >= wanted { return i }
        }
        return counts.count - 1
    }
}
