/// What `factpipe stats` reports of a database: its facts, its files, its indexes, its loads.
///
/// Collected read-only. On another program's database (`FactDatabaseKind.foreign`) the figures
/// come from the columns its `facts` table has; predicates, subjects and arities that a column
/// does not give are read from the statements (see `StoredFact`), and there are no loads.
public struct DatabaseStats: Sendable {
    /// A name and how many facts have it.
    public struct Tally: Sendable, Equatable {
        /// The predicate or source; nil for facts without a source.
        public var name: String?
        public var facts: Int
    }

    /// How many facts have one arity.
    public struct ArityTally: Sendable, Equatable {
        public var arity: Int
        public var facts: Int
    }

    /// An index on `facts`.
    public struct Index: Sendable, Equatable {
        public var name: String
        public var columns: [String]
        public var isUnique: Bool
    }

    /// One row of the ledger, `factpipe_loads`.
    public struct Load: Sendable, Equatable {
        public var id: Int64
        public var source: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var records = 0, inserted = 0, updated = 0, duplicates = 0, rejected = 0, warnings = 0
    }

    /// Where a database is kept.
    public enum Store: String, Sendable {
        case sqlite, postgresql
    }

    /// The SQLite path, or the PostgreSQL server as `PostgreSQLAddress.description` shows it.
    public var path: String
    public var kind: FactDatabaseKind
    /// SQLite, or PostgreSQL (where `fileBytes` is the tables' size with their indexes, and the
    /// WAL and page figures are 0).
    public var store = Store.sqlite
    /// `PRAGMA user_version`: factpipe's schema version, whatever the other program set.
    public var schemaVersion: Int64
    public var journalMode: String
    /// The columns of `facts`, in table order.
    public var columns: [String]
    public var facts = 0
    public var distinctPredicates = 0
    public var distinctSubjects = 0
    /// The most used predicates, most facts first.
    public var topPredicates: [Tally] = []
    /// Facts by number of arguments, smallest arity first.
    public var arities: [ArityTally] = []
    /// Statements the grammar refuses (another program's database only); they have no arity.
    public var unparsedStatements = 0
    /// Facts by source, most first; empty when the table has no source column.
    public var sources: [Tally] = []
    public var fileBytes: Int64 = 0
    public var walBytes: Int64 = 0
    public var pageSize = 0
    public var pageCount = 0
    public var freePages = 0
    public var indexes: [Index] = []
    /// The most recent loads, newest first (factpipe databases only).
    public var recentLoads: [Load] = []

    /// Bytes in pages that hold no data (reclaimed by `optimize --vacuum`).
    public var freeBytes: Int64 { Int64(freePages) * Int64(pageSize) }

    /// Reads the statistics of the database at `path`, changing nothing in it.
    ///
    /// `top` bounds the predicates and sources listed, `loads` the ledger rows.
    /// - Throws: `StoreError` when the file cannot be opened or has no `facts` table with a
    ///   `statement` column, or a query fails.
    public static func collect(
        path: String, top: Int = 10, loads: Int = 10, settings: DatabaseSettings = .init()
    ) throws(StoreError) -> DatabaseStats {
        // Sizes first: a factpipe database opened for reading may gain its -wal file.
        let fileBytes = FileSize.bytes(path) ?? 0
        let walBytes = FileSize.bytes(DatabaseFile.walPath(path)) ?? 0
        let database = try ReadableFactDatabase(path: path, settings: settings)
        var stats = try DatabaseInspector(database: database).collect(top: top, loads: loads)
        stats.fileBytes = fileBytes
        stats.walBytes = walBytes
        return stats
    }

    /// Reads the statistics of a factpipe database in PostgreSQL, changing nothing in it.
    /// - Throws: `PostgreSQLError` when the server cannot be reached, the database has no factpipe
    ///   schema, or a query fails.
    public static func collect(address: PostgreSQLAddress, top: Int = 10, loads: Int = 10) throws(PostgreSQLError)
        -> DatabaseStats
    {
        try PostgreSQLInspector.collect(address: address, top: top, loads: loads)
    }
}
