/// How long an idle instance stays warm: learned per function (`auto`), or fixed.
public enum KeepAlive: Equatable, Sendable, CustomStringConvertible {
    /// Learned from the function's idle times between invocations; pre-warms ahead of them.
    case auto
    /// A fixed time in seconds; 0 stops an instance once its request is answered.
    case seconds(Double)

    public static let maxSeconds = 86_400.0

    /// "auto", or a duration like 30s, 10m, 0 (at most 24h); nil otherwise.
    public init?(_ text: String) {
        if text == "auto" { self = .auto; return }
        guard let seconds = Durations.parse(text), seconds.isFinite, seconds >= 0, seconds <= Self.maxSeconds else { return nil }
        self = .seconds(seconds)
    }

    public static let rule = "must be auto or a duration like 0, 30s or 10m (at most 24h)"

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .seconds(let s): return s == s.rounded() ? "\(Int(s))s" : "\(s)s"
        }
    }
}

extension KeepAlive: Codable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let seconds = try? single.decode(Double.self), let value = KeepAlive(String(seconds)) {
            self = value
        } else if let text = try? single.decode(String.self), let value = KeepAlive(text) {
            self = value
        } else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "keep_alive \(KeepAlive.rule)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .auto: try single.encode("auto")
        case .seconds(let s): try single.encode(s)
        }
    }
}

/// function.yaml's scaling keys, recorded in the image. A deploy's own options replace
/// them; the server's defaults fill what neither gives.
public struct Scaling: Codable, Equatable, Sendable {
    /// Requests in flight per instance the autoscaler aims at.
    public var concurrency: Int?
    /// Instances kept warm however idle the function is.
    public var minInstances: Int?
    public var maxInstances: Int?
    public var keepAlive: KeepAlive?

    public static let concurrencyRange = 1...1000
    public static let minInstancesRange = 0...256
    public static let maxInstancesRange = 1...256

    public init(concurrency: Int? = nil, minInstances: Int? = nil, maxInstances: Int? = nil, keepAlive: KeepAlive? = nil) {
        self.concurrency = concurrency
        self.minInstances = minInstances
        self.maxInstances = maxInstances
        self.keepAlive = keepAlive
    }

    public var isEmpty: Bool { self == Scaling() }

    /// `min_instances` above `max_instances` when both are known; nil when they agree.
    public static func conflict(min: Int, max: Int) -> String? {
        min > max ? "min_instances (\(min)) is above max_instances (\(max)); lower it or raise max_instances" : nil
    }
}
