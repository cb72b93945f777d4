import CSQLite

/// A failure of the database: what kind, which file, what was being done, the SQL, and the cause.
///
/// Only `.sqlite(code:)` carries a result code, and only one SQLite returned; every failure
/// factpipe detects itself has a kind of its own. A failure of something underneath (a system
/// call, another error) travels in `underlying`, and `description` ends with it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// SQLite returned an error code.
        case sqlite(code: Int32)
        /// The database's schema version is not one this build understands.
        case unsupportedSchema
        /// The database was not created by factpipe and may not be altered.
        case foreignDatabase
        /// Another process holds the write lock.
        case busy
        /// An interrupt (SIGINT, SIGTERM) came while it waited for the write lock.
        case interrupted
        /// The path cannot be a database file: missing where it must exist, a folder, a SQLite URI,
        /// in a folder that does not exist, or a file with several hard links.
        case unusablePath
        /// The writer's lock file could not be created or opened (the system's reason is `underlying`).
        case lockFile
        /// The ledger has no load with the id asked for.
        case noSuchLoad
        /// The load cannot be undone: it was undone already, or its facts are still staged.
        case cannotUndo
        /// An input cannot be resumed: it changed since its interrupted load, or is not a regular file.
        case cannotResume
        /// A load's counts do not account for every record it read, so it is not recorded as done.
        case countsDoNotAddUp
        /// The database's path no longer names the file the writer opened (renamed over, removed, or a
        /// link re-pointed while it wrote): a commit would go to a file nobody opens by that name.
        case replaced
        /// The writer's lock file was removed or replaced while it held the lock: another load may have
        /// taken a new one (`WriterLock.reassert`).
        case lockLost
    }

    public var kind: Kind
    /// The database file.
    public var path: String
    /// What went wrong, in words a user can act on (without the path, and without `underlying`).
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?
    /// The failure underneath this one, when there was one (a system call's error, say).
    public var underlying: (any Error)?

    /// Creates an error; `message` names neither the path nor `underlying`, which `description` adds.
    public init(kind: Kind, path: String, message: String, sql: String? = nil, underlying: (any Error)? = nil) {
        self.kind = kind
        self.path = path
        self.message = message
        self.sql = sql
        self.underlying = underlying
    }

    /// The extended SQLite result code, when the error came from SQLite.
    public var sqliteCode: Int32? {
        if case .sqlite(let code) = kind { return code }
        return nil
    }

    /// True for SQLITE_CONSTRAINT and its extended codes.
    public var isConstraintViolation: Bool {
        guard let code = sqliteCode else { return false }
        return code & 0xFF == SQLITE_CONSTRAINT
    }

    /// True when SQLite could not have the memory it asked for.
    public var isOutOfMemory: Bool {
        guard let code = sqliteCode else { return false }
        return code & 0xFF == SQLITE_NOMEM
    }

    /// True for a full disk or a database that reached its page limit.
    public var isDiskFull: Bool {
        guard let code = sqliteCode else { return false }
        return code & 0xFF == SQLITE_FULL
    }

    /// True when the database file or its log could not be written or opened for writing (an I/O error, a full
    /// disk, a quota, a limit on a file's size, a read-only file or folder): the place written to is at fault,
    /// not what was written.
    public var isWriteFailure: Bool {
        guard let code = sqliteCode else { return false }
        return [SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM].contains(code & 0xFF)
    }

    /// `message`, then `underlying` when there is one: what went wrong without the path or the SQL.
    public var reason: String {
        guard let underlying else { return message }
        return "\(message): \(underlying)"
    }

    /// `path: reason`, then the statement when there was one; a single line.
    public var description: String {
        var text = "\(path): \(reason)"
        if let sql { text += " (in: \(sql.prefix(200)))" }
        return text
    }
}
