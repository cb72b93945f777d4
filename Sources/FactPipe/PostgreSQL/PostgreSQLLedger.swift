/// `factpipe_loads` in PostgreSQL: one row per source of a load, with counts, status and checkpoint —
/// the SQLite store's `LoadLedger`, with its `Counts` and `Status`, in a server's tables.
final class PostgreSQLLedger {
    private let connection: PostgreSQLConnection

    init(connection: PostgreSQLConnection) {
        self.connection = connection
    }

    /// `column` (a timestamptz) as factpipe writes times: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
    static func isoText(_ column: String) -> String {
        """
        rtrim(rtrim(to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') || 'Z'
        """
    }

    /// Adds a load's row in state `status` and returns its id.
    func start(
        source: String, size: Int64?, format: String, compression: InputCompression, policy: ConflictPolicy,
        startedAt: String, status: LoadLedger.Status = .running, sha256: String? = nil, rules: String? = nil
    ) throws(PostgreSQLError) -> Int64 {
        var values = [source, size.map { "\($0)" }, format, compression.rawValue, policy.rawValue, startedAt, status.rawValue, sha256]
        // A database made before the column, whose role does not own the table to add it, records no rules.
        let hasRules = try PostgreSQLSchema.hasRulesColumn(connection)
        if hasRules { values.append(rules) }
        let result = try connection.execute("""
            INSERT INTO factpipe_loads(source, source_size, format, compression, conflict_policy, started_at, status,
            source_sha256\(hasRules ? ", rules" : "")) VALUES ($1, $2, $3, $4, $5, $6, $7, $8\(hasRules ? ", $9" : ""))
            RETURNING id
            """, values)
        return result.int64(0, 0)
    }

    /// The rules load `id` checked its records by (`ValidationRules`); nil for a load made before they were
    /// recorded.
    func rules(id: Int64) throws(PostgreSQLError) -> String? {
        guard try PostgreSQLSchema.hasRulesColumn(connection) else { return nil }
        let result = try connection.execute("SELECT rules FROM factpipe_loads WHERE id = $1", ["\(id)"])
        return result.rowCount > 0 ? result.text(0, 0) : nil
    }

    /// The most recent load of `source` (the path as given): its id, hash and status.
    func latest(source: String) throws(PostgreSQLError) -> (id: Int64, sha256: String?, status: String)? {
        let result = try connection.execute("""
            SELECT id, source_sha256, status FROM factpipe_loads WHERE source = $1 ORDER BY id DESC LIMIT 1
            """, [source])
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1), result.text(0, 2) ?? "")
    }

    /// The id and status of the latest load of content with this SHA-256 (`LoadLedger.latest(sha256:)`).
    func latest(sha256: String) throws(PostgreSQLError) -> (id: Int64, status: String)? {
        let result = try connection.execute(
            "SELECT id, status FROM factpipe_loads WHERE source_sha256 = $1 ORDER BY id DESC LIMIT 1", [sha256])
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1) ?? "")
    }

    /// The latest load of content with this SHA-256 that did not finish, unless a later load of it did
    /// (`LoadLedger.latestUnfinished(sha256:)`).
    func latestUnfinished(sha256: String) throws(PostgreSQLError) -> (id: Int64, source: String)? {
        let result = try connection.execute("""
            SELECT id, source FROM factpipe_loads WHERE source_sha256 = $1 AND status NOT IN ('done', 'undone')
            AND id > coalesce((SELECT max(id) FROM factpipe_loads WHERE source_sha256 = $1 AND status = 'done'), 0)
            ORDER BY id DESC LIMIT 1
            """, [sha256])
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1) ?? "")
    }

    /// The path load `id` was given, as its rejects lines name it.
    func source(id: Int64) throws(PostgreSQLError) -> String? {
        let result = try connection.execute("SELECT source FROM factpipe_loads WHERE id = $1", ["\(id)"])
        guard result.rowCount > 0 else { return nil }
        return result.text(0, 0)
    }

    /// A finished load of content with this SHA-256, if there is one; with a `format`, one that read it
    /// in that format (the same bytes read as another format are other records).
    func doneLoad(sha256: String, format: String? = nil) throws(PostgreSQLError) -> (id: Int64, source: String)? {
        let result = try connection.execute("""
            SELECT id, source FROM factpipe_loads WHERE source_sha256 = $1 AND status = 'done'
            AND ($2::text IS NULL OR format = $2) ORDER BY id LIMIT 1
            """, [sha256, format])
        guard result.rowCount > 0 else { return nil }
        return (result.int64(0, 0), result.text(0, 1) ?? "")
    }

    /// The format load `id` read its input in (`ndjson`, `csv`, …).
    func format(id: Int64) throws(PostgreSQLError) -> String? {
        let result = try connection.execute("SELECT format FROM factpipe_loads WHERE id = $1", ["\(id)"])
        return result.rowCount > 0 ? result.text(0, 0) : nil
    }

    /// When load `id` started (the default creation time of its facts), as factpipe writes times.
    func startedAt(id: Int64) throws(PostgreSQLError) -> String? {
        let result = try connection.execute(
            "SELECT \(Self.isoText("started_at")) FROM factpipe_loads WHERE id = $1", ["\(id)"])
        return result.rowCount > 0 ? result.text(0, 0) : nil
    }

    /// What the ledger says of load `id`: its policy, counts, status and rejects file; nil when there is none.
    func entry(id: Int64) throws(PostgreSQLError)
        -> (policy: ConflictPolicy, counts: LoadLedger.Counts, status: String, rejectsPath: String?)?
    {
        let result = try connection.execute("""
            SELECT conflict_policy, records, inserted, updated, duplicates, rejected, warnings, checkpoint_offset,
            checkpoint_line, status, rejects_offset, rejects_path FROM factpipe_loads WHERE id = $1
            """, ["\(id)"])
        guard result.rowCount > 0 else { return nil }
        var counts = LoadLedger.Counts()
        counts.records = Int(result.int64(0, 1))
        counts.inserted = Int(result.int64(0, 2))
        counts.updated = Int(result.int64(0, 3))
        counts.duplicates = Int(result.int64(0, 4))
        counts.rejected = Int(result.int64(0, 5))
        counts.warnings = Int(result.int64(0, 6))
        counts.checkpointOffset = result.int64(0, 7)
        counts.checkpointLine = Int(result.int64(0, 8))
        counts.rejectsOffset = result.int64(0, 10)
        let policy = ConflictPolicy(rawValue: result.text(0, 0) ?? "") ?? .ignore
        return (policy, counts, result.text(0, 9) ?? "", result.text(0, 11))
    }

    /// Records where load `id` writes its rejects, and the file's size as it starts (what a resume cuts
    /// back to should the load stop before its first commit).
    func setRejectsPath(id: Int64, _ path: String?, size: Int64) throws(PostgreSQLError) {
        try connection.execute(
            "UPDATE factpipe_loads SET rejects_path = $2, rejects_offset = $3 WHERE id = $1", ["\(id)", path, "\(size)"])
    }

    /// Records that load `id` goes on under `policy` (a resume of a load that had merged nothing yet).
    /// Records that load `id` reads its input as `format` (a resume of a load that had read nothing yet).
    func setFormat(id: Int64, _ format: String) throws(PostgreSQLError) {
        try connection.execute("UPDATE factpipe_loads SET format = $2 WHERE id = $1", ["\(id)", format])
    }

    func setPolicy(id: Int64, _ policy: ConflictPolicy) throws(PostgreSQLError) {
        try connection.execute(
            "UPDATE factpipe_loads SET conflict_policy = $2 WHERE id = $1", ["\(id)", policy.rawValue])
    }

    /// Records the SHA-256 of load `id`'s source, known once it was read to its end.
    func setSHA256(id: Int64, _ sha256: String) throws(PostgreSQLError) {
        try connection.execute("UPDATE factpipe_loads SET source_sha256 = $2 WHERE id = $1", ["\(id)", sha256])
    }

    /// Writes counts, checkpoint and status of load `id`; `finishedAt` is set for final states.
    func record(
        id: Int64, counts: LoadLedger.Counts, status: LoadLedger.Status, finishedAt: String? = nil,
        message: String? = nil
    ) throws(PostgreSQLError) {
        try connection.execute("""
            UPDATE factpipe_loads SET records = $2, inserted = $3, updated = $4, duplicates = $5, rejected = $6,
            warnings = $7, checkpoint_offset = $8, checkpoint_line = $9, status = $10, finished_at = $11,
            message = $12, rejects_offset = $13 WHERE id = $1
            """, [
                "\(id)", "\(counts.records)", "\(counts.inserted)", "\(counts.updated)", "\(counts.duplicates)",
                "\(counts.rejected)", "\(counts.warnings)", "\(counts.checkpointOffset)", "\(counts.checkpointLine)",
                status.rawValue, finishedAt, message, "\(counts.rejectsOffset)",
            ])
    }

    /// Marks loads left `running` by a process that died as interrupted (their committed batches are in
    /// `facts` already: each was merged in its own transaction). Only called under the writer lock.
    func markAbandoned() throws(PostgreSQLError) {
        try connection.execute("""
            UPDATE factpipe_loads SET status = 'interrupted', finished_at = now(),
            message = 'the process stopped without finishing; its committed batches were kept'
            WHERE status = 'running'
            """)
    }
}

extension PostgreSQLLedger {
    /// Adds what a merge of load `id`'s staged rows did to its counts (its checkpoint stays).
    func add(_ merged: StagingArea.MergeResult, to id: Int64) throws(PostgreSQLError) {
        try connection.execute("""
            UPDATE factpipe_loads SET inserted = inserted + $2, updated = updated + $3, duplicates = duplicates + $4
            WHERE id = $1
            """, ["\(id)", "\(merged.inserted)", "\(merged.updated)", "\(merged.duplicates)"])
    }
}
