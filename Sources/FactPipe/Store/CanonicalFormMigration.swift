/// Brings a database of schema version 1 to version 2: its statements rewritten under the canonical
/// form of version 2 (`StatementCharacters`: NFC, Unicode spaces read as spaces, runs of whitespace
/// in bare text as one space, `\"` for every quote inside quotes, a leading byte order mark dropped).
///
/// It runs when a writer opens a version-1 database (`FactDatabase.openForWriting`), in one
/// transaction, so the file is either all version 1 or all version 2:
///
/// - Each fact whose statement reads differently now gets the new `statement`, `predicate`,
///   `subject`, `object`, `args` and `arity`. A statement the new rule refuses (a control or an
///   invisible character in it) is kept exactly as it was stored: the migration never drops a fact.
/// - Facts whose new statements are the same become one: the earliest (lowest id) row is kept with
///   its own columns, and every later row is recorded in the kept row's `fact_metadata` under
///   `merged_rows` (under `merged_rows_2`, … when the fact's own metadata has that key): an array of
///   objects with that row's `id`, `statement` as it was stored, `load_id`, `updated_load_id`,
///   `confidence`, `source`, `context`, `fact_metadata` and `created_at`. Then the later rows are
///   deleted.
/// - Rows staged by an interrupted load (`factpipe_staging`) get their new forms too; the load's
///   resume merges them under its conflict policy as it would have.
///
/// Readers (`query`, `stats`, `export`, `loads`) read a version-1 database as it is.
enum CanonicalFormMigration {
    /// The schema version whose statements this migration rewrites.
    static let fromVersion: Int64 = 1
    /// The version it leaves (`SubjectIndexMigration` takes it on from there).
    static let toVersion: Int64 = 2

    /// What a migration changed.
    struct Result: Equatable {
        /// Facts whose statement (or parts) were rewritten.
        var rewritten = 0
        /// Later rows merged into an earlier one with the same new statement, and deleted.
        var merged = 0
        /// Facts kept as stored because the new rule refuses their statement.
        var keptAsStored = 0
    }

    /// Migrates the database when its `user_version` is 1; does nothing otherwise.
    /// - Throws: `StoreError` when SQLite fails; the transaction is rolled back and the file stays at
    ///   version 1.
    @discardableResult
    static func migrateIfNeeded(_ connection: SQLiteConnection) throws(StoreError) -> Result? {
        try FactSchema.migrate(connection, from: fromVersion, to: toVersion) { () throws(StoreError) in
            try migrate(connection)
        }
    }

    private static func migrate(_ connection: SQLiteConnection) throws(StoreError) -> Result {
        var result = Result()
        try connection.execute("""
            CREATE TEMP TABLE factpipe_migration(
                id INTEGER PRIMARY KEY, statement TEXT NOT NULL, predicate TEXT NOT NULL, subject TEXT NOT NULL,
                object TEXT, args TEXT NOT NULL, arity INTEGER NOT NULL);
            """)
        defer { try? connection.execute("DROP TABLE IF EXISTS temp.factpipe_migration") }
        let counts = try recompute(
            connection, select: "SELECT id, statement FROM facts ORDER BY id", into: "temp.factpipe_migration")
        result.rewritten = counts.rewritten
        result.keptAsStored = counts.refused
        try connection.execute(
            "CREATE INDEX temp.factpipe_migration_statement ON factpipe_migration(statement)")
        result.merged = try mergeCollisions(connection)
        try connection.execute("""
            UPDATE facts SET statement = m.statement, predicate = m.predicate, subject = m.subject,
                object = m.object, args = m.args, arity = m.arity
            FROM temp.factpipe_migration AS m WHERE facts.id = m.id
            """)
        // Staged rows: the same rewrite, no merging (the load's merge applies its conflict policy).
        try connection.execute("DELETE FROM temp.factpipe_migration")
        _ = try recompute(
            connection, select: "SELECT seq, statement FROM factpipe_staging ORDER BY seq",
            into: "temp.factpipe_migration")
        try connection.execute("""
            UPDATE factpipe_staging SET statement = m.statement, predicate = m.predicate, subject = m.subject,
                object = m.object, args = m.args, arity = m.arity
            FROM temp.factpipe_migration AS m WHERE factpipe_staging.seq = m.id
            """)
        return result
    }

    /// Parses every statement `select` returns (key, statement) and writes the new parts of those
    /// that change into `table`; returns how many changed and how many the new rule refuses.
    private static func recompute(
        _ connection: SQLiteConnection, select: String, into table: String
    ) throws(StoreError) -> (rewritten: Int, refused: Int) {
        let rows = try connection.prepare(select)
        let insert = try connection.prepare(
            "INSERT INTO \(table)(id, statement, predicate, subject, object, args, arity) "
                + "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        var rewritten = 0
        var refused = 0
        while try rows.step() {
            let key = rows.int64(0)
            let stored = rows.text(1) ?? ""
            guard let parsed = try? StatementParser.parse(stored, limits: ForeignFactRow.lenientLimits) else {
                refused += 1
                continue
            }
            // Bytes, not `String` equality: that holds NFC and NFD spellings equal.
            guard !parsed.canonical.utf8.elementsEqual(stored.utf8) else { continue }
            let args = parsed.args
            try insert.bind(1, key)
            try insert.bind(2, parsed.canonical)
            try insert.bind(3, parsed.predicate)
            try insert.bind(4, args.first ?? "")
            try insert.bind(5, args.count > 1 ? args[1] : nil)
            try insert.bind(6, JSONText.array(args))
            try insert.bind(7, args.count)
            _ = try insert.step()
            insert.reset()
            rewritten += 1
        }
        return (rewritten, refused)
    }

    /// Merges every group of facts that share a new statement into its earliest row; returns how many
    /// rows were merged away.
    private static func mergeCollisions(_ connection: SQLiteConnection) throws(StoreError) -> Int {
        // A group: the rewritten rows with one new statement, and the row that already holds it
        // unchanged (a statement that is some row's new form is canonical itself, so it does not change).
        let groups = try connection.prepare("""
            WITH members(statement, id) AS (
                SELECT statement, id FROM temp.factpipe_migration
                UNION
                SELECT m.statement, f.id FROM temp.factpipe_migration AS m JOIN facts AS f ON f.statement = m.statement
            )
            SELECT statement, id FROM members
            WHERE statement IN (SELECT statement FROM members GROUP BY statement HAVING count(*) > 1)
            ORDER BY statement, id
            """)
        var plan: [(keep: Int64, later: [Int64])] = []
        var current: [UInt8]?
        while try groups.step() {
            let statement = groups.text(0).map { Array($0.utf8) }
            let id = groups.int64(1)
            if statement == current, !plan.isEmpty {
                plan[plan.count - 1].later.append(id)
            } else {
                plan.append((id, []))
                current = statement
            }
        }
        var merged = 0
        for group in plan where !group.later.isEmpty {
            try merge(group.later, into: group.keep, connection)
            merged += group.later.count
        }
        return merged
    }

    /// Records the rows `later` in the `fact_metadata` of row `keep`, then deletes them.
    private static func merge(_ later: [Int64], into keep: Int64, _ connection: SQLiteConnection) throws(StoreError) {
        let read = try connection.prepare("""
            SELECT statement, load_id, updated_load_id, confidence, source, context, fact_metadata, created_at
            FROM facts WHERE id = ?1
            """)
        var records: [String] = []
        for id in later {
            try read.bind(1, id)
            guard try read.step() else {
                read.reset()
                continue
            }
            func text(_ column: Int32) -> String? { read.isNull(column) ? nil : read.text(column) }
            func integer(_ column: Int32) -> String { read.isNull(column) ? "null" : String(read.int64(column)) }
            let confidence = read.double(3)
            records.append(
                JSONText.object([
                    ("id", String(id)),
                    ("statement", JSONText.quoted(text(0) ?? "")),
                    ("load_id", integer(1)),
                    ("updated_load_id", integer(2)),
                    ("confidence", read.isNull(3) || !confidence.isFinite ? "null" : String(confidence)),
                    ("source", text(4).map(JSONText.quoted) ?? "null"),
                    ("context", jsonObjectOrString(text(5))),
                    ("fact_metadata", jsonObjectOrString(text(6))),
                    ("created_at", text(7).map(JSONText.quoted) ?? "null"),
                ]))
            read.reset()
        }
        let current = try connection.prepare("SELECT fact_metadata FROM facts WHERE id = ?1")
        try current.bind(1, keep)
        let stored = try current.step() ? current.text(0) : nil
        current.reset()
        try connection.prepare("UPDATE facts SET fact_metadata = ?2 WHERE id = ?1").run(
            keep, metadata(stored, adding: "[" + records.joined(separator: ",") + "]"))
        // The loads that brought a merged row now assert the kept one, so undoing the kept row's load
        // leaves the fact while they are live (`LoadUndo`).
        if try connection.userTables().contains("factpipe_assertions") {
            let move = try connection.prepare("UPDATE factpipe_assertions SET fact_id = ?2 WHERE fact_id = ?1")
            let assert = try connection.prepare("""
                INSERT INTO factpipe_assertions(load_id, fact_id)
                SELECT load_id, ?2 FROM facts WHERE id = ?1 AND load_id IS NOT NULL
                UNION SELECT updated_load_id, ?2 FROM facts WHERE id = ?1 AND updated_load_id IS NOT NULL
                """)
            for id in later {
                for statement in [move, assert] {
                    try statement.bind(1, id)
                    try statement.bind(2, keep)
                    _ = try statement.step()
                    statement.reset()
                }
            }
        }
        let delete = try connection.prepare("DELETE FROM facts WHERE id = ?1")
        for id in later {
            try delete.bind(1, id)
            _ = try delete.step()
            delete.reset()
        }
    }

    /// The kept row's metadata with the merged rows added under `merged_rows` (or the first
    /// `merged_rows_N` the metadata does not use). Metadata that is not a JSON object is kept whole
    /// under `fact_metadata_text`.
    static func metadata(_ stored: String?, adding merged: String) -> String {
        var members: [(key: String, json: String)]
        if let stored {
            do {
                members = try JSONText.members(ofObject: stored)
            } catch {
                members = [("fact_metadata_text", JSONText.quoted(stored))]
            }
        } else {
            members = []
        }
        var key = "merged_rows"
        var suffix = 2
        while members.contains(where: { $0.key == key }) {
            key = "merged_rows_\(suffix)"
            suffix += 1
        }
        return JSONText.object(members + [(key, merged)])
    }

    /// JSON text of an object column as it is when it holds an object, else the text as a JSON string.
    private static func jsonObjectOrString(_ text: String?) -> String {
        guard let text else { return "null" }
        return (try? JSONText.members(ofObject: text)) != nil ? text : JSONText.quoted(text)
    }
}

extension SQLiteStatement {
    /// Binds `id` to `?1` and `text` to `?2` and steps once.
    fileprivate func run(_ id: Int64, _ text: String) throws(StoreError) {
        try bind(1, id)
        try bind(2, text)
        _ = try step()
        reset()
    }
}
