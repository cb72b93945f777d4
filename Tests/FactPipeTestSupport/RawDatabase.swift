import CSQLite
import Foundation

/// What went wrong opening or querying a `RawDatabase`.
public struct SQLiteTestError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// A connection of its own, through the SQLite C API, to look at what a load or a command left on
/// disk: the tests' one way into a database besides the code under test.
public final class RawDatabase {
    private let handle: OpaquePointer

    /// Opens `path` read-write (`readOnly`: read-only; `create`: created when missing).
    public init(_ path: String, create: Bool = false, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            if let db { sqlite3_close_v2(db) }
            throw SQLiteTestError(description: "cannot open \(path): \(String(cString: sqlite3_errstr(rc)))")
        }
        handle = db
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw SQLiteTestError(description: "\(sql): \(text)")
        }
    }

    /// Every row of a query, each column as text (NULL as nil).
    public func rows(_ sql: String) throws -> [[String?]] {
        try query(sql) { statement, column in
            guard let text = sqlite3_column_text(statement, column) else { return nil }
            let count = Int(sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }.map(\.values)
    }

    /// Every row of a query as an object keyed by column name, values typed as `JSONSerialization`
    /// gives them: integers and reals as `NSNumber`, text as `String`, NULL as `NSNull`, a blob as `Data`.
    public func objects(_ sql: String) throws -> [[String: Any]] {
        try query(sql) { statement, column -> Any in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return NSNumber(value: sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT: return NSNumber(value: sqlite3_column_double(statement, column))
            case SQLITE_NULL: return NSNull()
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard let bytes = sqlite3_column_blob(statement, column), count > 0 else { return Data() }
                return Data(bytes: bytes, count: count)
            default:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard let text = sqlite3_column_text(statement, column) else { return "" }
                return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
            }
        }.map { row in Dictionary(zip(row.names, row.values), uniquingKeysWith: { first, _ in first }) }
    }

    /// The single integer a query returns.
    public func int(_ sql: String) throws -> Int {
        guard let text = try rows(sql).first?.first ?? nil, let value = Int(text) else {
            throw SQLiteTestError(description: "\(sql) returned no integer")
        }
        return value
    }

    /// The first column of every row.
    public func column(_ sql: String) throws -> [String?] {
        try rows(sql).map { $0.first ?? nil }
    }

    /// Runs every statement of `sql` in turn (as the sqlite3 tool does) and returns the rows they
    /// produced, each column read by `value`.
    private func query<Value>(
        _ sql: String, _ value: (OpaquePointer, Int32) -> Value
    ) throws -> [(names: [String], values: [Value])] {
        var result: [(names: [String], values: [Value])] = []
        var remaining = sql
        while !remaining.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            var statement: OpaquePointer?
            var consumed = 0
            let rc = remaining.withCString { start -> Int32 in
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(handle, start, -1, &statement, &tail)
                consumed = tail.map { $0 - start } ?? strlen(start)
                return rc
            }
            guard rc == SQLITE_OK else {
                throw SQLiteTestError(description: "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
            }
            remaining = String(decoding: Array(remaining.utf8).dropFirst(consumed), as: UTF8.self)
            guard let statement else { continue }  // a comment or a lone semicolon
            defer { sqlite3_finalize(statement) }
            let count = sqlite3_column_count(statement)
            let names = (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) }
            while true {
                let step = sqlite3_step(statement)
                if step == SQLITE_DONE { break }
                guard step == SQLITE_ROW else {
                    throw SQLiteTestError(description: "\(sql): \(String(cString: sqlite3_errmsg(handle)))")
                }
                result.append((names, (0..<count).map { value(statement, $0) }))
            }
        }
        return result
    }
}
