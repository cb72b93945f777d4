/// Whose schema a database's `facts` table follows.
public enum FactDatabaseKind: String, Sendable, Equatable {
    /// Created by factpipe: `PRAGMA user_version` 1, the ledger, indexed predicate and subject.
    case factpipe
    /// Another program's database with a `facts` table that has at least a `statement` column,
    /// such as the knowledge base's own `hexagonal_kb.db`; read as it is, never written.
    case foreign
}

/// A database opened for reading, and what its `facts` table holds.
///
/// A factpipe database is opened through `FactDatabase.openForReading`, with SQLite's ordinary
/// locking, so a load can run beside it. Any other database is opened by `ReadOnlyDatabase`, which
/// leaves its bytes and directory as they were; its columns are read from `PRAGMA table_info`,
/// never assumed.
final class ReadableFactDatabase {
    let path: String
    let connection: SQLiteConnection
    let kind: FactDatabaseKind
    /// The columns of `facts`, in table order, as the database names them.
    let columns: [String]
    /// `PRAGMA user_version`.
    let userVersion: Int64

    /// Opens `path` for reading and looks at its `facts` table.
    /// - Throws: `StoreError` when the file cannot be opened, is a factpipe database of another
    ///   schema version, or has no `facts` table with a `statement` column.
    init(path: String, settings: DatabaseSettings = .init()) throws(StoreError) {
        self.path = path
        try DatabaseFile.check(path, mustExist: true)
        let probe = try ReadOnlyDatabase.open(
            path: path, cacheKiB: settings.cacheKiB, busyTimeoutMilliseconds: settings.busyTimeoutMilliseconds)
        let version = try probe.scalarInt("PRAGMA user_version") ?? 0
        userVersion = version
        if case .factpipe(let version) = try FactDatabase.content(of: probe), version != 0 {
            kind = .factpipe
            connection = try FactDatabase.openForReading(path: path, settings: settings)
        } else {
            kind = .foreign
            connection = probe
        }
        columns = try Self.columns(of: "facts", connection)
        guard columns.contains("statement") else {
            let tables = try Self.tables(connection)
            let what = columns.isEmpty ? "has no facts table" : "has a facts table without a statement column"
            throw StoreError(
                kind: .foreignDatabase, path: path,
                message: "\(what) (tables: \(tables.isEmpty ? "none" : tables.joined(separator: ", ")))")
        }
    }

    /// True when `facts` has a column of that name.
    func hasColumn(_ name: String) -> Bool { columns.contains(name) }

    /// The column names of `table`, in order; empty when there is no such table.
    static func columns(of table: String, _ connection: SQLiteConnection) throws(StoreError) -> [String] {
        let statement = try connection.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        try statement.bind(1, table)
        var names: [String] = []
        while try statement.step() {
            if let name = statement.text(0) { names.append(name.lowercased()) }
        }
        return names
    }

    private static func tables(_ connection: SQLiteConnection) throws(StoreError) -> [String] {
        try connection.userTables()
    }
}
