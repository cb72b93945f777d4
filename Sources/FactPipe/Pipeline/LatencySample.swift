/// Durations of a repeated operation (batch commits, queries), kept as a bounded sample.
///
/// Up to `capacity` durations are kept exactly; past that a reservoir sample of `capacity` stands
/// for all of them, so memory stays flat however long the run.
public struct LatencySample: Sendable {
    public let capacity: Int
    /// How many durations were recorded.
    public private(set) var count = 0
    public private(set) var maximum = 0.0
    private var values: [Double] = []
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    public init(capacity: Int = 100_000) {
        precondition(capacity > 0, "a latency sample needs room for at least one value")
        self.capacity = capacity
    }

    /// Records one duration, in seconds.
    public mutating func record(_ seconds: Double) {
        count += 1
        maximum = max(maximum, seconds)
        if values.count < capacity {
            values.append(seconds)
            return
        }
        // Reservoir sampling (Algorithm R) with a small xorshift generator.
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let slot = Int(state % UInt64(count))
        if slot < capacity { values[slot] = seconds }
    }

    /// The `p`-th percentile (0…100) in seconds, nearest-rank; 0 when nothing was recorded.
    public func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
