/// The tables, indexes and settings of a factpipe database (DESIGN 1.4).
enum FactSchema {
    /// The schema version kept in `PRAGMA user_version`.
    static let version: Int64 = 1

    static let createTables = """
        CREATE TABLE facts(
            id INTEGER PRIMARY KEY,
            statement TEXT NOT NULL UNIQUE,
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
            load_id INTEGER
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
            message TEXT
        );
        """

    /// Secondary indexes for the knowledge base's lookups; a bulk load may drop and rebuild them.
    /// A separate index on predicate alone is left out: (predicate, subject) serves those lookups.
    static let secondaryIndexes: [(name: String, sql: String)] = [
        ("facts_subject", "CREATE INDEX IF NOT EXISTS facts_subject ON facts(subject)"),
        ("facts_predicate_subject", "CREATE INDEX IF NOT EXISTS facts_predicate_subject ON facts(predicate, subject)"),
    ]
}
