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
/// records another identity is another database's (`kinship`). A copy of the file (`cp`, a backup
/// restored) is the same database and keeps it. An archive that records none (written by an earlier build,
/// or of a database not written since an earlier build made it) proves nothing once the database has one:
/// retention leaves it and names it, rather than delete what may be another host's. A database that has
/// none yet judges such archives by their path alone, as before.
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

    /// Whose an archive is, as far as identities tell: the database's, another database's, or not known.
    enum Kinship: Equatable {
        /// It records the database's identity, or neither has one (then its path alone decides, as before).
        case same
        /// It records another identity, or one while the database has none.
        case another
        /// It records none while the database has one: written by an earlier build, of this database or of
        /// another at its path (another host's, into a shared folder). Retention neither counts nor deletes it.
        case unrecorded
    }

    /// Whose an archive whose manifest records `archived` is, for the database whose identity is `database`.
    /// Judged by path alone, an archive recording none was deleted by the first `--keep` on each host after
    /// the upgrade, other hosts' backups with it: such archives are a set that no longer grows, left and named.
    static func kinship(archived: String?, database: String?) -> Kinship {
        switch (archived, database) {
        case (nil, nil): .same
        case (nil, _?): .unrecorded
        case (let archived?, let database): archived == database ? .same : .another
        }
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
            return matches(archived) { () throws(PostgreSQLError) in try PostgreSQLSchema.databaseID(connection) }
        }
        guard access(database, F_OK) == 0 else { return true }
        guard let connection = try? FactDatabase.openForReading(path: database, leavesNoTrace: true) else { return true }
        return matches(archived) { () throws(StoreError) in try read(connection) }
    }

    /// True when the identity `read` gives is `archived`, or cannot be read. A database without one is not the
    /// database of an archive that records one (`try?` made both a failed read and no identity nil: a run then
    /// replaced another database's snapshot of the day).
    private static func matches<Failure: Error>(_ archived: String, _ read: () throws(Failure) -> String?) -> Bool {
        do {
            return try read() == archived
        } catch {
            return true
        }
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
