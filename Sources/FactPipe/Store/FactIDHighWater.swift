/// Keeps `factpipe_assertions` from naming a fact id that SQLite is about to give again.
///
/// SQLite gives a new row the largest rowid plus one, so the ids of the newest facts come back once
/// plain SQL deletes those facts, and the assertions older loads made of them stayed: `undo` of the load
/// that then inserted a fact under such an id kept it, as if the older load had brought it too. The
/// row `facts` of `factpipe_sequence` holds the largest fact id that a committed writer transaction
/// left; a writer transaction that finds `facts` ending below it first deletes the assertions past that
/// end, which name facts nobody can see any more.
///
/// Two lookups of one row each per transaction (`WriterConnection`), and the delete (one scan of the
/// assertions) only after such a delete by hand.
enum FactIDHighWater {
    /// Deletes the assertions of fact ids past the end of `facts`, when a delete by hand freed them.
    /// Runs first in a writer transaction, before anything is inserted. In a database that has no mark yet
    /// (made before it was kept), the newest facts may have been deleted before: the first transaction
    /// looks through the assertions once.
    static func forgetDeletedFacts(_ connection: SQLiteConnection) throws(StoreError) {
        let high = try connection.scalarInt("SELECT seq FROM factpipe_sequence WHERE name = 'facts'")
        let last = try connection.scalarInt("SELECT coalesce(max(id), 0) FROM facts") ?? 0
        if let high, last >= high { return }
        try connection.execute("DELETE FROM factpipe_assertions WHERE fact_id > \(last)")
        try connection.execute("""
            INSERT INTO factpipe_sequence(name, seq) VALUES ('facts', \(last))
            ON CONFLICT(name) DO UPDATE SET seq = excluded.seq
            """)
    }

    /// Records the largest fact id now, when it is past the one recorded. Runs last in a writer
    /// transaction, before it commits.
    static func remember(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("""
            INSERT INTO factpipe_sequence(name, seq) SELECT 'facts', coalesce(max(id), 0) FROM facts WHERE true
            ON CONFLICT(name) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > seq
            """)
    }
}
