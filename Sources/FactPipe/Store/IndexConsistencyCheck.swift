import CSQLite

/// What `PRAGMA integrity_check` proves beyond `PRAGMA quick_check`, proven by scans in each b-tree's
/// own order instead of one index search per row and index.
///
/// `quick_check` already covers every page, b-tree, the free list, NOT NULL and CHECK constraints.
/// `integrity_check` adds, for every table with a rowid: each row's record decodes up to its last
/// column; each index holds an entry with each row's values and rowid; each UNIQUE index holds no
/// key twice; and each index holds as many entries as the table holds rows. It searches every index
/// for every row, which jumps around the index when the rows are not in its order (a first load
/// keeps the input's order): ≈ 4.5 s of CPU per million facts, against ≈ 0.5 s for these scans.
///
/// First the table is read once and each index once, and a keyed hash of every entry is summed on
/// both sides (`TableScan.sumsAgree`): equal sums prove the entries match without holding any of them,
/// ≈ 0.5 s of CPU per million facts less than the matching, and no window of keys in memory. Only
/// when they differ does the matching below run, to name each row and entry that differs.
///
/// The matching reads the table in rowid order, a window of rows at a time (at most `windowBytes` of their
/// index keys in memory), and then every index is read in its own order once per window: each entry
/// must be in order after the one before it, with a different key from it in a UNIQUE index, belong
/// to a row of the table, carry exactly that row's values, and be the only entry of that row; every
/// row of the window must have been met in every index. That is each of `integrity_check`'s index
/// findings, and stricter on order (an entry out of order is reported even where a search would
/// still find it). Values are compared as SQLite compares them with the BINARY collation (an
/// integer equals the same real). A table this does not cover — without a rowid, or with an index
/// on an expression, a partial index, an index with another collation, a generated column — gets
/// `PRAGMA integrity_check(table)` instead.
enum IndexConsistencyCheck {
    /// The most memory the index keys of one window of rows take.
    static let defaultWindowBytes = 64 << 20

    /// Checks every index of every table of `connection`'s main database against its table; returns
    /// the findings (empty when everything matches), at most `limit`.
    /// - Throws: `StoreError` when a query fails for another reason than a damaged file.
    static func problems(
        _ connection: SQLiteConnection, limit: Int = 100, windowBytes: Int = defaultWindowBytes
    ) throws(StoreError) -> [String] {
        var findings = Findings(limit: limit)
        for table in try TableLayout.all(connection) where !findings.isFull {
            guard let layout = table.layout else {
                let statement = try connection.prepare("PRAGMA integrity_check(\(quoted(table.name)))")
                while !findings.isFull, try statement.step() {
                    if let line = statement.text(0), line != "ok" { findings.add(line) }
                }
                continue
            }
            do {
                try TableScan(connection, layout, windowBytes: windowBytes).run(&findings)
            } catch let error where error.isCorruption {
                findings.add("\(layout.table): \(error.message)")
            }
        }
        return findings.lines
    }

    /// `name` as an SQL identifier.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The findings so far, capped.
struct Findings {
    let limit: Int
    private(set) var lines: [String] = []

    init(limit: Int) { self.limit = max(1, limit) }

    var isFull: Bool { lines.count >= limit }

    mutating func add(_ line: String) {
        if !isFull { lines.append(line) }
    }
}

extension StoreError {
    /// True when SQLite found the file damaged while reading it.
    var isCorruption: Bool {
        guard let code = sqliteCode else { return false }
        return code & 0xFF == SQLITE_CORRUPT || code & 0xFF == SQLITE_NOTADB
    }
}

/// One table and its indexes as `IndexConsistencyCheck` reads them.
struct TableLayout {
    /// An index: its name, its key columns (names, descending or not) and whether it is UNIQUE.
    struct Index {
        var name: String
        var columns: [String]
        var descending: [Bool]
        var isUnique: Bool
    }

    var table: String
    /// The table's last stored column, whose record header every row must decode to.
    var lastColumn: String
    var indexes: [Index]

    /// Every table of the main database; `layout` is nil for a table the scans do not cover.
    static func all(_ connection: SQLiteConnection) throws(StoreError) -> [(name: String, layout: TableLayout?)] {
        let list = try connection.prepare(
            "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name")
        var tables: [(String, Bool)] = []
        while try list.step() {
            if let name = list.text(0) { tables.append((name, list.int64(1) != 0)) }
        }
        var result: [(name: String, layout: TableLayout?)] = []
        for (name, isWithoutRowid) in tables {
            result.append((name, isWithoutRowid ? nil : try layout(of: name, connection)))
        }
        return result
    }

    private static func layout(of table: String, _ connection: SQLiteConnection) throws(StoreError) -> TableLayout? {
        let columns = try connection.prepare("SELECT name, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")
        try columns.bind(1, table)
        var names: [String] = []
        while try columns.step() {
            guard columns.int64(1) == 0, let name = columns.text(0) else { return nil }
            names.append(name)
        }
        let rowidNames: Set<String> = ["rowid", "_rowid_", "oid"]
        guard let last = names.last, !names.contains(where: { rowidNames.contains($0.lowercased()) }) else {
            return nil
        }
        let list = try connection.prepare("SELECT name, \"unique\", partial FROM pragma_index_list(?1) ORDER BY name")
        try list.bind(1, table)
        var indexes: [Index] = []
        while try list.step() {
            guard let name = list.text(0), list.int64(2) == 0 else { return nil }
            indexes.append(Index(name: name, columns: [], descending: [], isUnique: list.int64(1) != 0))
        }
        for position in indexes.indices {
            let info = try connection.prepare(
                "SELECT cid, name, desc, coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
            try info.bind(1, indexes[position].name)
            while try info.step() {
                guard info.int64(0) >= 0, let column = info.text(1), info.text(3) == "BINARY" else { return nil }
                indexes[position].columns.append(column)
                indexes[position].descending.append(info.int64(2) != 0)
            }
            if indexes[position].columns.isEmpty { return nil }
        }
        return TableLayout(table: table, lastColumn: last, indexes: indexes)
    }
}
