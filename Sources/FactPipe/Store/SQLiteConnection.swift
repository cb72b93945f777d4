import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one SQLite connection handle and closes it when released.
///
/// Not thread-safe: one thread uses a connection at a time (the writer owns the only one of a load).
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    /// Opens (and for read-write, creates) the database at `path`, or the SQLite `uri` naming it when given;
    /// `extraFlags` adds `SQLITE_OPEN_*` flags. A `path` is a file name, never a URI (`file:x` opens `./file:x`).
    /// - Throws: `StoreError` when the file cannot be opened.
    init(
        path: String, readOnly: Bool = false, create: Bool = true, uri: String? = nil, extraFlags: Int32 = 0
    ) throws(StoreError) {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | (uri == nil ? 0 : SQLITE_OPEN_URI) | extraFlags
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if create { flags |= SQLITE_OPEN_CREATE }
        }
        SQLiteInterrupts.opening()
        let rc = sqlite3_open_v2(uri ?? DatabaseFile.literal(path), &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            var message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db, rc & 0xFF == SQLITE_CANTOPEN { message += Self.descriptorsNote(sqlite3_system_errno(db)) }
            if let db { sqlite3_close_v2(db) }
            SQLiteInterrupts.openFailed()
            throw StoreError(kind: .sqlite(code: rc), path: path, message: "cannot open database: \(message)")
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        SQLiteInterrupts.register(db)
    }

    /// Set on a factpipe writer's connection: its close first copies the log into the database and empties
    /// it. SQLite's own close does so only when no other connection has the file open; one that has (the
    /// monitor's probe, a reader's query) at that moment left the `-wal` holding what the command committed
    /// (an undo's whole change, once), so the database file alone, copied or moved, lacked it. Waits at
    /// most `WriterConnection.releaseLogWaitMilliseconds` for a reader's transaction to end.
    var emptiesLogOnClose = false

    /// Set on a writer's connection that holds SQLite's soft heap limit (`SQLiteSoftHeapLimit`): its close
    /// releases it.
    var holdsSoftHeapLimit = false

    deinit {
        // Not when the log is empty already (the end of a load emptied it): nothing to wait for.
        if emptiesLogOnClose, (FileSize.bytes(DatabaseFile.walPath(path)) ?? 0) > 0 {
            sqlite3_busy_timeout(handle, WriterConnection.releaseLogWaitMilliseconds)
            sqlite3_exec(handle, "PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
        }
        SQLiteInterrupts.closing(handle)
        sqlite3_close_v2(handle)
        SQLiteInterrupts.closed()
        if holdsSoftHeapLimit { SQLiteSoftHeapLimit.release() }
    }

    /// Turns a result code into a `StoreError` carrying SQLite's message, or returns when it is OK.
    func check(_ rc: Int32, _ what: @autoclosure () -> String, sql: String? = nil) throws(StoreError) {
        guard rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW else { return }
        throw error(rc, what(), sql: sql)
    }

    func error(_ rc: Int32, _ what: String, sql: String? = nil) -> StoreError {
        var detail = String(cString: sqlite3_errmsg(handle))
        let code = explain(rc, &detail)
        let primary = code & 0xFF
        if primary == SQLITE_BUSY, SQLiteInterrupts.isStopping { return Self.interruptedWaiting(path, sql: sql) }
        let kind: StoreError.Kind = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? .busy : .sqlite(code: code)
        return StoreError(kind: kind, path: path, message: "\(what): \(detail)", sql: sql)
    }

    /// A wait for another program's lock on the database that a stop signal ended (`SQLiteBusyWait`).
    private static func interruptedWaiting(_ path: String, sql: String?) -> StoreError {
        StoreError(
            kind: .interrupted, path: path,
            message: "interrupted while it waited for the lock another program holds on the database", sql: sql)
    }

    /// What "unable to open database file" leaves out when the process is out of descriptors (`EMFILE`,
    /// `ENFILE`): the database is there, and the limit is the process's; "" for any other error.
    private static func descriptorsNote(_ system: Int32) -> String {
        guard system == EMFILE || system == ENFILE else { return "" }
        var limit = rlimit()
        let most = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max
            ? "; this process may open \(limit.rlim_cur) (`ulimit -n`)" : ""
        return " (\(String(cString: strerror(system)))\(most))"
    }

    /// Adds to `detail` what SQLite's words leave out, and returns the code to report. A full disk that SQLite
    /// met in a write of its own layer (growing the `-shm` a reader needs too, or writing the log) is a "disk
    /// I/O error" to it: every command on a nearly full disk said only that, readers too, while `SQLITE_FULL`
    /// says which disk is full. The system's error tells them apart.
    private func explain(_ rc: Int32, _ detail: inout String) -> Int32 {
        switch rc & 0xFF {
        case SQLITE_CANTOPEN:
            detail += Self.descriptorsNote(sqlite3_system_errno(handle))
            return rc
        case SQLITE_FULL:
            detail += " (\(SQLiteFullDisk.hint(database: path)))"
            return rc
        case SQLITE_IOERR:
            let system = sqlite3_system_errno(handle)
            switch system {
            case ENOSPC, EDQUOT:
                detail += " (\(String(cString: strerror(system))); \(SQLiteFullDisk.hint(database: path)))"
                return SQLITE_FULL
            case EFBIG:
                detail += " (\(String(cString: strerror(EFBIG))): the limit on a file's size, `ulimit -f`, is reached)"
                return rc
            case 0:
                // SQLite keeps no system error for every failed write (a COMMIT that met the limit): a limit on the
                // size of files is still worth naming, as the likely cause.
                var limit = rlimit()
                if getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
                    detail += " (this process may write files of at most \(limit.rlim_cur / 1_024) KiB "
                        + "(`ulimit -f`), which a write may have reached)"
                }
                return rc
            default:
                return rc
            }
        default:
            return rc
        }
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            var detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            let code = explain(rc, &detail)
            let primary = code & 0xFF
            if primary == SQLITE_BUSY, SQLiteInterrupts.isStopping { throw Self.interruptedWaiting(path, sql: sql) }
            let kind: StoreError.Kind = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? .busy : .sqlite(code: code)
            throw StoreError(kind: kind, path: path, message: detail, sql: sql)
        }
    }

    /// Compiles `sql` into a statement that can be bound and stepped many times.
    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw error(rc, "cannot prepare statement", sql: sql)
        }
        return SQLiteStatement(handle: statement, connection: self, sql: sql)
    }

    /// The single integer the query returns, or nil when it returns no row or NULL.
    func scalarInt(_ sql: String) throws(StoreError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    /// The single text the query returns, or nil when it returns no row or NULL.
    func scalarText(_ sql: String) throws(StoreError) -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// The first column of every row the query returns, as text (NULLs left out).
    func textColumn(_ sql: String) throws(StoreError) -> [String] {
        let statement = try prepare(sql)
        var values: [String] = []
        while try statement.step() {
            if let value = statement.text(0) { values.append(value) }
        }
        return values
    }

    /// The tables a program created (not SQLite's own), by name.
    func userTables() throws(StoreError) -> [String] {
        try textColumn("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Sets the last inserted rowid to 0, so that after an upsert a 0 means it updated a row.
    func resetLastInsertRowid() { sqlite3_set_last_insert_rowid(handle, 0) }

    /// The rowid of the last row inserted by this connection outside triggers (0 after a reset).
    var lastInsertRowid: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Waits up to `milliseconds` for another connection's lock before failing with SQLITE_BUSY.
    func setBusyTimeout(milliseconds: Int32) {
        SQLiteBusyWait.install(on: handle, milliseconds: milliseconds)
    }

    /// Rolls back the open transaction, if any, ignoring errors (used on failure paths).
    func rollbackQuietly() {
        if isInTransaction {
            sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
        }
    }
}
