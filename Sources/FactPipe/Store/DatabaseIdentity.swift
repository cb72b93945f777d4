#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A random number a database is given when factpipe makes it (or first writes one made before),
/// recorded in the manifest of every archive made of it (`database_id`).
///
/// Backup and snapshot retention judge an archive to be a database's by the path its manifest records,
/// and two databases can have one path: `/data/kb.sqlite` in a container on each of several hosts,
/// backed up into one shared folder, or a database deleted and made anew. `backup --keep` of one deleted
/// the others' backups, as the oldest of its own. The identity tells them apart: an archive whose manifest
/// records another identity is another database's (`isSameDatabase`). A copy of the file (`cp`, a backup
/// restored) is the same database and keeps it. Archives written before it was recorded are judged by
/// their path alone, as before; a database not written since it was made by an earlier build has none yet,
/// and its archives then record none.
///
/// Host names would not do: a container's is new on every start, and its database's earlier archives
/// would then never be pruned. SQLite keeps the identity as the row `database_id` of `factpipe_sequence`
/// (a row more, which earlier builds read past), PostgreSQL as the row `database_id` of `factpipe_meta`;
/// manifests write it as 16 lowercase hex digits.
enum DatabaseIdentity {
    /// The row's name in `factpipe_sequence` (SQLite) and `factpipe_meta` (PostgreSQL).
    static let key = "database_id"

    /// A new identity: 64 bits from the system's random source.
    static func newValue() -> Int64 {
        Int64(bitPattern: UInt64.random(in: .min ... .max))
    }

    /// `value` as manifests write it: 16 lowercase hex digits.
    static func text(_ value: Int64) -> String {
        let digits = String(UInt64(bitPattern: value), radix: 16)
        return String(repeating: "0", count: max(16 - digits.count, 0)) + digits
    }

    /// True when an archive whose manifest records `archived` may be one of the database whose identity is
    /// `database`: the same identity, or none recorded in the archive (written before identities were).
    static func isSameDatabase(archived: String?, database: String?) -> Bool {
        archived.map { $0 == database } ?? true
    }

    /// False when an archive whose manifest records `archived` is certainly not of `database` (a SQLite path
    /// or a PostgreSQL address) as it is now: it records an identity, and the database has another one or none
    /// (made by an earlier build). True when it records none, when the database is not there yet (a night that
    /// makes it anew replaces what the path held before, as it always did), or cannot be read now (the command
    /// that goes on to write it says why).
    static func mayBeOf(database: String, archived: String?) -> Bool {
        guard let archived else { return true }
        if let address = PostgreSQLAddress(database) {
            guard let connection = try? PostgreSQLConnection(address: address, applicationName: "factpipe run"),
                let state = try? PostgreSQLSchema.state(connection)
            else { return true }
            guard case .factpipe = state else { return state == .empty }
            guard let found = try? PostgreSQLSchema.databaseID(connection) else { return true }
            return found == archived
        }
        guard access(database, F_OK) == 0 else { return true }
        guard let connection = try? FactDatabase.openForReading(path: database, leavesNoTrace: true),
            let found = try? read(connection)
        else { return true }
        return found == archived
    }

    /// The identity of a SQLite database, nil when it has none (made by an earlier build and not written since).
    /// Read inside the caller's transaction, so it is that of the state the caller reads.
    static func read(_ connection: SQLiteConnection) throws(StoreError) -> String? {
        guard try connection.userTables().contains("factpipe_sequence") else { return nil }
        return try connection.scalarInt("""
            SELECT seq FROM factpipe_sequence WHERE name = '\(key)' AND typeof(seq) = 'integer'
            """).map(text)
    }

    /// Gives a SQLite database an identity when it has none; in the caller's write transaction, after
    /// `factpipe_sequence` exists.
    static func give(_ connection: SQLiteConnection) throws(StoreError) {
        try connection.execute("INSERT OR IGNORE INTO factpipe_sequence(name, seq) VALUES ('\(key)', \(newValue()))")
    }

    /// True when the SQLite database has the row (whatever its value): nothing to give.
    static func isGiven(_ connection: SQLiteConnection) throws(StoreError) -> Bool {
        try connection.scalarInt("SELECT count(*) FROM factpipe_sequence WHERE name = '\(key)'") == 1
    }
}
