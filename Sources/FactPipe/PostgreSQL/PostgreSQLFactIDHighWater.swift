/// Keeps `factpipe_assertions` from naming a fact id the server gives again, as `FactIDHighWater` does for
/// SQLite.
///
/// PostgreSQL gives ids from the identity's sequence, which never goes back unless it is restarted:
/// `TRUNCATE facts RESTART IDENTITY` (or `ALTER SEQUENCE … RESTART`) left the assertions older loads made of
/// the truncated facts, and the next load's facts got those ids again; `undo` of that load then kept them as
/// if the older loads had brought them too ("kept (another load also brought them)"), labelled as theirs.
/// The row `facts_id_high_water` of `factpipe_meta` holds the largest fact id a batch committed; a writer that
/// finds `facts` ending below it first deletes the assertions past that end, which name facts nobody can see
/// any more. Where the role may not write `factpipe_meta`, nothing is kept and nothing is checked.
struct PostgreSQLFactIDHighWater {
    static let key = "facts_id_high_water"
    private let connection: PostgreSQLConnection
    /// False when the role may not insert and update rows of `factpipe_meta`.
    let isKept: Bool

    init(connection: PostgreSQLConnection) throws(PostgreSQLError) {
        self.connection = connection
        isKept = try connection.execute("""
            SELECT pg_catalog.has_table_privilege('factpipe_meta', 'INSERT')
                AND pg_catalog.has_table_privilege('factpipe_meta', 'UPDATE')
                AND pg_catalog.has_table_privilege('factpipe_assertions', 'DELETE')
            """).bool(0, 0)
    }

    /// Deletes the assertions of fact ids past the end of `facts` when facts were deleted from its end since
    /// the last batch committed, and marks that end. A database without the mark yet (made before it was
    /// kept) is looked through once. Before the writer inserts anything.
    func forgetDeletedFacts() throws(PostgreSQLError) {
        guard isKept else { return }
        let found = try connection.execute(
            "SELECT value::bigint FROM factpipe_meta WHERE key = $1 AND value ~ '^[0-9]{1,18}$'", [Self.key])
        let last = try connection.execute("SELECT coalesce(max(id), 0) FROM facts").int64(0, 0)
        if found.rowCount > 0, last >= found.int64(0, 0) { return }
        // One statement, so one transaction of its own.
        try connection.execute("""
            WITH forgotten AS (DELETE FROM factpipe_assertions WHERE fact_id > $2::bigint)
            INSERT INTO factpipe_meta(key, value) VALUES ($1, $2::bigint::text)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, [Self.key, "\(last)"])
    }

    /// Records the largest fact id now, when it is past the one recorded: in each batch's transaction.
    func remember() throws(PostgreSQLError) {
        guard isKept else { return }
        try connection.execute("""
            INSERT INTO factpipe_meta(key, value) SELECT $1, coalesce(max(id), 0)::text FROM facts
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            WHERE CASE WHEN factpipe_meta.value ~ '^[0-9]{1,18}$'
                THEN excluded.value::bigint > factpipe_meta.value::bigint ELSE true END
            """, [Self.key])
    }
}
