/// The report as Prometheus text metrics, named `factpipe_<command>_…` (`-` in the command becomes `_`).
extension RunReport {
    /// The metrics in the Prometheus text format, for the node exporter's textfile collector.
    ///
    /// Every value is the last run's, so every one is a gauge (the file is replaced at each run, and a
    /// counter must never go down): counts, rates and sizes; latencies as gauges labelled with the
    /// quantiles 0.5, 0.95 and 0.99, with how many there were, their total and their maximum beside.
    public var prometheusText: String {
        let prefix = "factpipe_" + String(command.map { $0.isLetter || $0.isNumber ? $0 : "_" }).lowercased()
        var writer = PrometheusTextWriter()
        writer.single(
            prefix + "_success", type: .gauge, help: "1 when the last \(command) finished (status done), else 0.",
            status == "done" ? 1 : 0)
        writer.single(
            prefix + "_last_run_timestamp_seconds", type: .gauge,
            help: "When the last \(command) finished, in seconds since 1970.", finishedAt)
        writer.single(
            prefix + "_duration_seconds", type: .gauge, help: "How long the last \(command) took.", seconds)
        let counts: [(String, Int, String)] = [
            ("records", records, "Records read (facts and refusals)"),
            ("inserted", inserted, "Facts inserted"),
            ("updated", updated, "Facts that updated a stored one"),
            ("duplicates", duplicates, "Facts already stored"),
            ("rejected", rejected, "Records refused"),
            ("rejected_before_resume", rejectedBeforeResume, "Records the resumed loads refused before"),
            ("deleted_by_undo", deletedByUndo, "Facts inserted and then deleted again (a damaged input's load undone)"),
            ("warnings", warnings, "Records stored with a warning"),
        ]
        for (name, value, help) in counts {
            writer.single("\(prefix)_\(name)", type: .gauge, help: "\(help) in the last \(command).", Double(value))
        }
        writer.single(
            prefix + "_facts_per_second", type: .gauge, help: "Insert rate of the last \(command), facts per second.",
            factsPerSecond)
        writer.single(
            prefix + "_peak_rss_bytes", type: .gauge, help: "Peak resident memory of the last \(command).",
            Double(peakRSSBytes))
        if let databaseBytes {
            writer.single(
                prefix + "_database_bytes", type: .gauge, help: "Size of the database file after the last \(command).",
                Double(databaseBytes))
        }
        if let walBytes {
            writer.single(
                prefix + "_wal_bytes", type: .gauge,
                help: "Size of the database's -wal file after the last \(command).",
                Double(walBytes))
        }
        if let commitLatency {
            let name = prefix + "_commit_latency_seconds"
            writer.family(name, type: .gauge, help: "Duration of batch COMMITs in the last \(command), by quantile.")
            Self.quantiles(&writer, name, labels: [], commitLatency)
            writer.single(
                prefix + "_commits", type: .gauge, help: "Batch COMMITs in the last \(command).",
                Double(commitLatency.count))
            writer.single(
                prefix + "_commit_seconds", type: .gauge, help: "Time spent in COMMIT in the last \(command).",
                commitLatency.sumSeconds)
            writer.single(
                prefix + "_commit_latency_max_seconds", type: .gauge,
                help: "Longest batch COMMIT in the last \(command).", commitLatency.maximum)
        }
        if !queryLatencies.isEmpty {
            let name = prefix + "_query_latency_seconds"
            writer.family(
                name, type: .gauge, help: "Duration of the queries of the last \(command), by pattern and quantile.")
            for query in queryLatencies {
                Self.quantiles(&writer, name, labels: [("pattern", query.pattern)], query.figures)
            }
            let countName = prefix + "_queries"
            writer.family(countName, type: .gauge, help: "Queries run by the last \(command), by pattern.")
            for query in queryLatencies {
                writer.sample(countName, labels: [("pattern", query.pattern)], Double(query.figures.count))
            }
            let maxName = prefix + "_query_latency_max_seconds"
            writer.family(maxName, type: .gauge, help: "Longest query of the last \(command), by pattern.")
            for query in queryLatencies {
                writer.sample(maxName, labels: [("pattern", query.pattern)], query.figures.maximum)
            }
        }
        return writer.text
    }

    private static func quantiles(
        _ writer: inout PrometheusTextWriter, _ name: String, labels: [(String, String)], _ figures: LatencyFigures
    ) {
        for (quantile, value) in [("0.5", figures.p50), ("0.95", figures.p95), ("0.99", figures.p99)] {
            writer.sample(name, labels: labels + [("quantile", quantile)], value)
        }
    }
}
