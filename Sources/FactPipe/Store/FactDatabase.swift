import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connection settings for a load or a read.
public struct DatabaseSettings: Sendable {
    /// Page cache size in KiB (bounded, so memory stays flat).
    public var cacheKiB: Int = 32 * 1024
    /// How long to wait for another writer's lock, in milliseconds.
    public var busyTimeoutMilliseconds: Int32 = 5_000
    /// SQLite's soft heap limit: past it the page cache gives pages back and the sorter spills to disk,
    /// which bounds SQLite's memory whatever a merge or an index build has to sort.
    public var softHeapLimitBytes = 56 << 20
    /// Helper threads SQLite's sorter may use when it builds an index (each costs a sort buffer).
    public var sorterThreads = 2

    public init() {}
}

/// Opens factpipe databases: creates the schema on an empty file, checks the version of an existing one.
enum FactDatabase {
    /// Opens `path` for writing, creating the schema when the file is new or empty.
    /// - Throws: `StoreError` when the file cannot be opened, was not created by factpipe, or has a
    ///   schema version this build does not know.
    static func openForWriting(path: String, settings: DatabaseSettings = .init()) throws(StoreError) -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path)
        connection.setBusyTimeout(milliseconds: settings.busyTimeoutMilliseconds)
        let isNew = try connection.scalarInt("PRAGMA page_count") == 0
        if isNew {
            // Large pages make bulk inserts and index builds faster; they must be chosen before WAL.
            try connection.execute("PRAGMA page_size=\(FactSchema.pageSize)")
        } else {
            // Refuse a database that is not ours before anything (even the journal mode) changes it.
            let version = try connection.scalarInt("PRAGMA user_version") ?? 0
            let hasTables = try !userTables(connection).isEmpty
            if version != 0 || hasTables { try checkVersion(version, connection) }
        }
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("""
            PRAGMA synchronous=NORMAL;
            PRAGMA cache_size=-\(settings.cacheKiB);
            PRAGMA foreign_keys=OFF;
            PRAGMA threads=\(settings.sorterThreads);
            PRAGMA soft_heap_limit=\(settings.softHeapLimitBytes);
            """)
        try ensureSchema(connection)
        try CanonicalFormMigration.migrateIfNeeded(connection)
        return connection
    }

    /// Opens `path` read-only and checks that it is a factpipe database of a known version.
    /// - Throws: `StoreError` as `openForWriting` does.
    ///
    /// With `leavesNoTrace`, a database that no process has open (no `-wal` file) is opened immutable,
    /// so a short look (the ledger, a dry run) creates no side files; not for long reads that must see
    /// a consistent state while a writer may start.
    static func openForReading(
        path: String, settings: DatabaseSettings = .init(), leavesNoTrace: Bool = false
    ) throws(StoreError) -> SQLiteConnection {
        let uri = leavesNoTrace && access(path + "-wal", F_OK) != 0 ? SQLiteFactSource.uri(path, immutable: true) : nil
        let connection = try SQLiteConnection(path: path, readOnly: true, uri: uri)
        connection.setBusyTimeout(milliseconds: settings.busyTimeoutMilliseconds)
        try connection.execute("PRAGMA cache_size=-\(settings.cacheKiB)")
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        try checkVersion(version, connection)
        return connection
    }

    private static func checkVersion(_ version: Int64, _ connection: SQLiteConnection) throws(StoreError) {
        if version == FactSchema.version || version == CanonicalFormMigration.fromVersion { return }
        if version == 0 {
            let tables = try userTables(connection)
            throw StoreError(
                kind: .foreignDatabase, path: connection.path,
                message: "not a factpipe database (user_version 0, tables: \(tables.joined(separator: ", "))); "
                    + "factpipe never alters a database it did not create")
        }
        throw StoreError(
            kind: .unsupportedSchema, path: connection.path,
            message: "database schema version \(version) is not supported by this factpipe (it knows version "
                + "\(FactSchema.version)); use a factpipe release that matches the database")
    }

    private static func userTables(_ connection: SQLiteConnection) throws(StoreError) -> [String] {
        try connection.userTables()
    }

    private static func ensureSchema(_ connection: SQLiteConnection) throws(StoreError) {
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        if version == 0, try userTables(connection).isEmpty {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                // Re-check under the write lock: another process may have created it meanwhile.
                if try userTables(connection).isEmpty {
                    try connection.execute(FactSchema.createTables)
                    try connection.execute(FactSchema.uniqueIndex.sql)
                    for index in FactSchema.secondaryIndexes { try connection.execute(index.sql) }
                    try connection.execute("PRAGMA user_version=\(FactSchema.version)")
                }
                try connection.execute("COMMIT")
            } catch {
                connection.rollbackQuietly()
                throw error
            }
            return
        }
        try checkVersion(version, connection)
    }

    /// Names of the secondary indexes that exist now.
    static func existingSecondaryIndexes(_ connection: SQLiteConnection) throws(StoreError) -> Set<String> {
        let statement = try connection.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts'")
        var names = Set<String>()
        while try statement.step() {
            if let name = statement.text(0) { names.insert(name) }
        }
        return names
    }
}
