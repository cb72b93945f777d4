/// Times every `QueryPattern` against a loaded factpipe database.
///
/// Keys are chosen before the clock starts: half are the parts of facts drawn at random from the
/// table (they exist), half are names no generated fact has (they do not: the index is searched
/// and found empty). Each query is timed alone, from binding its key to reading its last row.
struct QueryTimer {
    let path: String
    let seed: UInt64
    let isCancelled: () -> Bool

    /// Runs `queries` lookups of each pattern and returns their figures, in `QueryPattern` order.
    func run(queries: Int) throws(StoreError) -> [ScaleTestResult.Pattern] {
        let lookups = try PatternQueries(path: path)
        var random = Xoshiro256(seed: seed ^ 0x5CA1_E7E5)
        let existing = try sampleKeys(lookups, count: (queries + 1) / 2, random: &random)
        var results: [ScaleTestResult.Pattern] = []
        for pattern in QueryPattern.allCases {
            var sample = LatencySample()
            var sum = 0.0
            var found = 0
            var missingFound = 0
            for index in 0..<queries {
                if isCancelled() { break }
                let exists = index % 2 == 0 && !existing.isEmpty
                let key = exists ? existing[(index / 2) % existing.count] : missingKey(pattern, index, existing)
                let start = ContinuousClock.now
                let rows = try lookups.run(pattern, key)
                let seconds = WriterTimings.since(start)
                sample.record(seconds)
                sum += seconds
                if rows > 0 {
                    if exists { found += 1 } else { missingFound += 1 }
                }
            }
            results.append(
                ScaleTestResult.Pattern(
                    pattern: pattern, queries: sample.count, existingKeys: exists(sample.count, existing),
                    found: found, missingFound: missingFound, figures: LatencyFigures(sample: sample, sumSeconds: sum)))
        }
        return results
    }

    /// How many of the first `count` queries used a key that exists.
    private func exists(_ count: Int, _ existing: [QueryPattern.Key]) -> Int {
        existing.isEmpty ? 0 : (count + 1) / 2
    }

    /// Parts of `count` facts picked at random by id (a gap in the ids is drawn again).
    private func sampleKeys(
        _ lookups: PatternQueries, count: Int, random: inout Xoshiro256
    ) throws(StoreError) -> [QueryPattern.Key] {
        let maximum = try lookups.maximumID()
        guard maximum > 0, count > 0 else { return [] }
        var keys: [QueryPattern.Key] = []
        keys.reserveCapacity(count)
        var attempts = 0
        while keys.count < count, attempts < count * 4, !isCancelled() {
            attempts += 1
            let id = Int64(random.next(below: Int(maximum))) + 1
            if let key = try lookups.key(id: id) { keys.append(key) }
        }
        return keys
    }

    /// A key no fact has. Where a pattern takes a predicate and a subject, the predicate is a real
    /// one, so the search goes deep into the index before it comes back empty.
    private func missingKey(
        _ pattern: QueryPattern, _ index: Int, _ existing: [QueryPattern.Key]
    ) -> QueryPattern.Key {
        let real = existing.isEmpty ? nil : existing[(index / 2) % existing.count].predicate
        let subject = "no_such_subject_\(index)"
        let predicate = pattern == .countByPredicate ? "NoSuchPredicate\(index)" : real ?? "NoSuchPredicate\(index)"
        return QueryPattern.Key(predicate: predicate, subject: subject, statement: "\(predicate)(\(subject), x).")
    }
}
