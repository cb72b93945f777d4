import CSQLite

/// Loads that append straight to `facts`, and how statement uniqueness comes back after them.
///
/// A load into an empty `facts` table, or one smaller than the load, drops the unique index
/// `facts_statement`, appends each batch to `facts` in input order (as cheap as staging it, and no
/// second copy), and rebuilds the index by one sort at the end. Statements that appeared more than
/// once are moved back to the staging table first, in input order, and merged from there under the
/// load's conflict policy, exactly as if they had been staged. A load killed in between leaves the
/// index missing; the next load completes it before anything else.
extension StagingArea {
    /// How `facts` keeps its statements unique.
    enum Uniqueness: Equatable {
        /// The `facts_statement` index is there.
        case index
        /// The index is missing: a load that appended straight to `facts` has not finished.
        case missing
        /// A `UNIQUE` column constraint (databases made by earlier versions): it cannot be dropped.
        case constraint
    }

    /// What keeps `facts` unique in this database.
    func uniqueness() throws(StoreError) -> Uniqueness {
        let names = try connection.textColumn(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts'")
        if names.contains(FactSchema.uniqueIndex.name) { return .index }
        if names.contains(where: { $0.hasPrefix("sqlite_autoindex_facts") }) { return .constraint }
        return .missing
    }

    /// Drops `facts_statement` so that a load can append to `facts` without it.
    func dropUniqueIndex() throws(StoreError) {
        try connection.execute("DROP INDEX IF EXISTS \(FactSchema.uniqueIndex.name)")
    }

    /// Builds `facts_statement` again. When statements occur more than once, their rows with an id
    /// above `lastIDBefore` (the rows the load appended; all of them when it is 0) move to the staging
    /// table first (in id order, which is input order) and leave `facts`; the caller then merges them.
    /// Returns how many rows of each load moved.
    /// - Throws: `StoreError`; the caller's transaction makes it all or nothing.
    func restoreUniqueness(movingRowsAbove lastIDBefore: Int64 = 0) throws(StoreError) -> [Int64: Int] {
        // The common case, no statement twice: one sort, and done.
        try connection.execute("SAVEPOINT factpipe_uniqueness")
        do throws(StoreError) {
            try connection.execute(FactSchema.uniqueIndex.sql)
            try connection.execute("RELEASE factpipe_uniqueness")
            return [:]
        } catch where error.isConstraintViolation {
            try connection.execute("ROLLBACK TO factpipe_uniqueness; RELEASE factpipe_uniqueness")
        }
        let before = try lastSequence()
        // A plain index finds the repeated statements and their rows without sorting the table again.
        let scanIndex = "factpipe_statement_scan"
        try connection.execute("CREATE INDEX \(scanIndex) ON facts(statement)")
        try connection.execute("""
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at)
            SELECT coalesce(load_id, 0), 0, 0, statement, predicate, subject, object, args, arity, confidence, source,
            context, fact_metadata, created_at FROM facts
            WHERE id > \(lastIDBefore) AND statement IN (SELECT statement FROM facts GROUP BY statement
            HAVING count(*) > 1) ORDER BY id
            """)
        try connection.execute("""
            DELETE FROM facts WHERE id > \(lastIDBefore)
            AND statement IN (SELECT statement FROM factpipe_staging WHERE seq > \(before))
            """)
        try connection.execute("DROP INDEX \(scanIndex)")
        try connection.execute(FactSchema.uniqueIndex.sql)
        let statement = try connection.prepare(
            "SELECT load_id, count(*) FROM factpipe_staging WHERE seq > \(before) GROUP BY load_id")
        var moved: [Int64: Int] = [:]
        while try statement.step() { moved[statement.int64(0)] = Int(statement.int64(1)) }
        return moved
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
