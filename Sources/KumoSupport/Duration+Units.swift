/// A Duration as the plain numbers system calls, clocks and metrics take.
extension Duration {
    /// Seconds, fractional.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole nanoseconds; 0 for a negative duration.
    public var wholeNanoseconds: UInt64 {
        let (s, atto) = components
        return UInt64(max(s, 0)) * 1_000_000_000 + UInt64(max(atto, 0) / 1_000_000_000)
    }
}
