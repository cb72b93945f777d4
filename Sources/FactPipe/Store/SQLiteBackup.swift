import CSQLite

/// Copies a whole database through SQLite's online backup API (`sqlite3_backup_init/step/finish`).
///
/// The copy is made page by page by SQLite from one read transaction, so it is the database at one
/// moment even while a load goes on in another process — unlike a file copy of a WAL database, which
/// can miss committed pages still in the WAL or catch a checkpoint half-way.
enum SQLiteBackup {
    /// Copies the factpipe database at `sourcePath` into `destinationPath`, an empty file or none.
    ///
    /// All pages are copied inside one read transaction of the source, held across the steps, so the copy
    /// is the database at one moment; `stepPages` at a time, asking `isCancelled` between steps (one step
    /// of a whole large database could not be stopped: a backup stopped by a signal ended with the database
    /// open, leaving its `-wal` and `-shm`). A step that finds the source or the destination locked is
    /// retried until `busyTimeoutMilliseconds` run out. The backup is always finished, on every path, so no
    /// lock or handle is left behind. Returns the number of pages copied.
    /// - Throws: `StoreError` when either database cannot be opened, the source is not a factpipe
    ///   database, a step fails, or `isCancelled` said stop (`.interrupted`).
    @discardableResult
    static func copy(
        from sourcePath: String, to destinationPath: String, busyTimeoutMilliseconds: Int32 = 5_000,
        stepPages: Int32 = 4_096, isCancelled: () -> Bool = { false }
    ) throws(StoreError) -> Int {
        var settings = DatabaseSettings()
        settings.cacheKiB = 2 * 1024
        settings.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        let source = try FactDatabase.openForReading(path: sourcePath, settings: settings)
        // The read transaction every step reads in: a step opens one of its own otherwise, and a load's
        // commit between two steps would make the next start the copy again.
        try source.execute("BEGIN")
        defer { try? source.execute("COMMIT") }
        _ = try source.scalarInt("SELECT count(*) FROM sqlite_schema")
        let destination = try SQLiteConnection(path: destinationPath)
        guard let backup = sqlite3_backup_init(destination.handle, "main", source.handle, "main") else {
            throw destination.error(sqlite3_extended_errcode(destination.handle), "cannot start the backup")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(busyTimeoutMilliseconds))
        var failure: StoreError?
        while true {
            if isCancelled() {
                failure = StoreError(kind: .interrupted, path: sourcePath, message: "the backup was stopped")
                break
            }
            let rc = sqlite3_backup_step(backup, stepPages)
            if rc == SQLITE_DONE { break }
            if rc == SQLITE_OK { continue }
            let primary = rc & 0xFF
            if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) && ContinuousClock.now < deadline {
                sqlite3_sleep(20)
                continue
            }
            // A step's error is not on either connection until the backup is finished: name it here.
            failure = StoreError(
                kind: primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? .busy : .sqlite(code: rc),
                path: destinationPath, message: "backup of \(sourcePath) failed: \(String(cString: sqlite3_errstr(rc)))"
            )
            break
        }
        let pages = Int(sqlite3_backup_pagecount(backup))
        let finished = sqlite3_backup_finish(backup)
        if let failure { throw failure }
        try destination.check(finished, "cannot finish the backup of \(sourcePath)")
        return pages
    }
}
