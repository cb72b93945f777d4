import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the `facts` table of another SQLite database — the knowledge base's own file — as records.
///
/// Each row becomes one NDJSON line holding every column (in the shape the sqlite3 CLI dumps it),
/// so it goes through the same parser and validator as a JSON dump: `statement` is authoritative,
/// stale `predicate`/`subject`/`object` end up in `given_parts`, and every other column in
/// `fact_metadata`. Rows are read in rowid order; a record's offset is its rowid and its line the
/// row's position, so a load can resume after the last committed row. A `facts` that is a view (or a
/// table without rowids) is read in the order SQLite gives its rows, offsets counting rows from 0; its
/// rows have no fixed order, so a load of it cannot resume halfway. The database is opened
/// read-only and never altered: `immutable=1` (no side files at all) unless a `-wal` file shows
/// that another process has it open, in which case SQLite's read-only mode keeps reads consistent.
///
/// A WAL database is read in one read transaction, so a program writing it meanwhile gives the load one
/// state of it (its writers are not held up). One opened `immutable` (no log beside it) takes no locks:
/// a program that opens it and checkpoints into the file changes pages under the reading, so the file's
/// size and time are watched, and a change fails the load (`changedWhileRead`; the pipeline undoes what
/// it committed). A rollback-journal database is read a page of rows at a time, each its own transaction,
/// as one transaction would lock its writers out for the whole load; each page also reads the schema's
/// version, and any change (a `VACUUM`, which renumbers rowids behind the reading, an `ALTER TABLE`, but
/// also a new table or index, a first `ANALYZE`) fails the load the same way: rows may have moved behind the reading or changed their meaning
/// (a dropped column named in the select list reads as its own name, SQLite taking it for a string). The
/// rowids are read from the smallest (they may be negative) to the largest. Generated columns are read as
/// any other. The text of a UTF-16 database is read as stored and turned into UTF-8 here: SQLite's own
/// conversion joins a lone surrogate with the character after it (`a<U+D800>,` became one letter), so
/// the row is refused instead (its surrogate written as its three bytes, which no UTF-8 allows). A row
/// longer than `--max-record-bytes` as a record is refused as a line of NDJSON would be. The table and its indexes (each
/// table, behind a view) pass `PRAGMA quick_check` first: a leaf page whose cell count was damaged hides
/// rows from a scan (the index still counts them), and the load said done with them missing. The rowid
/// is read under a name no column takes (`rowid`, `_rowid_` or `oid`): a column named `ROWID`, as exports
/// from other databases carry, hid the real one, and the paging by it skipped rows or read the first ones
/// for ever.
final class SQLiteFactSource {
    let path: String
    private let connection: SQLiteConnection
    private let select: SQLiteStatement
    private let columns: [String]
    /// Whether each record keeps the source row's rowid (a foreign database's rows) in its metadata.
    private let includesRowid: Bool
    /// False for a view or a table without rowids: rows are read in one pass, counted from 0.
    private let hasRowids: Bool
    private var nextRowid = Int64.min
    /// The schema's version as the load began; a rollback-journal database's pages compare it (nil: read
    /// in one transaction, where it cannot change).
    private let schemaVersion: Int64?
    /// Set when a page found the schema changed: that page is not handed out, and the load fails.
    private(set) var schemaChanged = false
    /// True when the database stores its text as UTF-16.
    private let isUTF16: Bool
    /// The longest row, as its record, that is handed out whole; a longer one only as its start, refused.
    private let maxRecordBytes: Int
    private var nextLine = 1
    private var sequence = 0
    private var isExhausted = false
    /// The file opened without locks (`immutable`), held open so that what is watched is the file SQLite
    /// reads, not whatever the path names later (a copy renamed over it, a symlink flipped), and its stamp
    /// then; -1 and nil otherwise.
    private let watched: Int32
    private let unlockedStamp: FileStamp?

    /// Opens `path` read-only and checks that it has a `facts` table with a `statement` column.
    /// - Throws: `StoreError` naming what is missing.
    init(path: String, name: String? = nil, maxRecordBytes: Int = FactLimits().maxRecordBytes) throws(StoreError) {
        self.path = name ?? path
        self.maxRecordBytes = maxRecordBytes
        // Opened as every read-only look is (`ReadOnlyDatabase`): immutable only in WAL mode without a WAL
        // file; a rollback-journal database through its locks, so that a hot journal is refused instead of
        // half-written pages being read.
        do throws(StoreError) {
            connection = try ReadOnlyDatabase.open(
                path: path, cacheKiB: 2 * 1024, busyTimeoutMilliseconds: DatabaseSettings().busyTimeoutMilliseconds)
        } catch {
            var named = error
            named.path = name ?? path
            throw named
        }
        // `table_xinfo`, not `table_info`, which leaves generated columns out (hidden 2 and 3; 1 is a virtual
        // table's hidden column, such as FTS5's own).
        let names = try connection.textColumn(
            "SELECT name FROM pragma_table_xinfo('facts') WHERE hidden IN (0, 2, 3) ORDER BY cid")
        guard names.contains("statement") else {
            throw StoreError(kind: .foreignDatabase, path: name ?? path,
                             message: names.isEmpty ? "has no facts table to read"
                                : "its facts table has no statement column (columns: \(names.joined(separator: ", ")))")
        }
        // Another factpipe database: read the snapshot's shape, not its bookkeeping (ids, loads) or
        // the parts derived from the statement.
        let ledgerTables = try connection.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'factpipe_loads'")
        let isFactpipe = names.contains("load_id") && names.contains("arity") && (ledgerTables ?? 0) > 0
        columns = isFactpipe
            ? ["statement", "confidence", "source", "context", "fact_metadata", "created_at"].filter(names.contains)
            : names
        let database = connection
        // From the header: a connection opened `immutable` calls a WAL database's journal mode `delete`.
        let isWAL = ReadOnlyDatabase.isWALDatabase(path)
        if isWAL && access(DatabaseFile.walPath(path), F_OK) != 0 {
            watched = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            unlockedStamp = FileStamp(descriptor: watched)
        } else {
            watched = -1
            unlockedStamp = nil
        }
        // A source refused below (damaged, no statement to select) is never released: its descriptor is
        // closed here, not by `deinit`.
        do throws(StoreError) {
            if isWAL { try database.execute("BEGIN") }
            schemaVersion = isWAL ? nil : try database.scalarInt("PRAGMA schema_version")
            isUTF16 = try database.textColumn("PRAGMA encoding").first?.hasPrefix("UTF-16") ?? false
            let isView = try database.textColumn("SELECT type FROM sqlite_schema WHERE name = 'facts'") == ["view"]
            try Self.checkStructure(database, path: name ?? path, isView: isView)
            // The first name of the rowid that no column takes; none in a table without rowids (or whose
            // columns take all three), which is read in one pass as a view is.
            let lowercased = Set(names.map { $0.lowercased() })
            let rowid = isView ? nil : ["rowid", "_rowid_", "oid"].first { alias in
                !lowercased.contains(alias) && (try? database.prepare("SELECT \(alias) FROM facts LIMIT 0")) != nil
            }
            hasRowids = rowid != nil
            // Rows without rowids are counted from 0.
            if !hasRowids { nextRowid = 0 }
            // The rowid goes into the metadata under `rowid`, unless a column of that name is there already.
            includesRowid = !isFactpipe && hasRowids && !names.contains("rowid")
            let list = columns.map { name in
                "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
            }.joined(separator: ", ")
            select = try connection.prepare(rowid.map { rowid in
                "SELECT \(rowid), \(list) FROM facts WHERE \(rowid) >= ?1 ORDER BY \(rowid) LIMIT ?2"
            } ?? "SELECT NULL, \(list) FROM facts")
        } catch {
            if watched >= 0 { close(watched) }
            throw error
        }
    }

    /// Refuses a `facts` table or index whose pages `PRAGMA quick_check` finds damaged: read as it is, such
    /// a table can give fewer rows than it holds without any error. Behind a view any table may be read, so
    /// each is checked, and one whose check cannot run (an index on a collation this SQLite lacks) is left
    /// to the view's own reading, which fails on it if it reads it.
    private static func checkStructure(_ connection: SQLiteConnection, path: String, isView: Bool) throws(StoreError) {
        let tables = isView
            ? try connection.textColumn(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            : ["facts"]
        for table in tables {
            var answer: [String] = []
            do {
                // The table's name bound, not spelled into the SQL.
                let check = try connection.prepare("SELECT * FROM pragma_quick_check(?1)")
                try check.bind(1, table)
                while try check.step() { answer.append(check.text(0) ?? "") }
            } catch where isView {
                continue
            }
            // Each answer may span lines, led by the database's name (`*** in database main ***`).
            let problems = answer.flatMap { $0.split(separator: "\n").map(String.init) }
                .filter { !$0.hasPrefix("*** in database") }
            guard !problems.isEmpty, problems != ["ok"] else { continue }
            let what = isView ? "its table \(table) (the facts view may read it)" : "its facts table"
            throw StoreError(
                kind: .sqlite(code: SQLITE_CORRUPT), path: path,
                message: "\(what) is damaged (PRAGMA quick_check: \(problems.first ?? "no answer")"
                    + (problems.count > 1 ? ", and \(problems.count - 1) more problems" : "")
                    + "); nothing of it was loaded: repair or restore it first (sqlite3 .recover)")
        }
    }

    deinit {
        if watched >= 0 { close(watched) }
    }

    static func uri(_ path: String, immutable: Bool) -> String {
        ReadOnlyDatabase.uri(for: path, mode: immutable ? .immutable : .readOnly)
    }

    /// True when the file opened without locks is not as it was when opened: another program wrote it.
    var changedSinceOpened: Bool {
        guard let unlockedStamp else { return false }
        return FileStamp(descriptor: watched) != unlockedStamp
    }

    /// Number of rows in the table (for the ledger's size and progress).
    func rowCount() throws(StoreError) -> Int64 {
        try connection.scalarInt("SELECT count(*) FROM facts") ?? 0
    }

    /// Continues after a checkpoint recorded by an earlier load: the rowid and line of the next row.
    /// - Throws: `StoreError` when `facts` has no rowids (a view) and `rowid` is not its start.
    func skip(toRowid rowid: Int64, line: Int) throws(StoreError) {
        guard hasRowids || rowid == 0 else {
            throw StoreError(
                kind: .foreignDatabase, path: path,
                message: "cannot resume at row \(rowid): its facts is a view (or a table without rowids), whose "
                    + "rows have no fixed order; load it again without --resume")
        }
        // A load that committed nothing (its first line next) starts at the smallest rowid: a checkpoint's
        // offset is the rowid after the last row read, and 0 only before any was.
        nextRowid = line <= 1 && hasRowids ? Int64.min : rowid
        nextLine = line
        // Past the row at the largest rowid: nothing is left to read.
        if hasRowids && line > 1 && rowid == Int64.min { isExhausted = true }
    }

    /// The next rows as a chunk of NDJSON records, about `targetBytes` long; nil after the last row.
    /// - Throws: `StoreError` when reading fails.
    func nextChunk(targetBytes: Int) throws(StoreError) -> RecordChunk? {
        guard !isExhausted else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(targetBytes + 4096)
        var records: [RawRecord] = []
        if !hasRowids {
            // One statement stepped to the end across chunks: rows are counted, not looked up.
            while bytes.count < targetBytes {
                guard try select.step() else {
                    isExhausted = true
                    break
                }
                appendRecord(to: &bytes, &records, rowid: nextRowid)
                nextLine += 1
                nextRowid += 1
            }
        }
        while hasRowids && bytes.count < targetBytes {
            let pageStart = (bytes.count, records.count, nextLine, nextRowid)
            // Each page its own read transaction, which also reads the schema's version (one transaction
            // already holds a WAL database).
            if schemaVersion != nil { try connection.execute("BEGIN") }
            var rowsRead = 0
            var lastRowid: Int64?
            do throws(StoreError) {
                try select.bind(1, nextRowid)
                try select.bind(2, 1024)
                while try select.step() {
                    rowsRead += 1
                    let rowid = select.int64(0)
                    appendRecord(to: &bytes, &records, rowid: rowid)
                    nextLine += 1
                    lastRowid = rowid
                    // The largest rowid has nothing after it, and no rowid + 1: its checkpoint says "past the end" as
                    // the smallest rowid after a first line, which no other reading gives (see `skip`).
                    nextRowid = rowid < Int64.max ? rowid + 1 : Int64.min
                }
                select.reset()
                if let schemaVersion, try connection.scalarInt("PRAGMA schema_version") != schemaVersion {
                    schemaChanged = true
                }
                if schemaVersion != nil { try connection.execute("COMMIT") }
            } catch {
                select.reset()
                if schemaVersion != nil { try? connection.execute("ROLLBACK") }
                throw error
            }
            if schemaChanged {
                // This page was read under the new schema: it goes nowhere.
                bytes.removeSubrange(pageStart.0...)
                records.removeSubrange(pageStart.1...)
                (nextLine, nextRowid) = (pageStart.2, pageStart.3)
                isExhausted = true
                break
            }
            if rowsRead < 1024 || lastRowid == Int64.max {
                isExhausted = true
                break
            }
        }
        if records.isEmpty { return nil }
        defer { sequence += 1 }
        return RecordChunk(sequence: sequence, source: path, bytes: bytes, records: records,
                           endOffset: nextRowid, endLine: nextLine)
    }

    /// Appends the row the statement is on as one record (its offset the rowid, or the row's position in a
    /// view) and its line end.
    private func appendRecord(to bytes: inout [UInt8], _ records: inout [RawRecord], rowid: Int64) {
        let start = bytes.count
        appendRow(to: &bytes, rowid: rowid)
        var record = RawRecord(range: start..<bytes.count, line: nextLine, offset: rowid)
        if bytes.count - start > maxRecordBytes {
            // Refused as an NDJSON line this long is: only its start is kept, for the rejects file.
            bytes.removeSubrange(min(bytes.count, start + InputReader.oversizedPrefixBytes)...)
            record = RawRecord(range: start..<bytes.count, line: nextLine, offset: rowid, isOversized: true)
        }
        records.append(record)
        bytes.append(0x0A)
    }

    private func appendRow(to out: inout [UInt8], rowid: Int64) {
        out.append(UInt8(ascii: "{"))
        for (index, name) in columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(name, to: &out)
            out.append(UInt8(ascii: ":"))
            let column = Int32(index + 1)
            switch sqlite3_column_type(select.handle, column) {
            case SQLITE_NULL:
                out.append(contentsOf: "null".utf8)
            case SQLITE_INTEGER:
                out.append(contentsOf: String(select.int64(column)).utf8)
            case SQLITE_FLOAT:
                // An infinity as SQLite's JSON functions write it: out of range for a confidence, kept in
                // metadata (it was null there, and a confidence of null read as 1.0).
                let value = select.double(column)
                out.append(contentsOf: (value.isFinite ? value.description : value < 0 ? "-9e999" : "9e999").utf8)
            case SQLITE_TEXT where isUTF16:
                appendUTF16Text(column, to: &out)
            default:
                // The bytes as stored: text that is not UTF-8 refuses the row, as it refuses a line of NDJSON,
                // instead of being repaired into U+FFFD (two facts that differed there became one).
                select.withTextBytes(column) { bytes in
                    if let bytes { _ = JSONText.appendQuoted(bytes, to: &out) } else { out.append(contentsOf: "\"\"".utf8) }
                }
            }
        }
        out.append(contentsOf: (includesRowid ? ",\"rowid\":\(rowid)}" : "}").utf8)
    }

    /// Appends a UTF-16 database's text, read as stored (in this machine's byte order), quoted as UTF-8. A
    /// surrogate without its other half is written as its own three bytes (as CESU-8 would), which UTF-8
    /// never allows, so the row is refused as text that is not UTF-8, at that place.
    private func appendUTF16Text(_ column: Int32, to out: inout [UInt8]) {
        guard let raw = sqlite3_column_text16(select.handle, column) else {
            out.append(contentsOf: "\"\"".utf8)
            return
        }
        // Read unit by unit without assuming the pointer is aligned for UInt16.
        let stored = UnsafeRawBufferPointer(start: raw, count: Int(sqlite3_column_bytes16(select.handle, column)))
        let count = stored.count / 2
        func codeUnit(_ index: Int) -> UInt16 { stored.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self) }
        var text: [UInt8] = []
        text.reserveCapacity(count * 3)
        var index = 0
        while index < count {
            let unit = codeUnit(index)
            index += 1
            if UTF16.isLeadSurrogate(unit), index < count, UTF16.isTrailSurrogate(codeUnit(index)) {
                let scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(codeUnit(index)) - 0xDC00)
                index += 1
                text.append(contentsOf: [
                    UInt8(0xF0 | (scalar >> 18)), UInt8(0x80 | ((scalar >> 12) & 0x3F)),
                    UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F)),
                ])
            } else if unit < 0x80 {
                text.append(UInt8(unit))
            } else if unit < 0x800 {
                text.append(contentsOf: [UInt8(0xC0 | (unit >> 6)), UInt8(0x80 | (unit & 0x3F))])
            } else {
                // Any other unit, a lone surrogate too.
                text.append(contentsOf: [
                    UInt8(0xE0 | (unit >> 12)), UInt8(0x80 | ((unit >> 6) & 0x3F)), UInt8(0x80 | (unit & 0x3F)),
                ])
            }
        }
        text.withUnsafeBufferPointer { _ = JSONText.appendQuoted($0, to: &out) }
    }
}

