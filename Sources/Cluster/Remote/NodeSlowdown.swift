import Foundation
import KumoSupport

/// How many times longer than their CPU time a node's requests took lately: wall time over
/// the CPU time their vCPU threads got, each summed with weights that forget with time
/// (samples `memory` seconds old weigh 1/e). About 1 where a node's CPU is its own, n where
/// n threads share it. Unlike a request's duration it does not depend on which requests a
/// node happened to get: long ones weigh in by their CPU time, not by their count.
/// Unrefreshed for `stale`, it is unknown again (0): a node avoided for being slow is tried
/// again soon, and seen to have recovered.
struct NodeSlowdown {
    static let memory = 2.0
    static let stale = 2.0
    private var wall = 0.0
    private var cpu = 0.0
    private var at: ContinuousClock.Instant?

    mutating func add(wall requestWall: UInt64, cpu requestCPU: UInt64, at now: ContinuousClock.Instant) {
        let keep = value(at: now) == 0 ? 0 : exp(-Self.elapsed(since: at, now) / Self.memory)
        wall = wall * keep + Double(requestWall)
        cpu = cpu * keep + Double(requestCPU)
        at = now
    }

    func value(at now: ContinuousClock.Instant) -> Double {
        at == nil || cpu <= 0 || Self.elapsed(since: at, now) > Self.stale ? 0 : wall / cpu
    }

    private static func elapsed(since at: ContinuousClock.Instant?, _ now: ContinuousClock.Instant) -> Double {
        guard let at else { return 0 }
        return (now - at).seconds
    }
}
