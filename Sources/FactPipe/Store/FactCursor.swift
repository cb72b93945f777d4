import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    /// A database on a read-only file system is read `immutable`, without SQLite's locks (`openForReading`):
    /// the file held open then, and its stamp before the first read, so that `finish()` can tell when
    /// something wrote it meanwhile (a read-only bind mount of a folder written through another path). -1 and
    /// nil otherwise.
    private let watched: Int32
    private let unlockedStamp: FileStamp?

    /// Opens `path` read-only and starts the read transaction.
    /// - Throws: `StoreError` when the database cannot be opened, is not a factpipe database, or the
    ///   query fails.
    init(databasePath: String, filter: FactFilter, cacheKiB: Int = 8 * 1024) throws(StoreError) {
        var settings = DatabaseSettings()
        settings.cacheKiB = cacheKiB
        path = databasePath
        self.filter = filter
        // Opened before SQLite opens it, so that the stamp is of the file SQLite reads (or of an older one).
        let descriptor = open(databasePath, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        do {
            connection = try FactDatabase.openForReading(path: databasePath, settings: settings)
        } catch {
            if descriptor >= 0 { close(descriptor) }
            throw error
        }
        let isImmutable = sqlite3_db_filename(connection.handle, "main").map {
            sqlite3_uri_boolean($0, "immutable", 0) != 0
        } ?? false
        if isImmutable, descriptor >= 0, let stamp = FileStamp(descriptor: descriptor) {
            watched = descriptor
            unlockedStamp = stamp
        } else {
            if descriptor >= 0 { close(descriptor) }
            watched = -1
            unlockedStamp = nil
        }
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
        if watched >= 0 { close(watched) }
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
        do {
            while try statement.step() {
                if filter.since == nil { return true }
                guard let createdAt = text(.createdAt), filter.isAtOrAfterSince(createdAt) else { continue }
                return true
            }
        } catch {
            // Pages of two states of the file read as a damaged one ("database disk image is malformed").
            try checkNotWrittenMeanwhile()
            throw error
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
        try checkNotWrittenMeanwhile()
    }

    /// Throws when the file read without locks changed since the first read.
    private func checkNotWrittenMeanwhile() throws(StoreError) {
        if let unlockedStamp, FileStamp(descriptor: watched) != unlockedStamp {
            throw StoreError(
                kind: .replaced, path: path,
                message: "another program wrote the database while it was read (it is on a read-only file system, "
                    + "read without SQLite's locks), so what was read may mix two states of it and miss facts; "
                    + "nothing was kept: read it again when nothing writes it, or through a path that is not "
                    + "mounted read-only")
        }
    }
}
