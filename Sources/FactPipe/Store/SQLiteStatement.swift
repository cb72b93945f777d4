import CSQLite

/// A prepared statement, bound and stepped many times, finalized when released.
final class SQLiteStatement {
    let handle: OpaquePointer
    let sql: String
    private let connection: SQLiteConnection

    init(handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Advances the statement: true when a row is available, false when done.
    /// - Throws: `StoreError` with the result code, message and SQL.
    @discardableResult
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let failure = connection.error(rc, "statement failed", sql: sql)
        sqlite3_reset(handle)
        throw failure
    }

    /// Resets the statement for another run and clears its bindings.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Binding (1-based indexes)

    func bind(_ index: Int32, _ value: String?) throws(StoreError) {
        guard let value else {
            try connection.check(sqlite3_bind_null(handle, index), "bind", sql: sql)
            return
        }
        var text = value
        let rc = text.withUTF8 { buffer in
            sqlite3_bind_text(handle, index, buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                              Int32(buffer.count), factpipe_sqlite_transient())
        }
        try connection.check(rc, "bind", sql: sql)
    }

    func bind(_ index: Int32, _ value: Int64?) throws(StoreError) {
        let rc = value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
        try connection.check(rc, "bind", sql: sql)
    }

    func bind(_ index: Int32, _ value: Int) throws(StoreError) {
        try bind(index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Double) throws(StoreError) {
        try connection.check(sqlite3_bind_double(handle, index, value), "bind", sql: sql)
    }

    // MARK: Columns (0-based indexes)

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    /// Why this row would not load back as it reads, or nil: a `confidence` that is no finite number (text
    /// or a BLOB reads as 0, an infinity as null), or text that is not UTF-8 (read with U+FFFD). Only another
    /// program's SQL writes such values; `export` refuses them, and so do `query`'s NDJSON and CSV. Ask
    /// before reading the row's values otherwise: after a type conversion `sqlite3_column_type` is undefined.
    func unloadable(confidence: Int32?, texts: [(column: Int32, name: String)]) -> String? {
        if let confidence {
            switch sqlite3_column_type(handle, confidence) {
            case SQLITE_NULL, SQLITE_INTEGER:
                break
            case SQLITE_FLOAT:
                let value = sqlite3_column_double(handle, confidence)
                if !value.isFinite { return "its confidence is \(value), not a finite number" }
            case SQLITE_TEXT:
                let shown = String((text(confidence) ?? "").prefix(40)).debugDescription
                return "its confidence is the text \(shown), not a number"
            default:
                return "its confidence is a BLOB, not a number"
            }
        }
        for (column, name) in texts where sqlite3_column_type(handle, column) != SQLITE_NULL {
            guard let pointer = sqlite3_column_text(handle, column) else { continue }
            let bytes = UnsafeRawBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column)))
            if !UTF8Validation.isValid(bytes) { return "its \(name) is not UTF-8 text" }
        }
        return nil
    }

    /// The column as it is stored when it is text or a BLOB (`high`, `<BLOB of 4 bytes>`); nil for a number or
    /// NULL.
    func storedUnlessNumber(_ column: Int32) -> String? {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_TEXT: return text(column)
        case SQLITE_BLOB: return "<BLOB of \(sqlite3_column_bytes(handle, column)) bytes>"
        default: return nil
        }
    }

    /// The column's text as SQLite holds it, bytes that are not UTF-8 included (nil for NULL), for `body`.
    func withTextBytes<R>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let pointer = sqlite3_column_text(handle, column) else { return body(nil) }
        return body(UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))))
    }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
