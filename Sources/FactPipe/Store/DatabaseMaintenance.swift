import CSQLite
import Synchronization
/// The SQL behind `factpipe optimize`, run on a factpipe database under its writer lock.
///
/// The lock is taken without waiting: while a load holds it, opening fails at once with a `.busy`
/// error instead of hanging. SQLite's own lock (another program writing) is waited for only
/// `busyTimeoutMilliseconds`, then the step fails with `.busy` too.
final class DatabaseMaintenance {
    /// Page figures of the database.
    struct Pages: Equatable {
        var size = 0
        var count = 0
        var free = 0
    }

    /// What `PRAGMA wal_checkpoint(TRUNCATE)` answered.
    struct Checkpoint: Equatable {
        /// True when a reader or writer kept it from finishing.
        var wasBlocked: Bool
        /// Frames in the log, and how many were copied into the database (-1 when not in WAL mode).
        var logFrames: Int
        var checkpointedFrames: Int
    }

    let path: String
    private let lock: WriterLock
    private let connection: SQLiteConnection
    private let file: OpenedDatabaseFile

    /// Takes the writer lock without waiting and opens the database.
    /// - Throws: `StoreError` of kind `.busy` when a load holds the lock or SQLite's lock stays
    ///   taken; other kinds when the file is missing, not a factpipe database, or unreadable.
    init(
        path: String, busyTimeoutMilliseconds: Int32, lockWaitSeconds: Double = 0, isCancelled: () -> Bool = { false }
    ) throws(StoreError) {
        self.path = path
        // Look before taking the lock: not even a lock file may appear beside another program's database.
        try FactDatabase.checkWritable(path: path, mustExist: true)
        do {
            lock = try WriterLock(
                databasePath: path, timeoutSeconds: lockWaitSeconds, description: "optimize started \(Timestamp.now())",
                isCancelled: isCancelled)
        } catch where error.kind == .busy {
            let holder = error.message.split(separator: "; waited").first.map(String.init) ?? error.message
            throw StoreError(
                kind: .busy, path: path,
                message: "refusing to optimize: \(holder); run optimize again when it has finished")
        }
        var settings = DatabaseSettings()
        settings.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        connection = try FactDatabase.openForWriting(path: path, settings: settings)
        file = OpenedDatabaseFile(path: path)
    }

    /// Throws `.replaced` when the path no longer names the file this opened (moved over or removed since):
    /// the steps so far went into that file, and its log is emptied into it (`OpenedDatabaseFile`).
    func checkStillAtPath() throws(StoreError) {
        try file.check(connection, writer: "optimize", again: "run optimize again")
    }

    /// The database's page size, page count and free pages.
    func pages() throws(StoreError) -> Pages {
        Pages(
            size: Int(try connection.scalarInt("PRAGMA page_size") ?? 0),
            count: Int(try connection.scalarInt("PRAGMA page_count") ?? 0),
            free: Int(try connection.scalarInt("PRAGMA freelist_count") ?? 0))
    }

    /// What a stopped load left: the unique index of a bulk load killed before its end, batches left staged
    /// (a killed load's, or one's whose merge failed), secondary indexes dropped for a bulk load. Left as it
    /// was, the table without its indexes passed the integrity check (exit 0, "integrity ok") and stayed
    /// without them until the next load.
    struct Leftovers {
        var uniqueIndexMissing: Bool
        /// False when the unique index is missing but no load of factpipe's set it aside: someone dropped it.
        var uniqueIndexSetAsideByLoad = true
        var stagedLoads: [Int64]
        var missingIndexes: [String]

        /// What completing them does, for the report.
        var description: String {
            var done: [String] = []
            if uniqueIndexMissing && !uniqueIndexSetAsideByLoad {
                let rest = Leftovers(uniqueIndexMissing: false, stagedLoads: stagedLoads, missingIndexes: missingIndexes)
                return "the unique index built again (it had been dropped, not by a load)"
                    + (rest.stagedLoads.isEmpty && rest.missingIndexes.isEmpty ? "" : "; " + rest.description)
            }
            if uniqueIndexMissing { done.append("the unique index built") }
            if !stagedLoads.isEmpty {
                done.append("the staged batches of load\(stagedLoads.count == 1 ? "" : "s") "
                    + stagedLoads.map(String.init).joined(separator: ", ") + " merged")
            }
            if !missingIndexes.isEmpty { done.append(missingIndexes.joined(separator: ", ") + " built") }
            return done.joined(separator: "; ") + " (left by a stopped load)"
        }
    }

    /// What a stopped load left, or nil when nothing.
    func leftovers() throws(StoreError) -> Leftovers? {
        let staging = StagingArea(connection: connection)
        // A database of an earlier schema has other secondary indexes: its next load migrates it.
        let isCurrent = try connection.scalarInt("PRAGMA user_version") == FactSchema.version
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        let missing = try staging.uniqueness() == .missing
        let setAside = missing ? try staging.loadSetUniqueIndexAside() : true
        let found = Leftovers(
            uniqueIndexMissing: missing, uniqueIndexSetAsideByLoad: setAside,
            stagedLoads: try staging.loadsWithStagedRows(),
            missingIndexes: isCurrent ? FactSchema.secondaryIndexes.map(\.name).filter { !present.contains($0) } : [])
        return found.uniqueIndexMissing || !found.stagedLoads.isEmpty || !found.missingIndexes.isEmpty ? found : nil
    }

    /// Completes what a stopped load left, as the next load would (`LoadRecovery`).
    /// - Throws: `StoreError` when a merge fails (a constraint of the user's refuses a load's rows: undo it).
    func completeStoppedLoads() throws(StoreError) {
        do {
            try FactSchema.migrate(connection)
            let database = WriterConnection(connection: connection, settings: DatabaseSettings(), isAtomic: false)
            let staging = StagingArea(connection: connection)
            try LoadRecovery(database: database, ledger: try LoadLedger(connection: connection), staging: staging).run()
            try database.buildMissingSecondaryIndexes()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(kind: .sqlite(code: SQLITE_ERROR), path: path, message: "\(error)")
        }
    }

    /// `PRAGMA optimize`: lets SQLite run the analyses it judges useful.
    func optimize() throws(StoreError) { try connection.execute("PRAGMA optimize") }

    /// `ANALYZE`: fresh statistics for the query planner.
    func analyze() throws(StoreError) { try connection.execute("ANALYZE") }

    /// `REINDEX`: rebuilds every index from its table.
    func reindex() throws(StoreError) {
        try withSortCache { () throws(StoreError) in try connection.execute("REINDEX") }
    }

    /// What a signal handler calls to stop the statement running on this connection
    /// (`SQLiteInterrupter`); disarm it before the connection goes.
    func interrupter() -> SQLiteInterrupter { SQLiteInterrupter(connection.handle) }

    /// `VACUUM`: rewrites the database without its free pages.
    func vacuum() throws(StoreError) {
        try withSortCache { () throws(StoreError) in try connection.execute("VACUUM") }
    }

    /// Runs `body` with the small cache the writer sorts with. `VACUUM` gives its temporary copy a
    /// cache as large as the main one, and both sort: measured on a 1M-fact database, `VACUUM` took
    /// 1.8 s and 248 MB with the 48 MiB cache, 1.6 s and 25 MB with 4 MiB; `REINDEX` 103 MB against
    /// 13 MB, in the same time.
    private func withSortCache(_ body: () throws(StoreError) -> Void) throws(StoreError) {
        let size = try connection.scalarInt("PRAGMA cache_size") ?? -2_000
        try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        defer { try? connection.execute("PRAGMA cache_size=\(size)") }
        try body()
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: copies the log into the database and empties it.
    func checkpoint() throws(StoreError) -> Checkpoint {
        let statement = try connection.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        guard try statement.step() else { return Checkpoint(wasBlocked: false, logFrames: -1, checkpointedFrames: -1) }
        return Checkpoint(
            wasBlocked: statement.int64(0) != 0, logFrames: Int(statement.int64(1)),
            checkpointedFrames: Int(statement.int64(2)))
    }

    /// `PRAGMA integrity_check`: `["ok"]`, or the problems it found.
    func integrityCheck() throws(StoreError) -> [String] {
        let statement = try connection.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.text(0) ?? "") }
        return lines
    }
}

/// Stops the statement running on a connection from another thread (`sqlite3_interrupt`): its
/// transaction rolls back and it fails with `SQLITE_INTERRUPT`. Once disarmed (before the connection is
/// closed) it does nothing, so a signal that comes later never touches a closed handle.
final class SQLiteInterrupter: Sendable {
    /// The handle's address, 0 once disarmed (an address is Sendable, the pointer is not).
    private let address: Mutex<Int>

    init(_ handle: OpaquePointer) {
        address = Mutex(Int(bitPattern: UnsafeMutableRawPointer(handle)))
    }

    func interrupt() {
        address.withLock { address in
            if let handle = OpaquePointer(bitPattern: address) { sqlite3_interrupt(handle) }
        }
    }

    func disarm() {
        address.withLock { $0 = 0 }
    }
}
