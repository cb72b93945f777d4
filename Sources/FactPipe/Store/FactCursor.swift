import CSQLite

/// Streams the facts of a database in id order, all from one read transaction.
///
/// `BEGIN` and a first read pin a snapshot of the WAL database: loads that commit in other
/// processes while the cursor runs are not seen, so what it hands out is the database at one moment.
/// Rows are read one at a time and never collected, so memory stays flat whatever the table's size.
/// Not thread-safe; one thread steps a cursor.
final class FactCursor {
    /// The columns of a row, as the cursor's query returns them.
    enum Column: Int32 {
        case statement = 0
        case confidence, source, context, metadata, createdAt, id
        /// 1 when no factpipe load wrote the row (`load_id` NULL: plain SQL, another program), else 0.
        case writtenElsewhere
    }

    /// The path of the database.
    let path: String
    /// The schema version of the database (`PRAGMA user_version`), read inside the snapshot.
    let schemaVersion: Int64
    /// The database's identity (`DatabaseIdentity`), read inside the snapshot; nil when it has none.
    let databaseID: String?

    private let connection: SQLiteConnection
    /// `storesStatement(_:)`'s query, prepared when first asked.
    private var lookup: SQLiteStatement?
    private let statement: SQLiteStatement
    /// The statement's handle, read once: the column accessors run for every row.
    private let handle: OpaquePointer
    private let filter: FactFilter
    private var isFinished = false

    /// Opens `path` read-only and starts the read transaction.
    /// - Throws: `StoreError` when the database cannot be opened, is not a factpipe database, or the
    ///   query fails.
    init(databasePath: String, filter: FactFilter, cacheKiB: Int = 8 * 1024) throws(StoreError) {
        var settings = DatabaseSettings()
        settings.cacheKiB = cacheKiB
        path = databasePath
        self.filter = filter
        connection = try FactDatabase.openForReading(path: databasePath, settings: settings)
        try connection.execute("BEGIN")
        do {
            // The first read of a deferred transaction takes the snapshot every later read sees.
            _ = try connection.scalarInt("SELECT count(*) FROM sqlite_schema")
            schemaVersion = try connection.scalarInt("PRAGMA user_version") ?? 0
            databaseID = try DatabaseIdentity.read(connection)
            statement = try connection.prepare(Self.query(filter))
            handle = statement.handle
            var index: Int32 = 1
            for predicate in filter.predicates {
                try statement.bind(index, predicate)
                index += 1
            }
            if let prefix = filter.sincePrefix { try statement.bind(index, prefix) }
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    deinit {
        connection.rollbackQuietly()
    }

    /// A statement `facts` holds more than once, with how many times, or nil. Looked for only while the
    /// unique index is out (a bulk load stopped before it built it again): another program may have
    /// written a statement twice meanwhile, and the archive of it verified and then did not restore.
    /// `setAsideByLoad` is false when no load of factpipe's set the index aside (someone dropped it).
    func repeatedStatement() throws(StoreError) -> (statement: String, times: Int, setAsideByLoad: Bool)? {
        let indexes = try connection.textColumn("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts'")
        guard !indexes.contains(FactSchema.uniqueIndex.name),
              !indexes.contains(where: { $0.hasPrefix("sqlite_autoindex_facts") })
        else { return nil }
        let repeated = try connection.prepare(
            "SELECT statement, count(*) FROM facts GROUP BY statement HAVING count(*) > 1 LIMIT 1")
        guard try repeated.step() else { return nil }
        return (repeated.text(0) ?? "", Int(repeated.int64(1)),
                try StagingArea(connection: connection).loadSetUniqueIndexAside())
    }

    /// The query: a scan of the table in id order (no index, so no sort and no temporary storage);
    /// `since` is narrowed in SQL to the second and decided exactly by `next()`.
    private static func query(_ filter: FactFilter) -> String {
        var conditions: [String] = []
        if !filter.predicates.isEmpty {
            let marks = Array(repeating: "?", count: filter.predicates.count).joined(separator: ", ")
            conditions.append("predicate IN (\(marks))")
        }
        // A time in another form than the stored one is left to `next()`, which normalizes it.
        if filter.since != nil {
            conditions.append("(substr(created_at, 1, 19) >= ? OR created_at NOT GLOB '\(FactFilter.storedFormPattern)')")
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return "SELECT statement, confidence, source, context, fact_metadata, created_at, id, load_id IS NULL "
            + "FROM facts NOT INDEXED"
            + whereClause + " ORDER BY id"
    }

    /// Advances to the next fact the filter keeps; false at the end.
    /// - Throws: `StoreError` when SQLite fails to read the row.
    func next() throws(StoreError) -> Bool {
        guard !isFinished else { return false }
        while try statement.step() {
            if filter.since == nil { return true }
            guard let createdAt = text(.createdAt), filter.isAtOrAfterSince(createdAt) else { continue }
            return true
        }
        isFinished = true
        return false
    }

    /// The bytes of a text column of the current row (valid until the next `next()`), nil when NULL.
    func text(_ column: Column) -> UnsafeBufferPointer<UInt8>? {
        guard let pointer = sqlite3_column_text(handle, column.rawValue) else { return nil }
        return UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column.rawValue)))
    }

    /// The confidence of the current row.
    var confidence: Double { sqlite3_column_double(handle, Column.confidence.rawValue) }

    /// The id of the current row.
    var id: Int64 { sqlite3_column_int64(handle, Column.id.rawValue) }

    /// True when `facts` holds `text`, spelled byte for byte, in the cursor's snapshot.
    func storesStatement(_ text: String) throws(StoreError) -> Bool {
        if lookup == nil { lookup = try connection.prepare("SELECT 1 FROM facts WHERE statement = ?1") }
        guard let lookup else { return false }
        defer { lookup.reset() }
        try lookup.bind(1, text)
        return try lookup.step()
    }

    /// Ends the read transaction.
    /// - Throws: `StoreError` when SQLite cannot end it.
    func finish() throws(StoreError) {
        isFinished = true
        statement.reset()
        lookup = nil
        if connection.isInTransaction { try connection.execute("COMMIT") }
    }
}
