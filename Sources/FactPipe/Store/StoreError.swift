import CSQLite

/// A failure of the database: what was being done, SQLite's result code and message, and the SQL.
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
    }

    public var kind: Kind
    /// The database file.
    public var path: String
    /// What went wrong, in words a user can act on.
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?

    public init(kind: Kind, path: String, message: String, sql: String? = nil) {
        self.kind = kind
        self.path = path
        self.message = message
        self.sql = sql
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

    /// True for a full disk or a database that reached its page limit.
    public var isDiskFull: Bool {
        guard let code = sqliteCode else { return false }
        return code & 0xFF == SQLITE_FULL
    }

    public var description: String {
        var text = "\(path): \(message)"
        if let sql { text += " (in: \(sql.prefix(200)))" }
        return text
    }
}
