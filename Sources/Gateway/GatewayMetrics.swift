import Cluster
import Metrics
import Prometheus
import Synchronization

/// The Prometheus registry behind /metrics; swift-metrics is bootstrapped onto
/// it once per process (by `kumo serve`).
public enum GatewayMetrics {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Atomic<Bool>(false)

    public static func bootstrap() {
        guard bootstrapped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// The exposition without the series of functions outside `functions`
    /// (lines with a `function="..."` label naming another function).
    static func only(functions: Set<String>, from text: [UInt8]) -> [UInt8] {
        var kept: [UInt8] = []
        kept.reserveCapacity(text.count)
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if let name = functionLabel(line), !functions.contains(name) { continue }
            kept += line
            kept.append(UInt8(ascii: "\n"))
        }
        if kept.last == UInt8(ascii: "\n"), text.last != UInt8(ascii: "\n") { kept.removeLast() }
        return kept
    }

    /// The value of a sample line's `function` label, if it has one.
    static func functionLabel(_ line: ArraySlice<UInt8>) -> String? {
        let key = Array("function=\"".utf8)
        guard line.first != UInt8(ascii: "#"), let brace = line.firstIndex(of: UInt8(ascii: "{")) else { return nil }
        var i = brace + 1
        while i + key.count <= line.endIndex {
            if line[i..<(i + key.count)].elementsEqual(key), line[i - 1] == UInt8(ascii: "{") || line[i - 1] == UInt8(ascii: ",") {
                let start = i + key.count
                guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: line[start..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}

/// Metric handles per label set, made once: building one goes through the
/// factory's locked registry, which is measurable on every request.
final class MetricHandles: Sendable {
    private let counters = Mutex<[String: Metrics.Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    func invocations(function: String, status: Int) -> Metrics.Counter {
        let key = "\(function)\u{0}\(status)"
        return counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Metrics.Counter(label: "kumo_invocations_total", dimensions: [("function", function), ("status", "\(status)")])
            cache[key] = counter
            return counter
        }
    }

    func latency(function: String) -> Metrics.Timer {
        timers.withLock { cache in
            if let timer = cache[function] { return timer }
            let timer = Metrics.Timer(label: "kumo_invocation_duration_seconds", dimensions: [("function", function)])
            cache[function] = timer
            return timer
        }
    }

    /// A removed function's handles go (a redeploy makes new ones).
    func forget(function: String) {
        counters.withLock { $0 = $0.filter { !$0.key.hasPrefix(function + "\u{0}") } }
        timers.withLock { $0[function] = nil }
    }
}
