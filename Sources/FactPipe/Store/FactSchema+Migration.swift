/// Brings a database made by an earlier factpipe up to the tables and columns this build writes.
///
/// Every step only adds: `factpipe_assertions` (which loads asserted a fact besides the one that
/// inserted it, for `LoadUndo`), `factpipe_staging.given` (which side fields a staged record gave,
/// for `--on-conflict update`), `factpipe_loads.records_assertions` (1 for loads whose
/// assertions are recorded; loads made before stay 0) and `factpipe_loads.rules` (the rules a load checks its
/// records by, `ValidationRules`; NULL for loads made before). The assertions that earlier loads left a
/// trace of are filled in: a load that replaced or updated a fact (`updated_load_id`) asserted it,
/// and so did the load of every row that the canonical-form migration merged into it (`merged_rows`).
/// Duplicates that an earlier load skipped under `ignore` left no trace and cannot be recovered.
/// `factpipe_sequence` starts from the largest load id that any table names (one scan of `facts`): a
/// ledger row deleted by hand before the migration still keeps its id from the next load. A database
/// without an identity is given one (`DatabaseIdentity`).
extension FactSchema {
    static let createAssertions = """
        CREATE TABLE IF NOT EXISTS factpipe_assertions(
            load_id INTEGER NOT NULL,
            fact_id INTEGER NOT NULL
        )
        """

    static let createSequence = """
        CREATE TABLE IF NOT EXISTS factpipe_sequence(
            name TEXT PRIMARY KEY,
            seq INTEGER NOT NULL
        ) WITHOUT ROWID
        """

    /// Adds what is missing, in one transaction; the caller holds the database's writer lock.
    /// - Throws: `StoreError` from SQLite; nothing changes then.
    static func migrate(_ connection: SQLiteConnection) throws(StoreError) {
        let tables = Set(try connection.userTables())
        guard tables.contains("facts"), tables.contains("factpipe_loads"), tables.contains("factpipe_staging") else {
            return
        }
        let stagingColumns = try columns("factpipe_staging", connection)
        let loadColumns = try columns("factpipe_loads", connection)
        let hasAssertions = tables.contains("factpipe_assertions")
        let hasSequence = tables.contains("factpipe_sequence")
        let hasIdentity = hasSequence ? try DatabaseIdentity.isGiven(connection) : false
        guard !hasAssertions || !hasSequence || !stagingColumns.contains("given")
            || !loadColumns.contains("records_assertions") || !loadColumns.contains("rules") || !hasIdentity else {
            return
        }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            if !stagingColumns.contains("given") {
                try connection.execute("ALTER TABLE factpipe_staging ADD COLUMN given INTEGER")
            }
            if !loadColumns.contains("records_assertions") {
                try connection.execute(
                    "ALTER TABLE factpipe_loads ADD COLUMN records_assertions INTEGER NOT NULL DEFAULT 0")
            }
            if !loadColumns.contains("rules") {
                try connection.execute("ALTER TABLE factpipe_loads ADD COLUMN rules TEXT")
            }
            if !hasAssertions {
                try connection.execute(createAssertions)
                try connection.execute("""
                    INSERT INTO factpipe_assertions(load_id, fact_id)
                    SELECT updated_load_id, id FROM facts
                    WHERE updated_load_id IS NOT NULL AND updated_load_id IS NOT load_id
                    """)
                // Rows that the canonical-form migration merged into one carried their loads with them.
                try connection.execute("""
                    INSERT INTO factpipe_assertions(load_id, fact_id)
                    SELECT DISTINCT json_extract(merged.value, '$.load_id'), facts.id
                    FROM facts, json_each(facts.fact_metadata, '$.merged_rows') AS merged
                    WHERE facts.fact_metadata LIKE '%"merged_rows"%' AND json_valid(facts.fact_metadata)
                        AND json_extract(merged.value, '$.load_id') IS NOT NULL
                        AND json_extract(merged.value, '$.load_id') IS NOT facts.load_id
                    """)
            }
            if !hasSequence {
                try connection.execute(createSequence)
                // Ids another program wrote as text or real are not load ids factpipe gave.
                try connection.execute("""
                    INSERT INTO factpipe_sequence(name, seq)
                    SELECT 'factpipe_loads', max(
                        coalesce((SELECT max(id) FROM factpipe_loads), 0),
                        coalesce((SELECT max(load_id) FROM factpipe_staging WHERE typeof(load_id) = 'integer'), 0),
                        coalesce((SELECT max(load_id) FROM factpipe_assertions WHERE typeof(load_id) = 'integer'), 0),
                        coalesce(max(CASE WHEN typeof(load_id) = 'integer' THEN load_id END), 0),
                        coalesce(max(CASE WHEN typeof(updated_load_id) = 'integer' THEN updated_load_id END), 0))
                    FROM facts
                    """)
            }
            try DatabaseIdentity.give(connection)
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Runs one schema version's migration: when `user_version` is `from`, `body` and the new version `to`
    /// in one transaction taken for writing, so the file is either all the old version or all the new
    /// one. Returns what `body` returned, or nil when the database is at another version (also when another
    /// writer migrated it between the look and the lock).
    /// - Throws: `StoreError` from SQLite or `body`; the transaction is rolled back.
    static func migrate<Result>(
        _ connection: SQLiteConnection, from: Int64, to: Int64, _ body: () throws(StoreError) -> Result
    ) throws(StoreError) -> Result? {
        guard try connection.scalarInt("PRAGMA user_version") == from else { return nil }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            guard try connection.scalarInt("PRAGMA user_version") == from else {
                try connection.execute("COMMIT")
                return nil
            }
            let result = try body()
            try connection.execute("PRAGMA user_version=\(to)")
            try connection.execute("COMMIT")
            return result
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    private static func columns(_ table: String, _ connection: SQLiteConnection) throws(StoreError) -> Set<String> {
        Set(try connection.textColumn("SELECT name FROM pragma_table_info('\(table)')"))
    }
}
