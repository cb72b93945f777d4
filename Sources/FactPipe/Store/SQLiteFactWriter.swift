import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes facts through one prepared insert on the load's only connection.
///
/// Every column is bound straight from the fact's UTF-8 buffer (`SQLITE_STATIC`): the buffer outlives
/// the step, so SQLite never copies it. Transactions are the caller's (`FactStore`).
final class SQLiteFactWriter {
    /// What happened to one fact.
    enum Outcome: Sendable {
        case inserted, updated, duplicate
    }

    private let connection: SQLiteConnection
    private let insert: SQLiteStatement
    private let policy: ConflictPolicy
    private let defaultCreatedAt: UnsafeMutablePointer<CChar>
    private static let emptyText: StaticString = ""
    private static let textColumns: [(Int32, Fact.Field)] = [
        (1, .statement), (2, .predicate), (3, .subject), (4, .object), (5, .args),
        (8, .source), (9, .context), (10, .metadata), (11, .createdAt),
    ]

    /// Prepares the insert for `policy`; facts without a creation time get `defaultCreatedAt`.
    init(connection: SQLiteConnection, policy: ConflictPolicy, defaultCreatedAt: String) throws(StoreError) {
        self.connection = connection
        self.policy = policy
        self.insert = try connection.prepare("""
            INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, source, context,
            fact_metadata, created_at, load_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            \(policy.upsertClause)
            """)
        guard let copy = strdup(defaultCreatedAt) else {
            throw StoreError(kind: .sqlite(code: SQLITE_NOMEM), path: connection.path, message: "out of memory")
        }
        self.defaultCreatedAt = copy
    }

    deinit {
        free(defaultCreatedAt)
    }

    /// Inserts one fact under the conflict policy and says what happened.
    /// - Throws: `StoreError`; under `fail`, a constraint violation means the statement already exists.
    func write(_ fact: Fact, loadID: Int64) throws(StoreError) -> Outcome {
        let handle = insert.handle
        let db = connection.handle
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
            sqlite3_bind_int64(handle, 6, Int64(fact.arity))
            sqlite3_bind_double(handle, 7, fact.confidence)
            sqlite3_bind_int64(handle, 12, loadID)
            sqlite3_set_last_insert_rowid(db, 0)
            let rc = sqlite3_step(handle)
            sqlite3_reset(handle)
            return rc
        }
        guard rc == SQLITE_DONE else {
            throw connection.error(rc, "cannot insert \(fact.statement)", sql: insert.sql)
        }
        switch policy {
        case .ignore:
            return connection.changes == 0 ? .duplicate : .inserted
        case .replace, .update:
            return sqlite3_last_insert_rowid(db) != 0 ? .inserted : .updated
        case .fail:
            return .inserted
        }
    }
}
