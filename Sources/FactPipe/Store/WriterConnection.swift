/// The load's only connection as the writer stage uses it: its transactions, the cache and sorter
/// settings of each step, the secondary indexes of `facts` and the log.
///
/// An atomic load is one transaction from start to end: `inTransaction` then runs inside it.
final class WriterConnection {
    let connection: SQLiteConnection
    private let settings: DatabaseSettings
    private let isAtomic: Bool
    /// The file the connection writes, as its path named it when the load began.
    private let file: OpenedDatabaseFile
    /// Run before each commit, after the file's check: the load's writer lock still held (`WriterLock.reassert`).
    var beforeCommit: (() throws(StoreError) -> Void)?

    init(connection: SQLiteConnection, settings: DatabaseSettings, isAtomic: Bool) {
        self.connection = connection
        self.settings = settings
        self.isAtomic = isAtomic
        file = OpenedDatabaseFile(path: connection.path)
    }

    var isInTransaction: Bool { connection.isInTransaction }

    func begin() throws(StoreError) {
        try connection.execute("BEGIN IMMEDIATE")
        if try keepsFactIDs() { try FactIDHighWater.forgetDeletedFacts(connection) }
    }

    /// Commits, once the database's path still names the file this connection writes (`checkStillNamed`).
    func commit() throws(StoreError) {
        try checkStillNamed()
        try beforeCommit?()
        if try keepsFactIDs() { try FactIDHighWater.remember(connection) }
        try connection.execute("COMMIT")
    }

    /// Whether the database has `factpipe_sequence` (`FactIDHighWater`): every writer migrates the
    /// database before its first transaction, so it is asked once.
    private var hasSequence: Bool?

    private func keepsFactIDs() throws(StoreError) -> Bool {
        if let hasSequence { return hasSequence }
        let found = try connection.scalarInt(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'factpipe_sequence'") == 1
        hasSequence = found
        return found
    }

    /// Throws `.replaced` when the database's path no longer names the file the load opened
    /// (`OpenedDatabaseFile`).
    func checkStillNamed() throws(StoreError) {
        try file.check(connection)
    }

    /// Rolls back whatever is open; nothing when nothing is.
    func rollback() {
        connection.rollbackQuietly()
    }

    /// Runs `body` in its own transaction, or inside the load's when it is atomic and open.
    func inTransaction(_ body: () throws -> Void) throws {
        if isAtomic && connection.isInTransaction { return try body() }
        try begin()
        do {
            try body()
            try commit()
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Runs `body` with the small page cache that sorting wants, then restores the load's cache.
    ///
    /// SQLite's sorter sizes its runs from the page cache: a small cache builds indexes faster and
    /// with far less memory (measured on 1M facts: 0.5 s and 28 MB at 8 MiB, 0.8 s and 108 MB at 64 MiB).
    func withSortCache(_ body: () throws -> Void) throws {
        try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        defer { try? connection.execute("PRAGMA cache_size=-\(settings.cacheKiB)") }
        try body()
    }

    /// Runs a merge's `body` with the settings it sorts best under, then restores the load's.
    ///
    /// Sorting the staged rows needs memory in proportion to the cache; with the secondary indexes
    /// dropped the unique index is written in order and needs little cache. With them present the
    /// page cache is busy with them: the merge sorts on this thread alone, so the sorter's helper
    /// threads and their buffers do not come on top of it.
    func withMergeSettings(secondaryIndexesDropped: Bool, _ body: () throws -> Void) throws {
        if secondaryIndexesDropped {
            try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        } else {
            try connection.execute("PRAGMA threads=0")
        }
        defer {
            try? connection.execute("PRAGMA cache_size=-\(settings.cacheKiB)")
            try? connection.execute("PRAGMA threads=\(settings.sorterThreads)")
        }
        try body()
    }

    /// How many rows `facts` holds, counted until the count passes `records`: a table with more counts as
    /// `records + 1`. A whole count reads an index from end to end (≈ 20 ms at a million facts, from the
    /// page cache), which a small load into a big table does not need to know.
    func factCount(stoppingPast records: Int64) throws(StoreError) -> Int64 {
        let statement = try connection.prepare("SELECT count(*) FROM (SELECT 1 FROM facts LIMIT ?1)")
        try statement.bind(1, max(0, records) == .max ? Int64.max : max(0, records) + 1)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// Drops the secondary indexes of `facts` that are there (a bulk load builds them after), unless the
    /// user defined one of the same name otherwise (`FactSchema.isFactpipes`): that one stays as it is.
    func dropSecondaryIndexes() throws(StoreError) {
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        for index in FactSchema.secondaryIndexes where present.contains(index.name) {
            guard try FactSchema.isFactpipes(index: index.name, sql: index.sql, connection) else { continue }
            try connection.execute("DROP INDEX IF EXISTS \(index.name)")
        }
    }

    /// Builds the secondary indexes of `facts` that are missing, in one transaction (or the load's).
    func buildMissingSecondaryIndexes() throws {
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        let missing = FactSchema.secondaryIndexes.filter { !present.contains($0.name) }
        guard !missing.isEmpty else { return }
        try withSortCache {
            try inTransaction {
                for index in missing { try connection.execute(index.sql) }
            }
        }
    }

    /// Copies the log into the database and empties it, unless a reader still needs it: a reader that
    /// held a read transaction across the load has kept SQLite from reusing the log, which then grew by
    /// the whole load. Waits at most `releaseLogWaitMilliseconds` for readers between two queries; with
    /// one still reading after that, the next load tries again. Without readers it costs next to
    /// nothing: the automatic checkpoint at the merge's commit has already copied the log (10,000 and
    /// 100,000 facts into a 1M database write the same bytes with it, with a passive one, or with none).
    ///
    /// Returns a note when the log could not be copied for another reason than a reader (a full disk): the
    /// load is whole, but the database is the file and its log together until a later writer copies it, and
    /// the load said nothing of it (the disk left 100% full, a copy of the file alone malformed).
    func releaseLog() -> String? {
        connection.setBusyTimeout(milliseconds: Self.releaseLogWaitMilliseconds)
        defer { connection.setBusyTimeout(milliseconds: settings.busyTimeoutMilliseconds) }
        do {
            try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return nil
        } catch {
            guard error.kind != .busy else { return nil }
            let log = DatabaseFile.walPath(connection.path)
            let size = FileSize.bytes(log).map { " (\(($0 + 500_000) / 1_000_000) MB)" } ?? ""
            return "the load is whole, but its log \(log)\(size) could not be copied into the database: "
                + "\(error.reason); until a later load or `factpipe optimize` copies it (once there is room), the database is the file and "
                + "its -wal together: keep them together (copy both, or take a `factpipe backup`)"
        }
    }

    /// How long the end of a load waits for readers to finish their read transactions so it can empty
    /// the log: long enough for short queries, short enough that a reader held open costs little.
    static let releaseLogWaitMilliseconds: Int32 = 250
}

/// The database file a writer opened, as its path named it then.
///
/// A file moved over the path (`mv new.sqlite kb.sqlite`), the file removed, or a symlink re-pointed while
/// a load writes leaves the load's connection on a file nobody can open by that name any more: what it
/// commits is gone with it, and the load would say done. Each commit checks the path first.
struct OpenedDatabaseFile {
    let path: String
    private let identity: FileIdentity?

    init(path: String) {
        self.path = path
        identity = FileIdentity(path: path)
    }

    /// Throws `.replaced` when `path` no longer names the file it named at `init`, after rolling back what
    /// `connection` has open and emptying its log into the file it belongs to.
    ///
    /// The log and its index (`-wal`, `-shm`) are opened by name beside the path, so they are still this
    /// file's, beside another one: a reader of the file now at the path would take this file's pages in
    /// the log for its own (SQLite lists renaming a database in use among the ways to corrupt one). Emptied
    /// (`wal_checkpoint(TRUNCATE)`), the log holds no page for anyone.
    ///
    /// `writer` names who wrote in the message, and `again` what to do then.
    func check(
        _ connection: SQLiteConnection, writer: String = "the load", again: String = "load again"
    ) throws(StoreError) {
        guard let identity, FileIdentity(path: path) != identity else { return }
        connection.rollbackQuietly()
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        throw StoreError(
            kind: .replaced, path: path,
            message: "the database file was replaced or removed while \(writer) wrote to it (moved over, deleted, "
                + "or its link re-pointed): what \(writer) committed is in the file that had this name before, "
                + "not in this one; \(again)")
    }
}
