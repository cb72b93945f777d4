extension Duration {
    /// The duration in seconds, as reports, metrics and progress lines print it.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// Seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).inSeconds
}

extension Duration {
    /// The longest wait a `--wait` can ask for: a year, which is as good as "until it is free".
    static let longestWait = Duration.seconds(31_536_000)

    /// A wait of `seconds` as a user gave it: NaN, zero and negative values wait not at all, infinity
    /// and anything past a year wait a year (converting those to whole milliseconds would trap).
    static func wait(seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        guard seconds < longestWait.inSeconds else { return longestWait }
        // Rounded, not cut: 2.01 s is 2009.999… ms as a Double.
        return .milliseconds(Int((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds as a message says it: whole seconds alone, else to the millisecond without
    /// trailing zeros (`0.3`, `1.9`, `30`). Whole seconds alone said "waited 0 s" for `--wait 0.9`.
    var saidInSeconds: String {
        let milliseconds = components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
        let whole = milliseconds / 1_000, fraction = milliseconds % 1_000
        guard fraction != 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
