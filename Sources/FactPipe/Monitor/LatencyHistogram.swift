/// Point-lookup latencies as a Prometheus histogram: cumulative counts per upper bound, their sum
/// and count, kept since the monitor started (so every figure only rises).
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds of the buckets, in seconds (`+Inf` is implied): 10 µs to 1 s.
    public static let bounds: [Double] = [
        0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1,
    ]

    /// Observations at or below each bound, in the order of `bounds`.
    public private(set) var cumulativeCounts = [Int](repeating: 0, count: LatencyHistogram.bounds.count)
    /// Observations in all.
    public private(set) var count = 0
    /// Sum of the observed seconds.
    public private(set) var sum = 0.0

    /// Creates an empty histogram.
    public init() {}

    /// Adds one observation of `seconds`.
    public mutating func record(_ seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        count += 1
        sum += seconds
        for (index, bound) in Self.bounds.enumerated() where seconds <= bound {
            cumulativeCounts[index] += 1
        }
    }
}

/// The most recent latencies, for the quantiles a page shows (p50, p95): a fixed-size ring.
struct LatencyWindow: Sendable {
    private var values: [Double] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a latency window needs room for one value")
        self.capacity = capacity
    }

    mutating func record(_ seconds: Double) {
        if values.count < capacity {
            values.append(seconds)
        } else {
            values[next] = seconds
        }
        next = (next + 1) % capacity
    }

    /// The `q` quantile (0...1) of the values held, by the nearest-rank method; nil when empty.
    func quantile(_ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
