extension MonitorFigures {
    /// The Prometheus exposition of the figures and of the server's `counts`.
    ///
    /// Counters (`_total`, the histogram) only rise while the monitor runs; gauges are the latest
    /// reading. When the database cannot be read, `factpipe_up` is 0 and the database's gauges keep
    /// their last values.
    public func prometheusText(server counts: MonitorServerCounts) -> String {
        var out = PrometheusTextWriter()
        out.single(
            "factpipe_up", type: .gauge, help: "1 when the last probe could read the database, else 0.",
            latest?.isHealthy == true ? 1 : 0)
        writeDatabase(&out)
        writeLedger(&out)
        writeRunning(&out)
        writeLookups(&out)
        writeMonitor(&out, counts)
        return out.text
    }

    private func writeDatabase(_ out: inout PrometheusTextWriter) {
        let files = latest ?? lastReadable
        if let facts { out.single("factpipe_facts", type: .gauge, help: "Rows of the facts table.", Double(facts)) }
        if let predicates {
            out.single(
                "factpipe_predicates", type: .gauge, help: "Distinct predicates of the facts.", Double(predicates))
        }
        out.single(
            "factpipe_database_bytes", type: .gauge, help: "Size of the database file.",
            Double(files?.databaseBytes ?? 0))
        out.single(
            "factpipe_wal_bytes", type: .gauge, help: "Size of the database's write-ahead log (0 when none).",
            Double(files?.walBytes ?? 0))
        if let readable = lastReadable {
            out.single(
                "factpipe_free_pages", type: .gauge, help: "Database pages that hold no data.",
                Double(readable.freePages))
            out.single(
                "factpipe_free_bytes", type: .gauge, help: "Bytes in database pages that hold no data.",
                Double(readable.freePages * readable.pageSize))
        }
    }

    private func writeLedger(_ out: inout PrometheusTextWriter) {
        let counters: [(String, String, Int)] = [
            ("factpipe_records_total", "Input records counted by the ledger over all loads.", totals.records),
            ("factpipe_inserted_total", "Facts inserted over all loads.", totals.inserted),
            ("factpipe_updated_total", "Stored facts replaced or updated over all loads.", totals.updated),
            (
                "factpipe_duplicates_total", "Records whose statement was already stored, over all loads.",
                totals.duplicates
            ),
            ("factpipe_rejected_total", "Records refused over all loads.", totals.rejected),
        ]
        for (name, help, value) in counters { out.single(name, type: .counter, help: help, Double(value)) }
        out.family("factpipe_loads_total", type: .counter, help: "Ledger rows seen in each status.")
        for status in loadsSeen.keys.sorted() {
            out.sample("factpipe_loads_total", labels: [("status", status)], Double(loadsSeen[status]?.count ?? 0))
        }
        guard let last = lastReadable?.recentLoads.first(where: { $0.status != "running" }) else { return }
        out.family("factpipe_last_load_info", type: .gauge, help: "The last finished load: its id, status and source.")
        out.sample(
            "factpipe_last_load_info",
            labels: [("id", String(last.id)), ("status", last.status), ("source", last.source)],
            1)
        let gauges: [(String, String, Double)] = [
            ("factpipe_last_load_records", "Records of the last finished load.", Double(last.records)),
            ("factpipe_last_load_inserted", "Facts the last finished load inserted.", Double(last.inserted)),
            ("factpipe_last_load_updated", "Facts the last finished load replaced or updated.", Double(last.updated)),
            ("factpipe_last_load_duplicates", "Duplicates of the last finished load.", Double(last.duplicates)),
            ("factpipe_last_load_rejected", "Records the last finished load refused.", Double(last.rejected)),
        ]
        for (name, help, value) in gauges { out.single(name, type: .gauge, help: help, value) }
        if let seconds = last.seconds {
            out.single(
                "factpipe_last_load_seconds", type: .gauge, help: "How long the last finished load took.", seconds)
        }
    }

    private func writeRunning(_ out: inout PrometheusTextWriter) {
        let running = lastReadable?.runningLoads ?? []
        out.single(
            "factpipe_running_loads", type: .gauge, help: "Ledger rows that say running.", Double(running.count))
        guard let load = running.first else { return }
        out.single("factpipe_running_load_id", type: .gauge, help: "Id of the newest running load.", Double(load.id))
        out.single(
            "factpipe_running_load_records", type: .gauge, help: "Records the running load has committed.",
            Double(load.records))
        out.single(
            "factpipe_running_load_read_bytes", type: .gauge,
            help: "Bytes of its input the running load has read, as of its last checkpoint.", Double(load.bytesRead))
        if let size = load.sourceBytes {
            out.single(
                "factpipe_running_load_input_bytes", type: .gauge, help: "Size of the running load's input.",
                Double(size))
        }
        out.single(
            "factpipe_running_load_records_per_second", type: .gauge,
            help: "Records per second the running load committed over the last interval.",
            runningRates[load.id] ?? 0)
    }

    private func writeLookups(_ out: inout PrometheusTextWriter) {
        out.family(
            "factpipe_lookup_seconds", type: .histogram,
            help: "Point lookups the monitor times each interval, by the index that serves them.")
        for kind in MonitorSample.LookupKind.allCases {
            guard let histogram = histograms[kind] else { continue }
            let label = ("lookup", kind.rawValue)
            for (bound, count) in zip(LatencyHistogram.bounds, histogram.cumulativeCounts) {
                out.sample(
                    "factpipe_lookup_seconds_bucket", labels: [label, ("le", PrometheusTextWriter.format(bound))],
                    Double(count))
            }
            out.sample("factpipe_lookup_seconds_bucket", labels: [label, ("le", "+Inf")], Double(histogram.count))
            out.sample("factpipe_lookup_seconds_sum", labels: [label], histogram.sum)
            out.sample("factpipe_lookup_seconds_count", labels: [label], Double(histogram.count))
        }
    }

    private func writeMonitor(_ out: inout PrometheusTextWriter, _ counts: MonitorServerCounts) {
        out.single(
            "process_resident_memory_bytes", type: .gauge, help: "Resident memory of the monitor.",
            Double(residentBytes))
        out.single(
            "factpipe_monitor_probe_seconds", type: .gauge, help: "How long the last probe took.",
            latest?.probeSeconds ?? 0)
        out.single("factpipe_monitor_probes_total", type: .counter, help: "Probes of the database.", Double(probes))
        out.single(
            "factpipe_monitor_probe_failures_total", type: .counter, help: "Probes that could not read the database.",
            Double(failedProbes))
        out.single(
            "factpipe_monitor_connections", type: .gauge, help: "Connections open now.", Double(counts.connections))
        out.single(
            "factpipe_monitor_event_clients", type: .gauge, help: "Clients reading /events now.",
            Double(counts.eventClients))
        out.single(
            "factpipe_monitor_event_clients_dropped_total", type: .counter,
            help: "Clients of /events dropped because they stopped reading.", Double(counts.droppedEventClients))
        out.single(
            "factpipe_monitor_connections_refused_total", type: .counter,
            help: "Connections refused because the monitor had its most clients.", Double(counts.refusedConnections))
    }
}
