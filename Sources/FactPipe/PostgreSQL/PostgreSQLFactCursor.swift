#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the facts of a PostgreSQL database in id order, all from one `REPEATABLE READ READ ONLY`
/// transaction: loads that commit while it runs are not seen, so what it hands out is the database at one
/// moment, as `FactCursor` does for SQLite.
///
/// A server-side cursor is fetched `fetchRows` rows at a time, so memory stays flat whatever the table's
/// size. Columns come in the shape the SQLite store keeps them: JSON as text (`jsonb`'s own, without the space it
/// writes after each `,` and `:`), `created_at` as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. Not thread-safe; one thread
/// steps a cursor.
final class PostgreSQLFactCursor: FactRowSource {
    /// Rows fetched from the server at a time.
    static let fetchRows = 2000

    /// The server, without its password.
    let path: String
    /// The PostgreSQL schema version (`factpipe_meta`).
    private(set) var schemaVersion: Int64
    /// The database's identity (`DatabaseIdentity`), read in the cursor's transaction; nil when it has none.
    private(set) var databaseID: String?
    let holdsOldCanonicalForm = false

    private let connection: PostgreSQLConnection
    private let filter: FactFilter
    private var rows: PostgreSQLResult?
    private var row = -1
    private var isFinished = false
    private let compactContext = CompactJSON()
    private let compactMetadata = CompactJSON()

    /// Connects, starts the read transaction and opens the cursor.
    /// - Throws: `SnapshotError` `.database` when the server cannot be reached, the database is not a
    ///   factpipe database, or the query fails.
    init(address: PostgreSQLAddress, filter: FactFilter) throws(SnapshotError) {
        path = address.description
        self.filter = filter
        schemaVersion = Int64(PostgreSQLSchema.version)
        do throws(PostgreSQLError) {
            connection = try PostgreSQLConnection(address: address, applicationName: "factpipe export")
        } catch {
            throw SnapshotError(error)
        }
        var repeated: (statement: String, times: Int, setAsideByLoad: Bool)?
        do throws(PostgreSQLError) {
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            schemaVersion = Int64(try PostgreSQLSchema.checkReadable(connection))
            databaseID = try PostgreSQLSchema.databaseID(connection)
            // A load killed while it copied straight into `facts` left its unique index out: a statement another
            // program wrote twice meanwhile would be exported twice, and the archive would not restore.
            if !(try PostgreSQLSchema.existingSecondaryIndexes(connection).contains("facts_statement")) {
                let found = try connection.execute(
                    "SELECT statement, count(*) FROM facts GROUP BY statement HAVING count(*) > 1 LIMIT 1")
                if found.rowCount > 0 {
                    // A direct load makes its staging table in the transaction that drops the index.
                    let byLoad = try connection.execute(
                        "SELECT to_regclass('\(PostgreSQLDirectLoad.stagingTable)') IS NOT NULL").bool(0, 0)
                    repeated = (found.text(0, 0) ?? "", Int(found.text(0, 1) ?? "") ?? 2, byLoad)
                }
            }
            var parameters: [String?] = filter.predicates
            var conditions: [String] = []
            if !filter.predicates.isEmpty {
                let marks = (1...filter.predicates.count).map { "$\($0)" }.joined(separator: ", ")
                conditions.append("predicate IN (\(marks))")
            }
            if let prefix = filter.sincePrefix {
                // Narrowed to the second here; `advance()` decides exactly, as for SQLite.
                parameters.append(prefix + "Z")
                conditions.append("created_at >= $\(parameters.count)::timestamptz")
            }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            try connection.execute("""
                DECLARE factpipe_export NO SCROLL CURSOR FOR SELECT statement, confidence, source, context::text,
                fact_metadata::text, \(PostgreSQLLedger.isoText("created_at")), id, (load_id IS NULL)::int FROM facts\(whereClause)
                ORDER BY id
                """, parameters)
        } catch {
            connection.rollbackQuietly()
            throw SnapshotError(error)
        }
        if let repeated {
            connection.rollbackQuietly()
            throw SnapshotError.repeated(
                repeated.statement, times: repeated.times, database: path, setAsideByLoad: repeated.setAsideByLoad)
        }
    }

    deinit {
        connection.rollbackQuietly()
    }

    func advance() throws(SnapshotError) -> Bool {
        while !isFinished {
            if let rows, row + 1 < rows.rowCount {
                row += 1
                if filter.since == nil { return true }
                guard let createdAt = text(.createdAt), filter.isAtOrAfterSince(createdAt) else { continue }
                return true
            }
            if let rows, rows.rowCount < Self.fetchRows {
                isFinished = true
                break
            }
            do throws(PostgreSQLError) {
                rows = try connection.execute("FETCH FORWARD \(Self.fetchRows) FROM factpipe_export")
            } catch {
                throw SnapshotError(error)
            }
            row = -1
        }
        rows = nil
        return false
    }

    func text(_ column: FactCursor.Column) -> UnsafeBufferPointer<UInt8>? {
        let bytes = rows?.bytes(row, Int(column.rawValue))
        switch column {
        case .context: return bytes.map(compactContext.compacted)
        case .metadata: return bytes.map(compactMetadata.compacted)
        default: return bytes
        }
    }

    var confidence: Double {
        guard let text = text(.confidence), let start = text.baseAddress else { return 0 }
        return start.withMemoryRebound(to: CChar.self, capacity: text.count) { strtod($0, nil) }
    }

    var id: Int64 {
        guard let text = text(.id), let start = text.baseAddress else { return 0 }
        return start.withMemoryRebound(to: CChar.self, capacity: text.count) { Int64(strtoll($0, nil, 10)) }
    }

    func holds(statement text: String) throws(SnapshotError) -> Bool {
        do throws(PostgreSQLError) {
            return try connection.execute(
                "SELECT 1 FROM facts WHERE factpipe_statement_key(statement) = factpipe_statement_key($1) AND statement = $1",
                [text]).rowCount > 0
        } catch {
            throw SnapshotError(error)
        }
    }

    func end() throws(SnapshotError) {
        isFinished = true
        rows = nil
        guard connection.isInTransaction else { return }
        do throws(PostgreSQLError) {
            try connection.execute("CLOSE factpipe_export")
            try connection.execute("COMMIT")
        } catch {
            throw SnapshotError(error)
        }
    }
}

/// `jsonb`'s text without the space it writes after each `,` and `:` between values (`{"a": [1, 2]}` as
/// `{"a":[1,2]}`): an array of 360,000 small numbers loaded from 720 KB came out of an export as 1.08 MB,
/// a line longer than the import's default `--max-record-bytes`, so the export of a database could not be
/// imported again. The bytes stay those PostgreSQL wrote otherwise; strings are left as they are.
final class CompactJSON {
    private var storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256)

    deinit { storage.deallocate() }

    /// `text` compacted, in storage of this object's that the next call reuses.
    func compacted(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if storage.count < text.count {
            storage.deallocate()
            storage = .allocate(capacity: text.count)
        }
        var count = 0
        var inString = false
        var escaped = false
        var afterSeparator = false
        for byte in text {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: " ") && afterSeparator {
                afterSeparator = false
                continue
            } else {
                afterSeparator = byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":")
                inString = byte == UInt8(ascii: "\"")
            }
            storage[count] = byte
            count += 1
        }
        return UnsafeBufferPointer(rebasing: storage[0..<count])
    }
}
