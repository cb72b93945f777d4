/// The staging table of a load: where batches wait, and how they move into `facts`.
///
/// Moving them is one `INSERT … SELECT … ORDER BY statement, seq` under the load's conflict policy (or
/// one per statement range, when the sort would not fit in memory: `StagingArea+Pieces`):
/// in statement order the unique index is written sequentially, and for equal statements the one
/// that came first in the input is applied first (so `ignore` keeps the first, `replace` ends with
/// the last, `update` merges them in input order).
final class StagingArea {
    /// What a merge did.
    struct MergeResult: Equatable {
        var inserted = 0
        var updated = 0
        var duplicates = 0
        /// Statement ranges sorted one after another (`StagingArea+Pieces`); 1 when the rows fit at once.
        var pieces = 1

        /// The note of a load that merged the batches load `id` committed before it stopped: counted in that
        /// load's ledger row, not in the run's counts (a resume that only merged them said 0 of everything).
        func noteOfStoppedLoad(_ id: Int64) -> String {
            "merged the batches load \(id) committed before it stopped: \(inserted) inserted, \(updated) updated, "
                + "\(duplicates) duplicates (counted in its row of `factpipe loads`, not in this run's counts)"
        }
    }

    /// A staged record whose statement is already in `facts` or earlier in the same load.
    struct Conflict {
        var line: Int
        var offset: Int64
        var statement: String
        /// True when `facts` holds it; false when an earlier record of the same load does.
        var isInDatabase: Bool
    }

    let connection: SQLiteConnection
    private static let statementIndex = "factpipe_staging_statement"

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Loads that have rows waiting: those of a load that was killed before it could merge them.
    func loadsWithStagedRows() throws(StoreError) -> [Int64] {
        let statement = try connection.prepare("SELECT DISTINCT load_id FROM factpipe_staging ORDER BY load_id")
        var ids: [Int64] = []
        while try statement.step() { ids.append(statement.int64(0)) }
        return ids
    }

    /// Rows waiting for load `loadID`.
    func stagedCount(loadID: Int64) throws(StoreError) -> Int {
        let statement = try connection.prepare("SELECT count(*) FROM factpipe_staging WHERE load_id = ?1")
        try statement.bind(1, loadID)
        _ = try statement.step()
        return Int(statement.int64(0))
    }

    /// Drops the staged rows of load `loadID` (those of a load the ledger does not know).
    func discard(loadID: Int64) throws(StoreError) {
        let statement = try connection.prepare("DELETE FROM factpipe_staging WHERE load_id = ?1")
        try statement.bind(1, loadID)
        _ = try statement.step()
    }

    /// The highest sequence number used so far (0 when the table is empty).
    func lastSequence() throws(StoreError) -> Int64 {
        try connection.scalarInt("SELECT coalesce(max(seq), 0) FROM factpipe_staging") ?? 0
    }

    /// Creates or drops the index that `firstConflict` needs (only loads under `fail` use it).
    func setConflictIndex(_ isPresent: Bool) throws(StoreError) {
        if isPresent {
            try connection.execute(
                "CREATE INDEX IF NOT EXISTS \(Self.statementIndex) ON factpipe_staging(statement, seq)")
        } else {
            try connection.execute("DROP INDEX IF EXISTS \(Self.statementIndex)")
        }
    }

    /// The first record of load `loadID` after sequence `afterSequence` whose statement is already stored
    /// or staged earlier; nil when there is none.
    func firstConflict(loadID: Int64, afterSequence: Int64) throws(StoreError) -> Conflict? {
        let statement = try connection.prepare("""
            SELECT s.line, s.offset, s.statement,
            EXISTS (SELECT 1 FROM facts AS f WHERE f.statement = s.statement) FROM factpipe_staging AS s
            WHERE s.load_id = ?1 AND s.seq > ?2 AND (
                EXISTS (SELECT 1 FROM facts AS f WHERE f.statement = s.statement)
                OR EXISTS (SELECT 1 FROM factpipe_staging AS t WHERE t.statement = s.statement AND t.seq < s.seq))
            ORDER BY s.seq LIMIT 1
            """)
        try statement.bind(1, loadID)
        try statement.bind(2, afterSequence)
        guard try statement.step() else { return nil }
        return Conflict(line: Int(statement.int64(0)), offset: statement.int64(1), statement: statement.text(2) ?? "",
                        isInDatabase: statement.int64(3) != 0)
    }

    /// Moves every staged row of load `loadID` into `facts` under `policy`, then drops them from the staging
    /// table (the rows of other loads stay there, for their own merge).
    /// The facts already there before the merge that the staged rows bring again are recorded in
    /// `factpipe_assertions`, so that undoing the load that inserted them keeps them. After a load
    /// appended straight to `facts`, `lastIDBeforeLoad` is the largest id before it: only facts up to
    /// it are asserted, not the rows the load appended itself (as if it had staged them).
    /// - Throws: `StoreError`; the caller's transaction makes the move all or nothing.
    func merge(loadID: Int64, policy: ConflictPolicy, lastIDBeforeLoad: Int64? = nil, sortBytes: Int = 0)
        throws(StoreError) -> MergeResult {
        let staged = try stagedCount(loadID: loadID)
        guard staged > 0 else { return MergeResult() }
        let before = try connection.scalarInt("SELECT coalesce(max(id), 0) FROM facts") ?? 0
        let pieces = try mergePieces(loadID: loadID, stagedRows: staged, sortBytes: sortBytes)
        var changed = 0
        if policy == .update {
            try mergeKeepingOmittedFields(loadID: loadID, pieces: pieces)
            changed = staged
        } else {
            // Under `fail` as under `ignore` a repeat is a duplicate (`ConflictPolicy.upsertClause`).
            let ignoring = policy == .ignore || policy == .fail
            let ignoresOnlyRepeats = if ignoring { try statementIsTheOnlyUniqueKey() } else { false }
            let insert = try connection.prepare("""
                INSERT \(ignoresOnlyRepeats ? "OR IGNORE " : "")INTO facts(statement, predicate, subject, object, args,
                arity, confidence, source, context, fact_metadata, created_at, load_id)
                SELECT statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
                created_at, load_id FROM factpipe_staging WHERE load_id = ?1 AND \(Self.pieceCondition(first: 2))
                ORDER BY statement, seq \(ignoresOnlyRepeats ? "" : policy.upsertClause)
                """)
            for piece in pieces {
                try insert.bind(1, loadID)
                try Self.bind(piece, to: insert, first: 2)
                _ = try insert.step()
                changed += connection.changes
                insert.reset()
            }
        }
        let after = try connection.scalarInt("SELECT coalesce(max(id), 0) FROM facts") ?? 0
        // New ids are the rows the merge inserted, but also a trigger's (a knowledge base's that adds the
        // inverse `PartOf` of each `HasPart`: "1,049 inserted, -68 updated"), and none at all after a row of
        // id 2^63-1, where SQLite picks ids at random ("0 inserted, 1,958 updated"). `changes` counts the
        // statement's own rows only: under ignore and fail each one is an insert. Under replace and update,
        // with a trigger on `facts`, the new rows of this load are counted (they decide below whether facts
        // of other loads were met: counted as inserted, an updated one went unrecorded, and `undo` of the
        // load that inserted it deleted it).
        let inserted: Int
        if policy == .ignore || policy == .fail {
            inserted = changed
        } else if try connection.scalarInt(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'facts')") == 1 {
            let count = try connection.prepare("SELECT count(*) FROM facts WHERE id > ?1 AND load_id = ?2")
            try count.bind(1, before)
            try count.bind(2, loadID)
            inserted = try count.step() ? min(Int(count.int64(0)), changed) : 0
        } else {
            inserted = min(max(Int(after - before), 0), changed)
        }
        if let lastIDBeforeLoad {
            if inserted < staged && lastIDBeforeLoad > 0 {
                try recordAssertions(loadID: loadID, probingEachUpTo: lastIDBeforeLoad)
            }
        } else if inserted < staged {
            try recordAssertions(loadID: loadID, lastIDBefore: before)
        }
        try discard(loadID: loadID)
        return MergeResult(
            inserted: inserted, updated: changed - inserted, duplicates: staged - changed, pieces: pieces.count)
    }

    /// True when the only unique index of `facts` is one on `statement` alone and its columns have
    /// factpipe's constraints only (no CHECK).
    ///
    /// Then `INSERT OR IGNORE` skips exactly the rows `ON CONFLICT(statement) DO NOTHING` would, as the
    /// staging table has `facts`' NOT NULL columns; and it skips a write: an upsert may still abort
    /// half-way on those other constraints, so SQLite first copies every page it changes into a
    /// statement journal (10,000 facts into 5M: 378 MB beside the log's 549 MB and the database's
    /// 430 MB). A unique index or a CHECK of the user's own, or no unique index while a load rebuilds
    /// `facts_statement`, keeps the upsert, which fails loudly instead of skipping rows in silence.
    private func statementIsTheOnlyUniqueKey() throws(StoreError) -> Bool {
        let table = try connection.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'facts'")
        guard try table.step(), let sql = table.text(0), !sql.lowercased().contains("check") else { return false }
        let keys = try connection.prepare("""
            SELECT (SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) AS i)
            FROM pragma_index_list('facts') AS l WHERE l."unique"
            """)
        var columns: [String?] = []
        while try keys.step() { columns.append(keys.text(0)) }
        return columns == ["statement"]
    }

    /// Records in `factpipe_assertions` the facts older than the merge (ids up to `lastIDBefore`) that
    /// staged rows of `loadID` brought again. New ids are the rows the merge inserted: a staged
    /// statement among them was not in `facts` before (it was inserted, or repeats one that was), so
    /// only the other rows probe `facts_statement`. When every staged row inserted, the caller skips this.
    private func recordAssertions(loadID: Int64, lastIDBefore: Int64) throws(StoreError) {
        // Staged rows outside, `facts_statement` inside: each probe reads the index alone (comparing
        // `facts.load_id` too would read a table row at random for each), and the rows are appended.
        // The new statements are a rowid range at the end of `facts`, read once into a temporary index.
        let assert = try connection.prepare("""
            INSERT INTO factpipe_assertions(load_id, fact_id)
            SELECT s.load_id, f.id FROM factpipe_staging AS s CROSS JOIN facts AS f ON f.statement = s.statement
            WHERE s.load_id = ?1 AND s.statement NOT IN (SELECT n.statement FROM facts AS n WHERE n.id > ?2)
            AND f.id <= ?2
            """)
        try assert.bind(1, loadID)
        try assert.bind(2, lastIDBefore)
        _ = try assert.step()
    }

    /// Records in `factpipe_assertions` the facts up to `lastID` that staged rows of `loadID` brought
    /// again, with one probe of `facts_statement` per staged row (after a direct append, the staged
    /// rows are the few repeats, and the rows above `lastID` are most of the load).
    private func recordAssertions(loadID: Int64, probingEachUpTo lastID: Int64) throws(StoreError) {
        let assert = try connection.prepare("""
            INSERT INTO factpipe_assertions(load_id, fact_id)
            SELECT s.load_id, f.id FROM factpipe_staging AS s CROSS JOIN facts AS f ON f.statement = s.statement
            WHERE s.load_id = ?1 AND f.id <= ?2
            """)
        try assert.bind(1, loadID)
        try assert.bind(2, lastID)
        _ = try assert.step()
    }

    /// The smallest and largest ids in `facts` (nil when it is empty). Two subqueries, because SQLite
    /// reads only the ends of the table for a lone `min()` or `max()`, and scans a whole index for both in
    /// one query (23 MB at a million facts, at the start of every load: 0.09 s of a one-record load).
    func factIDs() throws(StoreError) -> ClosedRange<Int64>? {
        let statement = try connection.prepare("SELECT (SELECT min(id) FROM facts), (SELECT max(id) FROM facts)")
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return statement.int64(0)...max(statement.int64(0), statement.int64(1))
    }

    /// The largest id in `facts` (0 when it is empty).
    func lastFactID() throws(StoreError) -> Int64 {
        try connection.scalarInt("SELECT coalesce(max(id), 0) FROM facts") ?? 0
    }
}
