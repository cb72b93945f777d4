/// The tables, indexes and settings of a factpipe database (DESIGN 1.4).
///
/// `factpipe_staging` holds the committed batches of the load that is running: each batch is
/// appended there (cheap, in input order) with the ledger checkpoint in the same transaction, and
/// at the end of each source its rows move into `facts` in statement order in one transaction
/// (`StagingArea.merge`), which keeps the unique index's writes sequential however large the load.
///
/// Statements are unique through the index `facts_statement` rather than a `UNIQUE` column
/// constraint: the guarantee and the upserts are the same, but an index can be dropped, so a load
/// into an empty or small table appends straight to `facts` and builds it by one sort at the end
/// (`StagingArea.restoreUniqueness`). Databases made before keep their constraint and always stage.
///
/// `factpipe_assertions` lists, for a fact, the loads other than its inserting one (`load_id`) that
/// also brought it (as a duplicate, an update or a replacement): `LoadUndo` keeps a fact while any of
/// them is not undone. It has no index: a merge only appends to it (its probes of `facts_statement`
/// read the index alone), and only an undo reads it, by one scan. Rows may repeat, and a load's row
/// for a fact it inserted itself means nothing. Databases made before get it from `migrate`.
///
/// `factpipe_sequence` holds the largest load id ever given (`seq` of the row named `factpipe_loads`),
/// as SQLite's own `sqlite_sequence` does for an `AUTOINCREMENT` table: a load's id is never given
/// again, not even after its ledger row was deleted by hand, since facts and assertions keep naming it
/// and `undo` of a new load of the same id would delete them (`LoadLedger.start`). Its row `facts` holds
/// the largest fact id a writer transaction left, so that the assertions of facts deleted by hand are
/// forgotten before SQLite gives their ids again (`FactIDHighWater`), and its row `database_id` the
/// database's identity (`DatabaseIdentity`).
enum FactSchema {
    /// The schema version kept in `PRAGMA user_version`: 2 since statements are canonical under the
    /// character rules (`StatementCharacters`), 3 since one index on `(subject, predicate)` serves
    /// the lookups by subject and by predicate and subject. A writer brings an older database to this
    /// version when it opens it (`CanonicalFormMigration`, then `SubjectIndexMigration`); readers read
    /// versions 1 and 2 as they are.
    static let version: Int64 = 3
    /// Staged facts that trigger a merge into `facts` at the next batch boundary: bounds the
    /// staging table, the sort's passes, and how long committed facts stay out of sight.
    static let mergeThreshold = 1_000_000
    /// Page size of new databases, in bytes. 4 KiB measured slower on both jobs: 1M facts into an
    /// empty database 1.13× the time, 10,000 into a 1M database 1.23× (and only 4% fewer bytes written).
    static let pageSize = 16_384
    /// Page cache while SQLite sorts (index builds, merges without secondary indexes), in KiB.
    static let sortCacheKiB = 4 * 1024

    static let createTables = """
        CREATE TABLE facts(
            id INTEGER PRIMARY KEY,
            statement TEXT NOT NULL,
            predicate TEXT NOT NULL,
            subject TEXT NOT NULL,
            object TEXT,
            args TEXT NOT NULL,
            arity INTEGER NOT NULL,
            confidence REAL NOT NULL DEFAULT 1.0,
            source TEXT,
            context TEXT NOT NULL DEFAULT '{}',
            fact_metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            load_id INTEGER,
            updated_load_id INTEGER
        );
        CREATE TABLE factpipe_loads(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            source_size INTEGER,
            source_sha256 TEXT,
            format TEXT,
            compression TEXT,
            conflict_policy TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            records INTEGER NOT NULL DEFAULT 0,
            inserted INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            rejected INTEGER NOT NULL DEFAULT 0,
            warnings INTEGER NOT NULL DEFAULT 0,
            checkpoint_offset INTEGER NOT NULL DEFAULT 0,
            checkpoint_line INTEGER NOT NULL DEFAULT 1,
            rejects_path TEXT,
            rejects_offset INTEGER NOT NULL DEFAULT 0,
            message TEXT,
            records_assertions INTEGER NOT NULL DEFAULT 0,
            rules TEXT
        );
        CREATE TABLE factpipe_staging(
            seq INTEGER PRIMARY KEY,
            load_id INTEGER NOT NULL,
            line INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            statement TEXT NOT NULL,
            predicate TEXT NOT NULL,
            subject TEXT NOT NULL,
            object TEXT,
            args TEXT NOT NULL,
            arity INTEGER NOT NULL,
            confidence REAL NOT NULL,
            source TEXT,
            context TEXT NOT NULL,
            fact_metadata TEXT NOT NULL,
            created_at TEXT NOT NULL,
            given INTEGER
        );
        CREATE TABLE factpipe_assertions(
            load_id INTEGER NOT NULL,
            fact_id INTEGER NOT NULL
        );
        CREATE TABLE factpipe_sequence(
            name TEXT PRIMARY KEY,
            seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// The index that keeps statements unique (and serves lookups by statement).
    static let uniqueIndex = (
        name: "facts_statement", sql: "CREATE UNIQUE INDEX IF NOT EXISTS facts_statement ON facts(statement)"
    )

    /// Secondary indexes for the knowledge base's lookups; a bulk load may drop and rebuild them.
    ///
    /// One index on `(subject, predicate)` serves both lookups the knowledge base makes: by subject
    /// (its first column) and by predicate and subject (two equalities). Version 2 kept an index on
    /// `subject` and one on `(predicate, subject)`: the same lookups, but every new fact dirtied a leaf
    /// page in each, and a small load into a big table costs the pages it dirties (10,000 facts into a
    /// million rewrote nearly every leaf of every index). Lookups by predicate alone go through the
    /// unique index instead: a canonical statement starts with its predicate and `(`, so the facts of
    /// one predicate are the statements from `P(` up to `P)` (`predicateRange`).
    static let secondaryIndexes: [(name: String, sql: String)] = [
        ("facts_subject_predicate", "CREATE INDEX IF NOT EXISTS facts_subject_predicate ON facts(subject, predicate)")
    ]

    /// Whether the index `name` of `facts` is as `sql` (one of the definitions above) makes it: as unique,
    /// on the same columns in ascending order under the default collation, over every row. Bulk loads drop
    /// and build only such an index: one of the same name that the user defined otherwise (`COLLATE
    /// NOCASE`, an expression, a partial index) was replaced by factpipe's definition when a load built
    /// it again, and what it meant was lost without a word.
    static func isFactpipes(index name: String, sql: String, _ connection: SQLiteConnection) throws(StoreError) -> Bool {
        let list = try connection.prepare("SELECT \"unique\", partial FROM pragma_index_list('facts') WHERE name = ?1")
        try list.bind(1, name)
        guard try list.step(), list.int64(0) == (sql.contains("UNIQUE") ? 1 : 0), list.int64(1) == 0 else {
            return false
        }
        let info = try connection.prepare(
            "SELECT name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
        try info.bind(1, name)
        var keys: [String] = []
        while try info.step() {
            // An expression has no column name.
            guard let column = info.text(0), info.int64(1) == 0, info.text(2) == "BINARY" else { return false }
            keys.append(column)
        }
        return keys == columns(of: sql)
    }

    /// The columns of an index definition above: the names between its parentheses.
    static func columns(of sql: String) -> [String] {
        guard let open = sql.firstIndex(of: "("), let close = sql.lastIndex(of: ")"), open < close else { return [] }
        return sql[sql.index(after: open)..<close].split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }
    }

    /// The secondary indexes of version 2, replaced by `secondaryIndexes` (`SubjectIndexMigration`).
    static let version2SecondaryIndexes = ["facts_subject", "facts_predicate_subject"]

    /// A condition on `statement` that holds for the canonical statements of the predicate bound to
    /// `parameter`, and that SQLite answers from a range of the unique index: a predicate is a name,
    /// which never holds `(`, so no other predicate's statements sort between `P(` and `P)`.
    static func predicateRange(_ parameter: String) -> String {
        "(statement >= (\(parameter) || '(') AND statement < (\(parameter) || ')'))"
    }

    /// The predicates of the facts, one row each (`name`), with one seek of the unique index per
    /// predicate instead of a sort of all facts: from a statement `P(…` the next predicate's statements
    /// come after `P)` (`predicateRange`). A statement with no `(` (another program's row) is stepped
    /// over on its own, and names no predicate. Needs a unique index on `statement`.
    ///
    /// Like `query --predicate`, it reads the predicate from the canonical statement, which is the
    /// `predicate` column of every row factpipe wrote; a row another program wrote with a `predicate`
    /// that disagrees with its statement counts under its statement's. Each step goes past the row it
    /// came from (`max`): the key made of a blob (which sorts after all text), or of text whose bytes are
    /// not UTF-8 (`instr` and `substr` count them apart), sorted before that row, and the search found
    /// it again for ever (`stats` never ended; the monitor's probe held its read transaction, and the
    /// log grew without bound).
    static let predicateNames = """
        WITH RECURSIVE p(statement) AS (
            SELECT (SELECT statement FROM facts ORDER BY statement LIMIT 1)
            UNION ALL
            SELECT (
                SELECT statement FROM facts
                WHERE statement > max(p.statement, CASE WHEN instr(p.statement, '(') > 0
                    THEN substr(p.statement, 1, instr(p.statement, '(') - 1) || ')' ELSE p.statement END)
                ORDER BY statement LIMIT 1)
            FROM p WHERE p.statement IS NOT NULL)
        SELECT substr(statement, 1, instr(statement, '(') - 1) AS name FROM p WHERE instr(statement, '(') > 1
        """
}
