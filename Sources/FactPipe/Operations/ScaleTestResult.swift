/// What a scale test measured: the load, the database, and each query pattern's latency.
public struct ScaleTestResult: Sendable {
    /// One pattern's queries and how long they took.
    public struct Pattern: Sendable, Equatable {
        public var pattern: QueryPattern
        public var queries: Int
        /// Queries whose key exists.
        public var existingKeys: Int
        /// Queries with an existing key that found it (all of them, unless something is wrong).
        public var found: Int
        /// Queries with a key that does not exist that found something anyway (none, normally).
        public var missingFound: Int
        public var figures: LatencyFigures
    }

    public var options: ScaleTestOptions
    public var generateSeconds: Double
    /// Size of the generated CSV input.
    public var inputBytes: Int64
    public var load: ImportSummary
    /// Peak resident memory during the load (on Linux measured from its start, so the generation
    /// before it does not count; the generator's vocabulary, still resident, does).
    public var loadPeakRSSBytes: Int
    /// Peak resident memory of the whole run, queries included.
    public var peakRSSBytes: Int
    public var databasePath: String
    public var isDatabaseKept: Bool
    public var databaseBytes: Int64
    public var walBytes: Int64
    public var patterns: [Pattern]

    /// The `--json` object: `facts_per_second`, `peak_rss_bytes`, `db_bytes`, and `patterns` with
    /// `p50_ms`, `p95_ms`, `p99_ms`, `max_ms` for each (see docs/operations.md).
    public var json: JSONDocument {
        var patternMembers: [JSONDocument.Member] = []
        for result in patterns {
            guard case .object(var members) = result.figures.json else { continue }
            members.insert(
                contentsOf: [
                    .init("queries", .int(result.queries)), .init("existing_keys", .int(result.existingKeys)),
                    .init("found", .int(result.found)), .init("missing_found", .int(result.missingFound)),
                ], at: 0)
            patternMembers.append(.init(result.pattern.rawValue, .object(members)))
        }
        var members: [JSONDocument.Member] = [
            .init("facts", .int(options.facts)),
            .init("queries_per_pattern", .int(options.queries)),
            .init("seed", .int(Int(truncatingIfNeeded: options.seed))),
            .init("database", isDatabaseKept ? .string(databasePath) : .null),
            .init("generate_seconds", .rounded(generateSeconds, decimals: 3)),
            .init("input_bytes", .int(Int(inputBytes))),
            .init("load_seconds", .rounded(load.seconds, decimals: 3)),
            .init("records", .int(load.records)),
            .init("inserted", .int(load.inserted)),
            .init("duplicates", .int(load.duplicates)),
            .init("rejected", .int(load.rejected)),
            .init("facts_per_second", .rounded(load.factsPerSecond, decimals: 0)),
            .init("load_peak_rss_bytes", .int(loadPeakRSSBytes)),
            .init("peak_rss_bytes", .int(peakRSSBytes)),
            .init("db_bytes", .int(Int(databaseBytes))),
            .init("wal_bytes", .int(Int(walBytes))),
        ]
        let timings = load.writerTimings
        if timings.commitLatencies.count > 0 {
            members.append(
                .init(
                    "commit_latency",
                    LatencyFigures(sample: timings.commitLatencies, sumSeconds: timings.committing).json))
        }
        members.append(.init("patterns", .object(patternMembers)))
        return .object(members)
    }

    /// The run as a `RunReport` of command `scale-test`, for `--report` and `--metrics-file`.
    public var runReport: RunReport {
        var report = RunReport(command: "scale-test", importSummary: load, databasePath: databasePath)
        report.peakRSSBytes = peakRSSBytes
        report.databaseBytes = databaseBytes
        report.walBytes = walBytes
        if !isDatabaseKept { report.databasePath = nil }
        report.queryLatencies = patterns.map { .init(pattern: $0.pattern.rawValue, figures: $0.figures) }
        return report
    }
}
