import CSQLite

/// Loads that append straight to `facts`, and how statement uniqueness comes back after them.
///
/// A load into an empty `facts` table, or one smaller than its first source, drops the unique index
/// `facts_statement`, appends each batch to `facts` in input order (as cheap as staging it, and no
/// second copy), and rebuilds the index by one sort at the end. Statements that appeared more than
/// once are moved back to the staging table first, in input order, and merged from there under the
/// load's conflict policy, exactly as if they had been staged. A load killed in between leaves the
/// index missing; the next load completes it before anything else.
extension StagingArea {
    /// How `facts` keeps its statements unique.
    enum Uniqueness: Equatable {
        /// The `facts_statement` index is there, as factpipe defines it.
        case index
        /// An index named `facts_statement` that the user defined otherwise (`FactSchema.isFactpipes`):
        /// a load refuses it (`checkUniqueIndex`).
        case usersIndex
        /// The index is missing: a load that appended straight to `facts` has not finished.
        case missing
        /// A `UNIQUE` column constraint (databases made by earlier versions): it cannot be dropped.
        case constraint
    }

    /// What keeps `facts` unique in this database.
    func uniqueness() throws(StoreError) -> Uniqueness {
        let names = try connection.textColumn(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts'")
        if names.contains(FactSchema.uniqueIndex.name) {
            let index = FactSchema.uniqueIndex
            return try FactSchema.isFactpipes(index: index.name, sql: index.sql, connection) ? .index : .usersIndex
        }
        if names.contains(where: { $0.hasPrefix("sqlite_autoindex_facts") }) { return .constraint }
        return .missing
    }

    /// Throws when `facts_statement` is an index the user defined otherwise than factpipe does. A load into
    /// an empty or small table dropped it and built factpipe's in its place, without a word; another load's
    /// merge names `statement` in `ON CONFLICT`, which an index on an expression, on more columns or not
    /// unique does not serve: the load failed with its batches staged, and so did every later load.
    func checkUniqueIndex() throws(StoreError) {
        guard try uniqueness() == .usersIndex else { return }
        let definition = try connection.scalarText(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = '\(FactSchema.uniqueIndex.name)'") ?? "?"
        let wanted = FactSchema.uniqueIndex.sql.replacing("IF NOT EXISTS ", with: "")
        throw StoreError(
            kind: .unsupportedSchema, path: connection.path,
            message: "the index \(FactSchema.uniqueIndex.name) is not factpipe's (\(definition)); loads keep statements "
                + "unique through `\(wanted)`: put that back or give yours another name (nothing was loaded)")
    }

    /// The row of `factpipe_sequence` naming the load that dropped `facts_statement` (set in the drop's
    /// transaction, removed in the rebuild's): a missing index without it was not a load's doing.
    static let droppedByKey = "facts_statement_dropped_by"

    /// Drops `facts_statement` so that load `loadID` can append to `facts` without it, and records which
    /// load did (`droppedByKey`).
    func dropUniqueIndex(loadID: Int64) throws(StoreError) {
        try connection.execute("""
            DROP INDEX IF EXISTS \(FactSchema.uniqueIndex.name);
            INSERT OR REPLACE INTO factpipe_sequence(name, seq) VALUES ('\(Self.droppedByKey)', \(loadID));
            INSERT OR IGNORE INTO factpipe_sequence(name, seq) VALUES ('\(Self.marksKey)', 1)
            """)
    }

    /// The load that dropped `facts_statement` and has not built it again, by `droppedByKey`; nil when the
    /// row is not there (the index is there, someone else dropped it, or an earlier release's load did).
    func uniqueIndexDroppedBy() throws(StoreError) -> Int64? {
        guard try connection.userTables().contains("factpipe_sequence") else { return nil }
        return try connection.scalarInt("""
            SELECT seq FROM factpipe_sequence WHERE name = '\(Self.droppedByKey)' AND typeof(seq) = 'integer'
            """)
    }

    /// The row of `factpipe_sequence` that says this release made the database, dropped its index or completed
    /// what was left without it: from then on every load that drops `facts_statement` writes `droppedByKey`,
    /// and the ledger's statuses decide nothing.
    static let marksKey = "facts_statement_marks"

    /// True when a load of factpipe's set `facts_statement` aside and stopped before building it again, so
    /// that the repeated statements `facts` holds are for the next writer to take out (`restoreUniqueness`):
    /// the load `droppedByKey` names, or, in a database no writer of this release has opened yet (no
    /// `marksKey`: an earlier release's load was killed), a latest load still `running`. Otherwise the index
    /// was dropped by someone else, and a row that repeats a statement is theirs: it is not factpipe's to
    /// delete. (The status alone would not do: after any load that was killed, stopped or failed — a load
    /// through the staging table too — an index dropped by hand looked set aside by it.)
    func loadSetUniqueIndexAside() throws(StoreError) -> Bool {
        if try uniqueIndexDroppedBy() != nil { return true }
        guard try !hasMarks() else { return false }
        let latest = try connection.scalarText("SELECT status FROM factpipe_loads ORDER BY id DESC LIMIT 1")
        return latest == LoadStatus.running.rawValue
    }

    /// True when `marksKey` is there.
    func hasMarks() throws(StoreError) -> Bool {
        guard try connection.userTables().contains("factpipe_sequence") else { return false }
        return try connection.scalarInt("SELECT count(*) FROM factpipe_sequence WHERE name = '\(Self.marksKey)'") == 1
    }

    /// Records `marksKey`, and takes out a `droppedByKey` left beside an index that is there again (built by
    /// hand after a kill, or by an earlier release's writer, which knows nothing of the row): left, it made an
    /// index dropped by hand later look set aside by that old load. Call with `facts_statement` present, or
    /// once a missing one has been dealt with.
    func settleMarks() throws(StoreError) {
        guard try connection.userTables().contains("factpipe_sequence") else { return }
        try connection.execute("INSERT OR IGNORE INTO factpipe_sequence(name, seq) VALUES ('\(Self.marksKey)', 1)")
        if try uniqueness() != .missing { try forgetDroppedBy() }
    }

    /// Takes out `droppedByKey` (the index is back, in the caller's transaction).
    private func forgetDroppedBy() throws(StoreError) {
        guard try connection.userTables().contains("factpipe_sequence") else { return }
        try connection.execute("DELETE FROM factpipe_sequence WHERE name = '\(Self.droppedByKey)'")
    }

    /// Builds `facts_statement` in a savepoint: true when built, false (nothing changed) when a statement is
    /// in `facts` more than once.
    private func buildUniqueIndexUnlessRepeated() throws(StoreError) -> Bool {
        try connection.execute("SAVEPOINT factpipe_uniqueness")
        do throws(StoreError) {
            try connection.execute(FactSchema.uniqueIndex.sql)
            try connection.execute("RELEASE factpipe_uniqueness")
            return true
        } catch where error.isConstraintViolation {
            try connection.execute("ROLLBACK TO factpipe_uniqueness; RELEASE factpipe_uniqueness")
            return false
        }
    }

    /// Builds `facts_statement` again where no load of factpipe's set it aside, deleting nothing.
    /// - Throws: `StoreError` (`.unsupportedSchema`), with nothing changed, when a statement is in `facts`
    ///   more than once: another program's rows, which only their owner may choose between.
    func buildUniqueIndexKeepingEveryRow() throws(StoreError) {
        if try buildUniqueIndexUnlessRepeated() { return }
        let repeated = try connection.prepare("""
            SELECT statement, count(*), count(*) OVER () FROM facts GROUP BY statement HAVING count(*) > 1 LIMIT 1
            """)
        let found = try repeated.step()
            ? (statements: repeated.int64(2), statement: repeated.text(0) ?? "", times: repeated.int64(1)) : nil
        throw StoreError(
            kind: .unsupportedSchema, path: connection.path,
            message: Self.repeatedWithoutIndex(found, index: FactSchema.uniqueIndex.name, build: FactSchema.uniqueIndex.sql))
    }

    /// Why a load refuses a `facts` whose unique index someone else dropped while statements repeat (both
    /// stores): `found` is how many statements repeat, one of them and how often, when known.
    static func repeatedWithoutIndex(
        _ found: (statements: Int64, statement: String, times: Int64)?, index: String, build: String
    ) -> String {
        let held = found.map { found in
            "\(found.statements) statement\(found.statements == 1 ? "" : "s") more than once, "
                + "\(JSONText.quoted(String(found.statement.prefix(100)))) \(found.times) times"
        } ?? "statements more than once"
        return "facts has no unique index on statement (\(index) is missing, and no load of factpipe's set it aside) "
            + "and holds \(held); which of those rows to keep is not factpipe's to choose: delete the ones you do not "
            + "want, or put the index back (`\(build)`) and see which it refuses, then run again (nothing was changed)"
    }

    /// Builds `facts_statement` again. When statements occur more than once, the first row of each
    /// (the lowest id) stays, so a fact that was there before the load keeps its id (with the index in
    /// place, each statement was there once). The later rows leave `facts`: those of load `loadID` move
    /// to the staging table (in id order, which is input order) for the caller to merge; those other
    /// programs wrote while the index was out, at any moment of the load, are dropped, as the index
    /// would have refused them. Returns how many rows of load `loadID` moved.
    /// - Throws: `StoreError`; the caller's transaction makes it all or nothing.
    func restoreUniqueness(loadID: Int64) throws(StoreError) -> Int {
        // The index is back in this transaction, or nothing is.
        try forgetDroppedBy()
        // The common case, no statement twice: one sort, and done.
        if try buildUniqueIndexUnlessRepeated() { return 0 }
        // A plain index finds the repeated statements and their first rows without sorting the table again.
        let scanIndex = "factpipe_statement_scan"
        try connection.execute("CREATE INDEX \(scanIndex) ON facts(statement)")
        try connection.execute("""
            CREATE TEMP TABLE factpipe_later_copies(id INTEGER PRIMARY KEY);
            INSERT INTO temp.factpipe_later_copies SELECT id FROM facts AS f
            WHERE statement IN (SELECT statement FROM facts GROUP BY statement
            HAVING count(*) > 1) AND id > (SELECT min(e.id) FROM facts AS e WHERE e.statement = f.statement)
            """)
        let statement = try connection.prepare("""
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at)
            SELECT load_id, 0, 0, statement, predicate, subject, object, args, arity, confidence, source,
            context, fact_metadata, created_at FROM facts
            WHERE id IN (SELECT id FROM temp.factpipe_later_copies) AND load_id = ?1 ORDER BY id
            """)
        try statement.bind(1, loadID)
        _ = try statement.step()
        let moved = connection.changes
        try connection.execute("""
            DELETE FROM facts WHERE id IN (SELECT id FROM temp.factpipe_later_copies);
            DROP TABLE temp.factpipe_later_copies
            """)
        try connection.execute("DROP INDEX \(scanIndex)")
        try connection.execute(FactSchema.uniqueIndex.sql)
        return moved
    }

    /// The load that dropped `facts_statement` and stopped before building it again, and the largest id
    /// before its first row in `facts`: the load `droppedByKey` names; where an earlier release's load
    /// dropped it, the load the ledger has running (a load killed), else the latest one (a load that
    /// failed). The id (which tells the merge what was there before, for the assertions undo needs) is nil
    /// when the load has no row in `facts`. Nil when the ledger is empty.
    func interruptedDirectLoad() throws(StoreError) -> (loadID: Int64, lastIDBefore: Int64?)? {
        var loadID = try uniqueIndexDroppedBy()
        if loadID == nil {
            loadID = try connection.scalarInt(
                "SELECT id FROM factpipe_loads ORDER BY status = 'running' DESC, id DESC LIMIT 1")
        }
        guard let loadID else { return nil }
        let first = try connection.scalarInt("SELECT min(id) FROM facts WHERE load_id = \(loadID)")
        return (loadID, first.map { $0 - 1 })
    }

    /// Calls `body` with the UTF-8 bytes of each statement in `facts` (a scan: for a table smaller
    /// than the load that appends to it).
    /// - Throws: `StoreError` from reading the table.
    func forEachStatement(_ body: (UnsafeRawBufferPointer) -> Void) throws(StoreError) {
        let statement = try connection.prepare("SELECT statement FROM facts")
        while try statement.step() {
            let count = Int(sqlite3_column_bytes(statement.handle, 0))
            guard let text = sqlite3_column_text(statement.handle, 0) else {
                body(UnsafeRawBufferPointer(start: nil, count: 0))
                continue
            }
            body(UnsafeRawBufferPointer(start: text, count: count))
        }
    }

    /// The loads whose rows are in `facts` (a scan: only for completing an interrupted load).
    func loadsInFacts() throws(StoreError) -> [Int64] {
        let statement = try connection.prepare(
            "SELECT DISTINCT load_id FROM facts WHERE load_id IS NOT NULL ORDER BY load_id")
        var ids: [Int64] = []
        while try statement.step() { ids.append(statement.int64(0)) }
        return ids
    }
}
