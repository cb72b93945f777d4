import CSQLite

/// The `factpipe_loads` table: one row per source of a load, with counts, status and checkpoint.
final class LoadLedger {
    /// Final and intermediate states of a load.
    typealias Status = LoadStatus

    /// Running totals of one source's load, written with every batch.
    struct Counts: Sendable, Equatable {
        var records = 0
        var inserted = 0
        var updated = 0
        var duplicates = 0
        var rejected = 0
        var warnings = 0
        var checkpointOffset: Int64 = 0
        var checkpointLine = 1
        /// Size of the rejects file when the checkpoint was committed; a resume cuts it back to this.
        var rejectsOffset: Int64 = 0
    }

    private let connection: SQLiteConnection
    /// The statements that write a row, prepared on first use: a ledger only read (a dry run's, on a
    /// read-only connection to a database made by an earlier version) never needs them.
    private var insertStatement: SQLiteStatement?
    private var updateStatement: SQLiteStatement?

    init(connection: SQLiteConnection) throws(StoreError) {
        self.connection = connection
    }

    private func insert() throws(StoreError) -> SQLiteStatement {
        if let insertStatement { return insertStatement }
        let statement = try connection.prepare("""
            INSERT INTO factpipe_loads(source, source_size, format, compression, conflict_policy, started_at, status,
            source_sha256, records_assertions, id, rules) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)
            """)
        insertStatement = statement
        return statement
    }

    /// The id of the next load: past every id the ledger holds and every id given before
    /// (`factpipe_sequence`), which it records. SQLite alone gives the largest rowid plus one, so the id of
    /// the newest load came back once its row was deleted by hand, and `undo` of the new load deleted the
    /// facts of both.
    ///
    /// Past the largest id, 2^63 - 1, there is none: the load fails, as SQLite's `AUTOINCREMENT` does.
    private func nextID() throws(StoreError) -> Int64 {
        let given = try connection.scalarInt("""
            SELECT max(coalesce((SELECT max(id) FROM factpipe_loads), 0),
                coalesce((SELECT seq FROM factpipe_sequence WHERE name = 'factpipe_loads' AND typeof(seq) = 'integer'), 0))
            """) ?? 0
        guard given < Int64.max else {
            throw StoreError(
                kind: .sqlite(code: SQLITE_FULL), path: connection.path,
                message: "no load id is left: \(Int64.max), the largest, was given (factpipe_sequence); nothing was loaded")
        }
        let id = given + 1
        try connection.execute("""
            INSERT INTO factpipe_sequence(name, seq) VALUES ('factpipe_loads', \(id))
            ON CONFLICT(name) DO UPDATE SET seq = excluded.seq
            """)
        return id
    }

    private func update() throws(StoreError) -> SQLiteStatement {
        if let updateStatement { return updateStatement }
        let statement = try connection.prepare("""
            UPDATE factpipe_loads SET records = ?2, inserted = ?3, updated = ?4, duplicates = ?5, rejected = ?6,
            warnings = ?7, checkpoint_offset = ?8, checkpoint_line = ?9, status = ?10,
            finished_at = ?11, message = ?12, rejects_offset = ?13 WHERE id = ?1
            """)
        updateStatement = statement
        return statement
    }

    /// Adds a load's row in state `status` and returns its id.
    func start(
        source: String, size: Int64?, format: String, compression: InputCompression, policy: ConflictPolicy,
        startedAt: String, status: Status = .running, sha256: String? = nil, rules: String? = nil
    ) throws(StoreError) -> Int64 {
        // Taken first: a failure between the two statements leaves a gap in the ids, never a repeat.
        let id = try nextID()
        let insert = try insert()
        defer { insert.reset() }
        try insert.bind(10, rules)
        try insert.bind(9, id)
        try insert.bind(8, sha256)
        try insert.bind(1, source)
        try insert.bind(2, size)
        try insert.bind(3, format)
        try insert.bind(4, compression.rawValue)
        try insert.bind(5, policy.rawValue)
        try insert.bind(6, startedAt)
        try insert.bind(7, status.rawValue)
        try insert.step()
        return id
    }

    /// The most recent load of `source` (the path as given): its id, hash, status and checkpoint.
    func latest(source: String) throws(StoreError) -> (id: Int64, sha256: String?, status: String, startedAt: String)? {
        let statement = try connection.prepare("""
            SELECT id, source_sha256, status, started_at FROM factpipe_loads WHERE source = ?1 ORDER BY id DESC LIMIT 1
            """)
        try statement.bind(1, source)
        guard try statement.step() else { return nil }
        return (statement.int64(0), statement.text(1), statement.text(2) ?? "", statement.text(3) ?? "")
    }

    /// The id and status of the latest load of content with this SHA-256, under whatever path it was given.
    func latest(sha256: String) throws(StoreError) -> (id: Int64, status: String)? {
        let statement = try connection.prepare(
            "SELECT id, status FROM factpipe_loads WHERE source_sha256 = ?1 ORDER BY id DESC LIMIT 1")
        try statement.bind(1, sha256)
        guard try statement.step() else { return nil }
        return (statement.int64(0), statement.text(1) ?? "")
    }

    /// The latest load of content with this SHA-256 that did not finish, under whatever path it was given,
    /// unless a later load of that content finished: what `--resume` goes on with when the path is spelled
    /// otherwise than in the interrupted load (`../x`, an absolute path, another working folder).
    func latestUnfinished(sha256: String) throws(StoreError) -> (id: Int64, source: String)? {
        let statement = try connection.prepare("""
            SELECT id, source FROM factpipe_loads WHERE source_sha256 = ?1 AND status NOT IN ('done', 'undone')
            AND id > coalesce((SELECT max(id) FROM factpipe_loads WHERE source_sha256 = ?1 AND status = 'done'), 0)
            ORDER BY id DESC LIMIT 1
            """)
        try statement.bind(1, sha256)
        guard try statement.step() else { return nil }
        return (statement.int64(0), statement.text(1) ?? "")
    }

    /// The path load `id` was given, as its rejects lines name it.
    func source(id: Int64) throws(StoreError) -> String? {
        let statement = try connection.prepare("SELECT source FROM factpipe_loads WHERE id = ?1")
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// A finished load of content with this SHA-256, if there is one; with a `format`, one that read it
    /// in that format (the same bytes read as another format are other records).
    func doneLoad(sha256: String, format: String? = nil) throws(StoreError) -> (id: Int64, source: String)? {
        let statement = try connection.prepare("""
            SELECT id, source FROM factpipe_loads WHERE source_sha256 = ?1 AND status = 'done'
            AND (?2 IS NULL OR format = ?2) ORDER BY id LIMIT 1
            """)
        try statement.bind(1, sha256)
        try statement.bind(2, format)
        guard try statement.step() else { return nil }
        return (statement.int64(0), statement.text(1) ?? "")
    }

    /// The format load `id` read its input in (`ndjson`, `csv`, …).
    func format(id: Int64) throws(StoreError) -> String? {
        let statement = try connection.prepare("SELECT format FROM factpipe_loads WHERE id = ?1")
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// The rules load `id` checked its records by (`ValidationRules`); nil for a load made before they were
    /// recorded, also in a database without the column (a dry run's, read-only, of one made before).
    func rules(id: Int64) throws(StoreError) -> String? {
        guard try ReadableFactDatabase.columns(of: "factpipe_loads", connection).contains("rules") else { return nil }
        let statement = try connection.prepare("SELECT rules FROM factpipe_loads WHERE id = ?1")
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// When load `id` started (the default creation time of its facts).
    func startedAt(id: Int64) throws(StoreError) -> String? {
        let statement = try connection.prepare("SELECT started_at FROM factpipe_loads WHERE id = ?1")
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// What the ledger says of load `id`: its policy, counts and status; nil when there is no such load.
    func entry(id: Int64) throws(StoreError) -> (policy: ConflictPolicy, counts: Counts, status: String)? {
        let statement = try connection.prepare("""
            SELECT conflict_policy, records, inserted, updated, duplicates, rejected, warnings, checkpoint_offset,
            checkpoint_line, status, rejects_offset, rejects_path FROM factpipe_loads WHERE id = ?1
            """)
        try statement.bind(1, id)
        guard try statement.step() else { return nil }
        var counts = Counts()
        counts.records = Int(statement.int64(1))
        counts.inserted = Int(statement.int64(2))
        counts.updated = Int(statement.int64(3))
        counts.duplicates = Int(statement.int64(4))
        counts.rejected = Int(statement.int64(5))
        counts.warnings = Int(statement.int64(6))
        counts.checkpointOffset = statement.int64(7)
        counts.checkpointLine = Int(statement.int64(8))
        counts.rejectsOffset = statement.int64(10)
        rejectsPathOfLastEntry = statement.text(11)
        let policy = ConflictPolicy(rawValue: statement.text(0) ?? "") ?? .ignore
        return (policy, counts, statement.text(9) ?? "")
    }

    /// The rejects path of the load `entry(id:)` read last.
    private(set) var rejectsPathOfLastEntry: String?

    /// Records that load `id` reads its input as `format` (a resume of a load that had read nothing yet).
    func setFormat(id: Int64, _ format: String) throws(StoreError) {
        let statement = try connection.prepare("UPDATE factpipe_loads SET format = ?2 WHERE id = ?1")
        try statement.bind(1, id)
        try statement.bind(2, format)
        try statement.step()
    }

    /// Records that load `id` goes on under `policy` (a resume of a load that had merged nothing yet).
    func setPolicy(id: Int64, _ policy: ConflictPolicy) throws(StoreError) {
        let statement = try connection.prepare("UPDATE factpipe_loads SET conflict_policy = ?2 WHERE id = ?1")
        try statement.bind(1, id)
        try statement.bind(2, policy.rawValue)
        try statement.step()
    }

    /// Records where load `id` writes its rejects, and the file's size as it starts (what a resume cuts
    /// back to should the load stop before its first commit).
    func setRejectsPath(id: Int64, _ path: String?, size: Int64) throws(StoreError) {
        let statement = try connection.prepare(
            "UPDATE factpipe_loads SET rejects_path = ?2, rejects_offset = ?3 WHERE id = ?1")
        try statement.bind(1, id)
        try statement.bind(2, path)
        try statement.bind(3, size)
        try statement.step()
    }

    /// Records the SHA-256 of load `id`'s source, known once it was read to its end.
    func setSHA256(id: Int64, _ sha256: String) throws(StoreError) {
        let statement = try connection.prepare("UPDATE factpipe_loads SET source_sha256 = ?2 WHERE id = ?1")
        try statement.bind(1, id)
        try statement.bind(2, sha256)
        try statement.step()
    }

    /// Marks `interrupted` every row still `running`. Called under the writer lock, before the load that holds
    /// it starts its own row: no load runs, so such a row's process died. (A load killed before its first
    /// batch committed left nothing staged for `LoadRecovery` to merge, and its row said `running` for ever.)
    func markAbandoned(finishedAt: String) throws(StoreError) {
        let statement = try connection.prepare("""
            UPDATE factpipe_loads SET status = 'interrupted', finished_at = ?1,
            message = 'the process stopped without finishing; its committed batches were kept'
            WHERE status = 'running'
            """)
        try statement.bind(1, finishedAt)
        _ = try statement.step()
    }

    /// Sets the inserted count of load `id`, leaving the rest of its row as it is.
    func setInserted(id: Int64, _ inserted: Int) throws(StoreError) {
        let statement = try connection.prepare("UPDATE factpipe_loads SET inserted = ?2 WHERE id = ?1")
        try statement.bind(1, id)
        try statement.bind(2, Int64(inserted))
        _ = try statement.step()
    }

    /// Writes counts, checkpoint and status of load `id`; `finishedAt` is set for final states.
    func record(
        id: Int64, counts: Counts, status: Status, finishedAt: String? = nil, message: String? = nil
    ) throws(StoreError) {
        let update = try update()
        defer { update.reset() }
        try update.bind(1, id)
        try update.bind(2, counts.records)
        try update.bind(3, counts.inserted)
        try update.bind(4, counts.updated)
        try update.bind(5, counts.duplicates)
        try update.bind(6, counts.rejected)
        try update.bind(7, counts.warnings)
        try update.bind(8, counts.checkpointOffset)
        try update.bind(9, counts.checkpointLine)
        try update.bind(10, status.rawValue)
        try update.bind(11, finishedAt)
        try update.bind(12, message)
        try update.bind(13, counts.rejectsOffset)
        try update.step()
    }
}
