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

    /// The largest page cache a load takes, in KiB (1 TiB): SQLite reads `cache_size` as a 32-bit count of
    /// KiB, and a cache of `--cache-mb 9000000000000` overflowed factpipe's own arithmetic (a crash).
    public static let maxCacheKiB = 1 << 30

    /// How much a merge into `facts` with its indexes may sort at once: what the soft heap limit leaves
    /// beside the page cache the merge fills, and at least the sort cache. A bigger merge is cut into
    /// pieces (`StagingArea.mergePieces`).
    var mergeSortBytes: Int {
        let cache = cacheKiB.multipliedReportingOverflow(by: 1024)
        let left = cache.overflow ? nil : softHeapLimitBytes.subtractingReportingOverflow(cache.partialValue)
        guard let left, !left.overflow else { return FactSchema.sortCacheKiB * 1024 }
        return max(FactSchema.sortCacheKiB * 1024, left.partialValue)
    }
}

/// Opens factpipe databases: creates the schema on an empty file, checks the version of an existing one.
enum FactDatabase {
    /// Opens `path` for writing, creating the schema when the file is new or empty.
    /// - Throws: `StoreError` when the file cannot be opened, was not created by factpipe, or has a
    ///   schema version this build does not know.
    static func openForWriting(path: String, settings: DatabaseSettings = .init()) throws(StoreError) -> SQLiteConnection {
        try DatabaseFile.check(path, mustExist: false)
        // A new database is made here, 0666 less the umask as any new file: SQLite makes it 0644 less the umask,
        // so that under `umask 002` in a group's shared folder the other members could not write it. Its `-wal`
        // and `-shm` take its permissions.
        let made = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if made >= 0 { close(made) }
        let connection = try SQLiteConnection(path: path)
        connection.setBusyTimeout(milliseconds: settings.busyTimeoutMilliseconds)
        let isNew = try connection.scalarInt("PRAGMA page_count") == 0
        if isNew {
            // Large pages make bulk inserts and index builds faster; they must be chosen before WAL.
            try connection.execute("PRAGMA page_size=\(FactSchema.pageSize)")
        } else {
            // Refuse a database that is not ours before anything (even the journal mode) changes it.
            try checkRecognised(connection, allowsEmpty: true)
        }
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("""
            PRAGMA synchronous=NORMAL;
            PRAGMA cache_size=-\(settings.cacheKiB);
            PRAGMA foreign_keys=OFF;
            PRAGMA threads=\(settings.sorterThreads);
            """)
        SQLiteSoftHeapLimit.acquire(settings.softHeapLimitBytes)
        connection.holdsSoftHeapLimit = true
        try ensureSchema(connection)
        try CanonicalFormMigration.migrateIfNeeded(connection)
        try SubjectIndexMigration.migrateIfNeeded(connection)
        connection.emptiesLogOnClose = true
        return connection
    }

    /// Refuses, before anything is created or locked, to write to an existing file that is not a
    /// factpipe database of a known version (or an empty one); looks at it read-only, leaving no side files.
    /// - Throws: `StoreError` when the path is not a file path, or the file is another program's.
    static func checkWritable(path: String, mustExist: Bool) throws(StoreError) {
        try DatabaseFile.check(path, mustExist: mustExist)
        // SQLite will not open a database whose log or journal is a symbolic link ("unable to open database
        // file"): say which file it is. (A planted `kb.sqlite-wal -> precious.txt` is left as it is.)
        let real = DatabaseFile.realPath(path)
        for suffix in ["-wal", "-shm", "-journal"] {
            if let target = PathText.symlinkTarget(real + suffix) {
                throw StoreError(
                    kind: .unusablePath, path: path,
                    message: "cannot write to it: \(real + suffix) is a symbolic link (to \(target)), which SQLite "
                        + "does not open and factpipe does not write through; remove the link")
            }
        }
        // A reader running as another user (or of a `0444` file) leaves a `-wal` and `-shm` it owns; SQLite
        // then fails every write with "attempt to write a readonly database". Say whose files they are.
        for suffix in ["-shm", "-wal"] where access(real + suffix, F_OK) == 0 && access(real + suffix, W_OK) != 0
            && errno == EACCES
        {
            var side = stat()
            let owner = stat(real + suffix, &side) == 0 ? UserName.of(uid: side.st_uid) : "another user"
            throw StoreError(
                kind: .unusablePath, path: path,
                message: "cannot write to it: \(real + suffix) belongs to \(owner) and this user may not write it "
                    + "(a reader running as \(owner) left it), and SQLite must write it to change the database; once "
                    + "no program has the database open, remove \(real)-wal and \(real)-shm (their owner or root can)")
        }
        try checkMayWrite(path)
        var info = stat()
        if stat(path, &info) == 0 && info.st_nlink > 1 {
            // SQLite keeps the log beside the name a database is opened by: two names, two logs.
            throw StoreError(
                kind: .unusablePath, path: path,
                message: "cannot write to it: the file has \(info.st_nlink) hard links, and SQLite would keep a "
                    + "separate log for each name; give it one name (remove the other links)")
        }
        guard let size = FileSize.bytes(path) else { return }
        guard size > 0 else {
            // An empty file is a database only to a load, which gives it factpipe's schema.
            guard !mustExist else {
                throw StoreError(
                    kind: .foreignDatabase, path: path,
                    message: "not a factpipe database (an empty file); only import gives a file factpipe's tables")
            }
            return
        }
        let probe = try ReadOnlyDatabase.open(path: path, cacheKiB: 1_024, busyTimeoutMilliseconds: 5_000)
        try checkRecognised(probe, allowsEmpty: !mustExist)
    }

    /// Opens `path` read-only and checks that it is a factpipe database of a known version.
    /// - Throws: `StoreError` as `openForWriting` does.
    ///
    /// With `leavesNoTrace`, a database in WAL mode that no process has open (no `-wal` file) is opened
    /// immutable, so a short look (the ledger, a dry run, the monitor's probe) creates no side files; not for
    /// long reads that must see a consistent state while a writer may start. One in rollback-journal mode
    /// (another program set it so) is read with SQLite's locks, which leave no file behind: opened immutable,
    /// it showed a writer's uncommitted pages spilled into the file, and those of one killed since (its
    /// `-journal` hot), as the ledger's and the monitor's counts (which then called the file malformed).
    static func openForReading(
        path: String, settings: DatabaseSettings = .init(), leavesNoTrace: Bool = false
    ) throws(StoreError) -> SQLiteConnection {
        let hasLog = access(DatabaseFile.walPath(path), F_OK) == 0
        // On a read-only file system (a snapshot's mount) nothing can write the file, and SQLite could
        // not create the -shm a WAL reader needs: it is read as the immutable file it is.
        let uri = !hasLog && ((leavesNoTrace && ReadOnlyDatabase.isWALDatabase(path)) || isOnReadOnlyFileSystem(path))
            ? SQLiteFactSource.uri(path, immutable: true) : nil
        try DatabaseFile.check(path, mustExist: true)
        try checkOneName(path)
        if uri == nil { try checkReaderCanMakeItsIndex(path) }
        let cleansUp =
            uri == nil && !leavesNoTrace && !hasLog ? try mayRemoveItsLog(path, settings: settings) : false
        let connection = try SQLiteConnection(path: path, readOnly: !cleansUp, create: false, uri: uri)
        connection.setBusyTimeout(milliseconds: settings.busyTimeoutMilliseconds)
        try ReadOnlyDatabase.refusingHotJournal(path) { () throws(StoreError) in
            if cleansUp { try connection.execute("PRAGMA query_only=1") }
            try connection.execute("PRAGMA cache_size=-\(settings.cacheKiB)")
            try checkRecognised(connection, allowsEmpty: false)
        }
        return connection
    }

    /// Throws when the WAL database at `path` has more than one name (hard links). SQLite keeps the log beside
    /// the name a writer opened the file by, and a reader through another name neither sees the commits in it
    /// nor takes the locks that keep a checkpoint from moving pages under its read: an export through a second
    /// link of a database being loaded held statements twice, or lacked facts committed long before, exit 0
    /// and verified. Writers refuse such a file already.
    private static func checkOneName(_ path: String) throws(StoreError) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_nlink > 1, ReadOnlyDatabase.isWALDatabase(path) else { return }
        throw StoreError(
            kind: .unusablePath, path: path,
            message: "cannot read it consistently: the file has \(info.st_nlink) hard links, and SQLite keeps a WAL "
                + "database's log beside the name its writer opened it by, which a reader through another name does "
                + "not see; give it one name (remove the other links), or read a copy (cp, not ln)")
    }

    /// Throws when this user may not write the database file at `path`, or its folder where SQLite must
    /// make the log: SQLite opened such a file, failed its first write ("attempt to write a readonly
    /// database", naming a DROP INDEX or an INSERT), and left a `-wal` and `-shm` of the file's mode behind,
    /// which then refused every load of its owner once the file was writable again.
    static func checkMayWrite(_ path: String) throws(StoreError) {
        let real = DatabaseFile.realPath(path)
        var own = stat()
        if stat(real, &own) == 0, access(real, W_OK) != 0, errno == EACCES {
            throw StoreError(
                kind: .unusablePath, path: path,
                message: "cannot write to it: this user may not write the file (mode \(String(own.st_mode & 0o7777, radix: 8)), "
                    + "owner \(UserName.of(uid: own.st_uid))); give them write permission")
        }
        if let folder = folderSQLiteMayNotWrite(real) {
            throw StoreError(
                kind: .unusablePath, path: path,
                message: "cannot write to it: this user may not write its folder \(folder), where SQLite makes the "
                    + "database's log (-wal and -shm, or -journal) to change it")
        }
    }

    /// Throws when SQLite could not read the WAL database at `path`: a reader makes `-shm` beside it, and
    /// this user may not write its folder (another user's database in their own folder). SQLite's own
    /// words were "attempt to write a readonly database (in: PRAGMA cache_size…)", as if a write were asked.
    private static func checkReaderCanMakeItsIndex(_ path: String) throws(StoreError) {
        let real = DatabaseFile.realPath(path)
        guard let folder = folderSQLiteMayNotWrite(real), ReadOnlyDatabase.isWALDatabase(path) else { return }
        throw StoreError(
            kind: .unusablePath, path: path,
            message: "cannot read it: SQLite makes \(real)-shm beside a database in WAL mode to read it, and this user "
                + "may not write its folder \(folder); read it as a user who may (its owner), or read a copy of it")
    }

    /// The folder of the database file `real` when SQLite must make its `-wal` or `-shm` there (they are not
    /// both there already) and this user may not write it; nil otherwise.
    private static func folderSQLiteMayNotWrite(_ real: String) -> String? {
        let folder = AtomicFileOutput.folder(of: real)
        let hasSideFiles = access(real + "-wal", F_OK) == 0 && access(real + "-shm", F_OK) == 0
        return !hasSideFiles && access(folder, W_OK) != 0 && errno == EACCES ? folder : nil
    }

    /// True when `path` is on a file system mounted read-only.
    private static func isOnReadOnlyFileSystem(_ path: String) -> Bool {
        var info = statvfs()
        return statvfs(path, &info) == 0 && (info.f_flag & UInt(ST_RDONLY)) != 0
    }

    /// True when a reader of `path` may open it for writing so that SQLite, as the last connection closes,
    /// removes the `-wal` and `-shm` that reading a WAL database makes: a read-only connection cannot,
    /// and would leave them beside the file. Such a reader runs with `query_only`, and writes only
    /// what SQLite's own close writes (checkpointing the log, when no other connection has it open).
    ///
    /// Only when the database has no `-wal` and no `-shm` as the reader opens it (so a log a killed writer
    /// left is never folded into the file by a reader's close; one a writer started meanwhile may be, as
    /// any SQLite connection's close does), only
    /// a file this user owns and has write permission on (as root too, who may write any file, so that a
    /// `0444` database or another user's stays byte for byte as it was), and only a factpipe database in
    /// WAL mode, recognised first through a read-only look: a read-write connection would roll back
    /// another program's hot journal, which factpipe never does.
    /// - Throws: `StoreError` when the file is not a factpipe database SQLite can read.
    private static func mayRemoveItsLog(_ path: String, settings: DatabaseSettings) throws(StoreError) -> Bool {
        let real = DatabaseFile.realPath(path)
        var info = stat()
        guard access(real + "-shm", F_OK) != 0, stat(real, &info) == 0, info.st_uid == geteuid(),
            (info.st_mode & S_IWUSR) != 0, access(real, W_OK) == 0,
            access(AtomicFileOutput.folder(of: real), W_OK) == 0, ReadOnlyDatabase.isWALDatabase(path)
        else { return false }
        let probe = try ReadOnlyDatabase.open(
            path: path, cacheKiB: 1_024, busyTimeoutMilliseconds: settings.busyTimeoutMilliseconds)
        try checkRecognised(probe, allowsEmpty: false)
        return true
    }

    /// What a database file holds, judged by its schema.
    enum Content: Equatable {
        /// No tables and `user_version` 0: a new file factpipe may give its schema.
        case empty
        /// factpipe's tables and their columns, with this `user_version`.
        case factpipe(version: Int64)
        /// Anything else, and why it is not factpipe's.
        case foreign(reason: String)
    }

    /// The tables and columns every factpipe database has, whatever its schema version.
    static let requiredColumns: [(table: String, columns: [String])] = [
        ("facts", ["id", "statement", "predicate", "subject", "args", "arity", "confidence", "created_at"]),
        ("factpipe_loads", ["id", "source", "status", "records", "inserted", "updated", "duplicates", "rejected"]),
    ]

    /// Recognises a factpipe database by its tables and columns, not by `user_version` alone (a
    /// version newer than this build's needs only the tables: its columns may have changed).
    static func content(of connection: SQLiteConnection) throws(StoreError) -> Content {
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        let tables = try userTables(connection)
        if tables.isEmpty {
            return version == 0 ? .empty : .foreign(reason: "user_version \(version) and no tables")
        }
        let listed = "user_version \(version), tables: \(tables.joined(separator: ", "))"
        for (table, columns) in requiredColumns {
            let present = Set(try ReadableFactDatabase.columns(of: table, connection))
            guard !present.isEmpty else { return .foreign(reason: listed) }
            if version > FactSchema.version { continue }
            let missing = columns.filter { !present.contains($0) }
            guard missing.isEmpty else {
                let names = missing.joined(separator: ", ")
                return .foreign(reason: "\(listed); its \(table) table has no \(names) column")
            }
        }
        return .factpipe(version: version)
    }

    /// Throws unless the connection's database is factpipe's, of a version this build knows (or, with
    /// `allowsEmpty`, empty).
    private static func checkRecognised(_ connection: SQLiteConnection, allowsEmpty: Bool) throws(StoreError) {
        switch try content(of: connection) {
        case .empty where allowsEmpty: return
        case .empty: throw foreign(connection.path, reason: "no tables")
        case .foreign(let reason): throw foreign(connection.path, reason: reason)
        case .factpipe(let version): try checkVersion(version, connection)
        }
    }

    private static func foreign(_ path: String, reason: String) -> StoreError {
        StoreError(
            kind: .foreignDatabase, path: path,
            message: "not a factpipe database (\(reason)); factpipe never alters a database it did not create")
    }

    private static func checkVersion(_ version: Int64, _ connection: SQLiteConnection) throws(StoreError) {
        if (CanonicalFormMigration.fromVersion...FactSchema.version).contains(version) { return }
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
                    try DatabaseIdentity.give(connection)
                    // Made by this release: an index dropped without `droppedByKey` is never a load's.
                    try connection.execute("""
                        INSERT INTO factpipe_sequence(name, seq) VALUES ('\(StagingArea.marksKey)', 1)
                        """)
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
