/// A stream of facts in id order that `SnapshotExporter` writes: the current row's columns as bytes,
/// valid until the next `advance()`.
///
/// `FactCursor` reads a SQLite database, `PostgreSQLFactCursor` a PostgreSQL one; both from one read
/// transaction, one row (or a small batch of rows) at a time.
protocol FactRowSource: AnyObject {
    /// The database as messages show it (a PostgreSQL address without its password).
    var path: String { get }
    /// The schema version of the database, for the manifest.
    var schemaVersion: Int64 { get }
    /// The database's identity (`DatabaseIdentity`), read in the cursor's transaction; nil when it has none.
    var databaseID: String? { get }
    /// True for a SQLite version-1 database: its statements are in the canonical form of then, and its
    /// snapshot is restored as migrating it would be (`ArchiveRestorer`). PostgreSQL's versions are its own.
    var holdsOldCanonicalForm: Bool { get }
    /// The bytes of a text column of the current row, nil when NULL.
    func text(_ column: FactCursor.Column) -> UnsafeBufferPointer<UInt8>?
    /// The confidence of the current row.
    var confidence: Double { get }
    /// The id of the current row.
    var id: Int64 { get }
    /// True when `facts` holds `statement`, byte for byte, in the snapshot being read.
    func holds(statement: String) throws(SnapshotError) -> Bool
    /// Moves to the next fact the filter keeps; false at the end.
    func advance() throws(SnapshotError) -> Bool
    /// Ends the read transaction.
    func end() throws(SnapshotError)
}

extension FactRowSource {
    /// True when no factpipe load wrote the current row (plain SQL, another program): what a load
    /// checked, such a row may not be (`FactRowEncoder` checks it as import will).
    var isWrittenElsewhere: Bool { text(.writtenElsewhere)?.first == UInt8(ascii: "1") }
}

extension FactCursor: FactRowSource {
    var holdsOldCanonicalForm: Bool { schemaVersion <= CanonicalFormMigration.fromVersion }

    func holds(statement: String) throws(SnapshotError) -> Bool {
        try storeCall { () throws(StoreError) in try storesStatement(statement) }
    }

    func advance() throws(SnapshotError) -> Bool {
        try storeCall { () throws(StoreError) in try next() }
    }

    func end() throws(SnapshotError) {
        try storeCall { () throws(StoreError) in try finish() }
    }
}
