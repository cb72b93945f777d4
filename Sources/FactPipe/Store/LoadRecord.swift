/// One row of the load ledger, as `factpipe loads` shows it.
public struct LoadRecord: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var size: Int64?
    public var sha256: String?
    public var format: String?
    public var compression: String?
    public var conflictPolicy: String
    public var startedAt: String
    public var finishedAt: String?
    public var status: LoadStatus
    public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0, warnings = 0
    public var checkpointOffset: Int64 = 0
    public var checkpointLine = 1
    public var message: String?

    /// Committed records not yet merged into `facts` (0 unless the load's last merge failed).
    /// Counts another program (or a damaged file) wrote into the ledger may be anything: held at `Int.min`
    /// or `Int.max` where the difference would overflow, instead of a trap (`loads` crashed on such a row).
    public var staged: Int {
        var left = records
        for part in [inserted, updated, duplicates, rejected] {
            let (difference, overflow) = left.subtractingReportingOverflow(part)
            guard !overflow else { return part > 0 ? Int.min : Int.max }
            left = difference
        }
        return left
    }

    /// The loads among `loads` that say `running` though no process holds the writer lock of the SQLite
    /// database at `databasePath` any more: stopped by `kill -9` or a crash, their rows say so only once the
    /// next writer completes them. Asked after the rows were read (a load that began since is not among
    /// them), and the rows are read again once the lock was seen free: a load that ended in between had
    /// recorded its end before it let go of the lock (read once, it was called stopped). None for
    /// PostgreSQL, whose lock is the server's; none when the ledger cannot be read again.
    public static func stopped(_ loads: [LoadRecord], databasePath: String) -> [LoadRecord] {
        let running = loads.filter { $0.status == .running }
        guard !running.isEmpty, !PostgreSQLAddress.isPostgreSQL(databasePath),
            !WriterLock.isHeld(databasePath: databasePath),
            let connection = try? FactDatabase.openForReading(path: databasePath, leavesNoTrace: true),
            let still = try? connection.textColumn("SELECT id FROM factpipe_loads WHERE status = 'running'")
        else { return [] }
        let ids = Set(still.compactMap { Int64($0) })
        return running.filter { ids.contains($0.id) }
    }

    /// Every load of the factpipe database at `databasePath`, oldest first; opened read-only.
    /// With `last`, only the newest `last` loads (still oldest first).
    /// - Throws: `StoreError` when it cannot be opened, is not a factpipe database, or a row has a
    ///   status no version of factpipe writes.
    public static func all(databasePath: String, last: Int? = nil) throws -> [LoadRecord] {
        var records: [LoadRecord] = []
        try each(databasePath: databasePath, last: last) { records.append($0) }
        return records
    }

    /// Hands each load to `body`, oldest first, as `all` lists them; a SQLite ledger is read a row at a time
    /// (100,000 ledger rows took 305 MB as one `loads --json` array). Every row's status is checked before
    /// the first is handed out, so a ledger that fails does so before anything was printed.
    public static func each(databasePath: String, last: Int? = nil, _ body: (LoadRecord) throws -> Void) throws {
        if let address = PostgreSQLAddress(databasePath) {
            for record in try PostgreSQLLedger.allLoads(address: address, last: last) { try body(record) }
            return
        }
        let connection = try FactDatabase.openForReading(path: databasePath, leavesNoTrace: true)
        // One snapshot for the check and the rows.
        try connection.execute("BEGIN")
        defer { connection.rollbackQuietly() }
        let known = LoadStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let shown = newest(last).map { $0 + " AND " } ?? ""
        let unknown = try connection.prepare("""
            SELECT id, status FROM factpipe_loads WHERE \(shown)(status IS NULL OR status NOT IN (\(known)))
            ORDER BY id LIMIT 1
            """)
        if try unknown.step() {
            throw StoreError(kind: .unsupportedSchema, path: databasePath,
                             message: "load \(unknown.int64(0)) has the status \"\(unknown.text(1) ?? "")\", which "
                                 + "factpipe does not write (one of "
                                 + LoadStatus.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        let statement = try connection.prepare("""
            SELECT id, source, source_size, source_sha256, format, compression, conflict_policy, started_at,
            finished_at, status, records, inserted, updated, duplicates, rejected, warnings, checkpoint_offset,
            checkpoint_line, message FROM factpipe_loads \(newest(last).map { "WHERE " + $0 } ?? "") ORDER BY id
            """)
        while try statement.step() {
            // Checked above, in this snapshot.
            guard let status = LoadStatus(rawValue: statement.text(9) ?? "") else { continue }
            var record = LoadRecord(
                id: statement.int64(0), source: statement.text(1) ?? "",
                size: statement.isNull(2) ? nil : statement.int64(2), sha256: statement.text(3),
                format: statement.text(4), compression: statement.text(5), conflictPolicy: statement.text(6) ?? "",
                startedAt: statement.text(7) ?? "", finishedAt: statement.text(8), status: status)
            record.records = Int(statement.int64(10))
            record.inserted = Int(statement.int64(11))
            record.updated = Int(statement.int64(12))
            record.duplicates = Int(statement.int64(13))
            record.rejected = Int(statement.int64(14))
            record.warnings = Int(statement.int64(15))
            record.checkpointOffset = statement.int64(16)
            record.checkpointLine = Int(statement.int64(17))
            record.message = statement.text(18)
            try body(record)
        }
    }

    /// The condition that keeps the newest `last` loads of `factpipe_loads` (both stores' SQL); nil for all.
    static func newest(_ last: Int?) -> String? {
        last.map { "id IN (SELECT id FROM factpipe_loads ORDER BY id DESC LIMIT \(max($0, 0)))" }
    }
}
