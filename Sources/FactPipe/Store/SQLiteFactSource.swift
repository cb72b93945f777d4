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
/// as one transaction would lock its writers out for the whole load. The table and its indexes (each
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
    private var nextRowid: Int64 = 0
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
    init(path: String, name: String? = nil) throws(StoreError) {
        self.path = name ?? path
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
        let names = try connection.textColumn("SELECT name FROM pragma_table_info('facts') ORDER BY cid")
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
            let isView = try database.textColumn("SELECT type FROM sqlite_schema WHERE name = 'facts'") == ["view"]
            try Self.checkStructure(database, path: name ?? path, isView: isView)
            // The first name of the rowid that no column takes; none in a table without rowids (or whose
            // columns take all three), which is read in one pass as a view is.
            let lowercased = Set(names.map { $0.lowercased() })
            let rowid = isView ? nil : ["rowid", "_rowid_", "oid"].first { alias in
                !lowercased.contains(alias) && (try? database.prepare("SELECT \(alias) FROM facts LIMIT 0")) != nil
            }
            hasRowids = rowid != nil
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
        nextRowid = rowid
        nextLine = line
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
                let start = bytes.count
                appendRow(to: &bytes, rowid: nextRowid)
                records.append(RawRecord(range: start..<bytes.count, line: nextLine, offset: nextRowid))
                bytes.append(0x0A)
                nextLine += 1
                nextRowid += 1
            }
        }
        while hasRowids && bytes.count < targetBytes {
            try select.bind(1, nextRowid)
            try select.bind(2, 1024)
            var rowsRead = 0
            while try select.step() {
                rowsRead += 1
                let rowid = select.int64(0)
                let start = bytes.count
                appendRow(to: &bytes, rowid: rowid)
                records.append(RawRecord(range: start..<bytes.count, line: nextLine, offset: rowid))
                bytes.append(0x0A)
                nextLine += 1
                nextRowid = rowid + 1
            }
            select.reset()
            if rowsRead < 1024 {
                isExhausted = true
                break
            }
        }
        if records.isEmpty { return nil }
        defer { sequence += 1 }
        return RecordChunk(sequence: sequence, source: path, bytes: bytes, records: records,
                           endOffset: nextRowid, endLine: nextLine)
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
}

