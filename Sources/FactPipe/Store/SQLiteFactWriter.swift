import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends facts to the staging table, or straight to `facts` (a load into an empty or small table), through
/// prepared inserts on the load's only connection.
///
/// A staged fact also records which side fields its record gave (`StagingArea.GivenFields`), so that
/// `--on-conflict update` keeps what a record leaves out.
///
/// Every column is bound straight from the fact's UTF-8 buffer (`SQLITE_STATIC`): the buffer outlives
/// the step, so SQLite never copies it. Transactions are the caller's (`WriterStage`).
final class SQLiteFactWriter {
    private let connection: SQLiteConnection
    private let insert: SQLiteStatement
    /// The same columns into `facts`; `line` and `offset` (?2, ?3) are bound but not used.
    private let append: SQLiteStatement
    private var defaultCreatedAt: UnsafeMutablePointer<CChar>
    private static let emptyText: StaticString = ""
    private static let textColumns: [(Int32, Fact.Field)] = [
        (4, .statement), (5, .predicate), (6, .subject), (7, .object), (8, .args),
        (11, .source), (12, .context), (13, .metadata), (14, .createdAt),
    ]

    /// Prepares the insert; facts without a creation time get `defaultCreatedAt`.
    init(connection: SQLiteConnection, defaultCreatedAt: String) throws(StoreError) {
        self.connection = connection
        self.insert = try connection.prepare("""
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at, given)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
            """)
        self.append = try connection.prepare("""
            INSERT INTO facts(load_id, statement, predicate, subject, object, args, arity, confidence, source, context,
            fact_metadata, created_at) VALUES (?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """)
        guard let copy = strdup(defaultCreatedAt) else {
            throw StoreError(kind: .sqlite(code: SQLITE_NOMEM), path: connection.path, message: "out of memory")
        }
        self.defaultCreatedAt = copy
    }

    deinit {
        free(defaultCreatedAt)
    }

    /// The creation time given to facts that carry none from now on.
    func setDefaultCreatedAt(_ text: String) throws(StoreError) {
        guard let copy = strdup(text) else {
            throw StoreError(kind: .sqlite(code: SQLITE_NOMEM), path: connection.path, message: "out of memory")
        }
        free(defaultCreatedAt)
        defaultCreatedAt = copy
    }

    /// Appends one fact of load `loadID` to the staging table, or with `intoFacts` to `facts` itself
    /// (whose unique index the caller has dropped).
    /// - Throws: `StoreError` with SQLite's code and message (a full disk, say).
    func stage(_ fact: Fact, loadID: Int64, intoFacts: Bool = false) throws(StoreError) {
        let statement = intoFacts ? append : insert
        let handle = statement.handle
        let rc: Int32 = fact.bytes.withUnsafeBufferPointer { buffer -> Int32 in
            let base = buffer.baseAddress
            for (index, field) in Self.textColumns {
                if let range = fact.range(of: field) {
                    if range.isEmpty || base == nil {
                        Self.emptyText.withUTF8Buffer { empty in
                            _ = empty.baseAddress.map {
                                sqlite3_bind_text(handle, index, UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self),
                                                  0, factpipe_sqlite_static())
                            }
                        }
                    } else if let base {
                        let pointer = UnsafeRawPointer(base + range.lowerBound).assumingMemoryBound(to: CChar.self)
                        sqlite3_bind_text(handle, index, pointer, Int32(range.count), factpipe_sqlite_static())
                    }
                } else if field == .createdAt {
                    sqlite3_bind_text(handle, index, defaultCreatedAt, -1, factpipe_sqlite_static())
                } else {
                    sqlite3_bind_null(handle, index)
                }
            }
            sqlite3_bind_int64(handle, 1, loadID)
            sqlite3_bind_int64(handle, 2, Int64(fact.line))
            sqlite3_bind_int64(handle, 3, fact.offset)
            sqlite3_bind_int64(handle, 9, Int64(fact.arity))
            sqlite3_bind_double(handle, 10, fact.confidence)
            if !intoFacts { sqlite3_bind_int64(handle, 15, StagingArea.GivenFields(fact).rawValue) }
            let rc = sqlite3_step(handle)
            sqlite3_reset(handle)
            return rc
        }
        guard rc == SQLITE_DONE else {
            throw connection.error(rc, "cannot store \(fact.statement)", sql: statement.sql)
        }
    }
}
