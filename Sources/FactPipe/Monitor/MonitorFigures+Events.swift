extension MonitorFigures {
    /// One Server-Sent Events payload: the figures of the latest probe, as one line of JSON.
    public func eventJSON(server counts: MonitorServerCounts) -> String {
        let readable = lastReadable
        var members: [JSONDocument.Member] = [
            .init("time", .rounded(latest?.time ?? 0, decimals: 3)),
            .init("healthy", .bool(latest?.isHealthy == true)),
            .init("failure", .optional(latest?.failure)),
            .init("facts", facts.map { .int($0) } ?? .null),
            .init("predicates", predicates.map { .int($0) } ?? .null),
            .init("databaseBytes", .int(Int(latest?.databaseBytes ?? 0))),
            .init("walBytes", .int(Int(latest?.walBytes ?? 0))),
            .init("freePages", .int(readable?.freePages ?? 0)),
            .init("totals", Self.json(totals)),
            .init("recordsPerSecond", .rounded(recordsPerSecond, decimals: 1)),
            .init("insertedPerSecond", .rounded(insertedPerSecond, decimals: 1)),
            .init("lookupP50", lookupQuantile(0.5).map { .rounded($0, decimals: 7) } ?? .null),
            .init("lookupP95", lookupQuantile(0.95).map { .rounded($0, decimals: 7) } ?? .null),
            .init("lookups", .int(histograms.values.reduce(0) { $0 + $1.count })),
            .init("residentBytes", .int(residentBytes)),
            .init("probeSeconds", .rounded(latest?.probeSeconds ?? 0, decimals: 6)),
            .init("running", .array((readable?.runningLoads ?? []).map { json($0) })),
            .init("loads", .array((readable?.recentLoads ?? []).map { json($0) })),
            .init("clients", .int(counts.eventClients)),
        ]
        // Only a point the history took: the page adds each event's point to what it draws, and the same
        // one again at every probe of the second inflated it (ten times at `--interval 0.1`).
        if latestIsInHistory, let point = history.last { members.append(.init("point", Self.json(point))) }
        return JSONDocument.object(members).text
    }

    /// The history the page draws on first connecting: `{"interval":…,"points":[[…],…]}`, each point
    /// `[time, inserted/s, records/s, p50, p95, resident bytes, database bytes, WAL bytes]`.
    public func historyJSON() -> String {
        JSONDocument.object([
            .init("interval", .number(interval)),
            .init("points", .array(history.map(Self.json))),
        ]).text
    }

    private static func json(_ point: Point) -> JSONDocument {
        [
            .rounded(point.time, decimals: 3), .rounded(point.insertedPerSecond, decimals: 1),
            .rounded(point.recordsPerSecond, decimals: 1), point.lookupP50.map { .rounded($0, decimals: 7) } ?? .null,
            point.lookupP95.map { .rounded($0, decimals: 7) } ?? .null, .int(point.residentBytes),
            .int(Int(point.databaseBytes)), .int(Int(point.walBytes)),
        ]
    }

    private static func json(_ totals: MonitorSample.LedgerTotals) -> JSONDocument {
        [
            "records": .int(totals.records), "inserted": .int(totals.inserted), "updated": .int(totals.updated),
            "duplicates": .int(totals.duplicates), "rejected": .int(totals.rejected),
        ]
    }

    private func json(_ load: MonitorSample.Load) -> JSONDocument {
        var members: [JSONDocument.Member] = [
            .init("id", .int(Int(load.id))), .init("source", .string(load.source)),
            .init("status", .string(load.status)), .init("startedAt", .string(load.startedAt)),
            .init("finishedAt", .optional(load.finishedAt)), .init("records", .int(load.records)),
            .init("inserted", .int(load.inserted)), .init("duplicates", .int(load.duplicates)),
            .init("rejected", .int(load.rejected)), .init("bytesRead", .int(Int(load.bytesRead))),
            .init("sourceBytes", load.sourceBytes.map { .int(Int($0)) } ?? .null),
            .init("seconds", load.seconds.map { .rounded($0, decimals: 2) } ?? .null),
        ]
        if load.status == "running" {
            members.append(.init("recordsPerSecond", .rounded(runningRates[load.id] ?? 0, decimals: 1)))
        }
        return .object(members)
    }
}
