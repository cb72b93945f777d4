#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Percentiles of a repeated operation's durations, in seconds, taken from a `LatencySample`.
public struct LatencyFigures: Sendable, Equatable {
    public var count: Int
    /// The total of every duration (the sample keeps percentiles, not totals, so callers add it).
    public var sumSeconds: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var maximum: Double

    /// Reads the percentiles of `sample`; `sumSeconds` is the total of what it recorded.
    public init(sample: LatencySample, sumSeconds: Double) {
        count = sample.count
        self.sumSeconds = sumSeconds
        p50 = sample.percentile(50)
        p95 = sample.percentile(95)
        p99 = sample.percentile(99)
        maximum = sample.maximum
    }

    /// `{"count", "p50_ms", "p95_ms", "p99_ms", "max_ms", "sum_ms"}`, milliseconds to 4 places.
    public var json: JSONDocument {
        [
            "count": .int(count), "p50_ms": .rounded(p50 * 1000, decimals: 4),
            "p95_ms": .rounded(p95 * 1000, decimals: 4), "p99_ms": .rounded(p99 * 1000, decimals: 4),
            "max_ms": .rounded(maximum * 1000, decimals: 4), "sum_ms": .rounded(sumSeconds * 1000, decimals: 3),
        ]
    }
}

/// The machine-readable account of a long command (`import`, `scale-test`, …), written on request
/// as a JSON report (`--report FILE.json`) and as Prometheus text metrics (`--metrics-file FILE.prom`).
///
/// Any command that moves facts fills one in; `RunReport+Prometheus.swift` names its metrics
/// `factpipe_<command>_…`. Both files are replaced atomically, so a collector never reads half.
public struct RunReport: Sendable {
    /// The latency of one named query pattern.
    public struct QueryLatency: Sendable, Equatable {
        public var pattern: String
        public var figures: LatencyFigures

        /// Creates a pattern's entry.
        public init(pattern: String, figures: LatencyFigures) {
            self.pattern = pattern
            self.figures = figures
        }
    }

    /// The command, as typed: `import`, `scale-test`.
    public var command: String
    /// `done`, `aborted` or `failed`.
    public var status: String
    public var message: String?
    /// When the run ended, seconds since 1970 (UTC).
    public var finishedAt: Double
    public var seconds = 0.0
    public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0, warnings = 0
    /// Records the resumed loads refused before this run (not in `rejected`).
    public var rejectedBeforeResume = 0
    /// Facts inserted and then deleted again by the undo of a load whose input was damaged (`ImportSummary`).
    public var deletedByUndo = 0
    /// Facts stored or recognised as already stored per second: the insert rate.
    public var factsPerSecond = 0.0
    public var peakRSSBytes = 0
    public var databasePath: String?
    public var databaseBytes: Int64?
    public var walBytes: Int64?
    /// Each batch's `COMMIT`, when the run loaded facts.
    public var commitLatency: LatencyFigures?
    /// Query latencies by pattern, when the run measured them.
    public var queryLatencies: [QueryLatency] = []

    /// Creates an empty report of `command` that finished now.
    public init(command: String, status: String) {
        self.command = command
        self.status = status
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        finishedAt = Double(now.tv_sec) + Double(now.tv_nsec / 1000) / 1_000_000
    }

    /// The report of a load: its counts, rate, memory, commit latencies and the database's size.
    public init(command: String = "import", importSummary summary: ImportSummary, databasePath: String) {
        self.init(command: command, status: summary.status.rawValue)
        message = summary.message
        seconds = summary.seconds
        records = summary.records
        inserted = summary.inserted
        updated = summary.updated
        duplicates = summary.duplicates
        rejected = summary.rejected
        rejectedBeforeResume = summary.rejectedBeforeResume
        deletedByUndo = summary.deletedByUndo
        warnings = summary.warnings
        factsPerSecond = summary.factsPerSecond
        peakRSSBytes = summary.peakRSSBytes
        // A PostgreSQL address never carries its password into a report or a metrics file.
        self.databasePath =
            PostgreSQLAddress.isPostgreSQL(databasePath) ? PostgreSQLAddress.redacted(databasePath) : databasePath
        let sizes = FileSize.database(databasePath)
        databaseBytes = sizes.file
        walBytes = sizes.wal
        let timings = summary.writerTimings
        if timings.commitLatencies.count > 0 {
            commitLatency = LatencyFigures(sample: timings.commitLatencies, sumSeconds: timings.committing)
        }
    }

    /// The JSON report: one object (see docs/operations.md for its keys).
    public var json: JSONDocument {
        var members: [JSONDocument.Member] = [
            .init("command", .string(command)),
            .init("status", .string(status)),
            .init("finished_at", .optional(Timestamp.iso8601(epochSeconds: finishedAt))),
            .init("seconds", .rounded(seconds, decimals: 3)),
            .init("records", .int(records)),
            .init("inserted", .int(inserted)),
            .init("updated", .int(updated)),
            .init("duplicates", .int(duplicates)),
            .init("rejected", .int(rejected)),
            .init("rejected_before_resume", .int(rejectedBeforeResume)),
            .init("deleted_by_undo", .int(deletedByUndo)),
            .init("warnings", .int(warnings)),
            .init("facts_per_second", .rounded(factsPerSecond, decimals: 0)),
            .init("peak_rss_bytes", .int(peakRSSBytes)),
        ]
        if let message { members.append(.init("message", .string(message))) }
        if let databasePath { members.append(.init("database", .string(databasePath))) }
        if let databaseBytes { members.append(.init("db_bytes", .int(Int(databaseBytes)))) }
        if let walBytes { members.append(.init("wal_bytes", .int(Int(walBytes)))) }
        if let commitLatency { members.append(.init("commit_latency", commitLatency.json)) }
        if !queryLatencies.isEmpty {
            members.append(.init("query_latency", .object(queryLatencies.map { .init($0.pattern, $0.figures.json) })))
        }
        return .object(members)
    }

    /// Writes the JSON report to `path`, atomically.
    /// - Throws: `FileOutputError` when it cannot be written.
    public func writeReport(to path: String) throws(FileOutputError) {
        try AtomicFile.write(PostgreSQLAddress.redactingURLs(in: json.text) + "\n", to: path)
    }

    /// Writes the Prometheus metrics to `path`, atomically.
    /// - Throws: `FileOutputError` when it cannot be written.
    public func writeMetrics(to path: String) throws(FileOutputError) {
        try AtomicFile.write(PostgreSQLAddress.redactingURLs(in: prometheusText), to: path)
    }
}
