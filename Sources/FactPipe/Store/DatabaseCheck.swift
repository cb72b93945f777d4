import CSQLite

/// How thoroughly SQLite checks a database file.
public enum IntegrityCheck: String, Sendable, Hashable {
    /// `PRAGMA quick_check`: every page and b-tree, but not that each index matches its table (O(N)).
    case quick = "quick_check"
    /// What `PRAGMA integrity_check` proves: everything `quick` checks, and every index entry against
    /// its row — run as `quick_check` and then `IndexConsistencyCheck`, which reads each index and
    /// the table in their own order instead of searching every index for every row.
    case full = "integrity_check"
}

/// Looks into a database file that nothing else is using (a fresh backup copy or a restored file).
///
/// The file is opened read-only as immutable: no locks, no `-wal` or `-shm` file is created, and
/// nothing about the file changes.
enum DatabaseCheck {
    /// What the check found.
    struct Report {
        /// `PRAGMA user_version`.
        var schemaVersion: Int64
        /// Rows in `facts`.
        var factCount: Int64
        /// The database's identity (`DatabaseIdentity`); nil when it has none.
        var databaseID: String?
        /// The check's findings; empty when SQLite answered `ok`.
        var problems: [String]
    }

    /// Reads the schema version and fact count of `path` and runs `check` on it, once its schema is
    /// known to be one factpipe makes (`schemaProblem`).
    /// - Throws: `StoreError` `.foreignDatabase` (the message saying why) when the schema is not one
    ///   factpipe makes, before any of its tables is read; another `StoreError` when the file is not a
    ///   database SQLite can open and query.
    static func inspect(path: String, check: IntegrityCheck) throws(StoreError) -> Report {
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: uri(path))
        try connection.execute("PRAGMA cache_size=-\(16 * 1024)")
        if let problem = try schemaProblem(connection) {
            throw StoreError(kind: .foreignDatabase, path: path, message: problem)
        }
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        // quick_check: every page, b-tree, the free list, NOT NULL and CHECK constraints.
        let statement = try connection.prepare("PRAGMA quick_check(100)")
        var problems: [String] = []
        while try statement.step() {
            if let line = statement.text(0), line != "ok" { problems.append(line) }
        }
        if check == .full && problems.isEmpty {
            // The rest of integrity_check: every index against its table, by scans in order.
            problems = try IndexConsistencyCheck.problems(connection)
        }
        let count = try connection.scalarInt("SELECT count(*) FROM facts") ?? 0
        let identity = try DatabaseIdentity.read(connection)
        return Report(schemaVersion: version, factCount: count, databaseID: identity, problems: problems)
    }

    /// A `file:` URI for `path` with `immutable=1`.
    static func uri(_ path: String) -> String {
        ReadOnlyDatabase.uri(for: path, mode: .immutable)
    }

    /// Every column factpipe has given `facts`, in any schema version.
    static let factsColumns = [
        "id", "statement", "predicate", "subject", "object", "args", "arity", "confidence", "source", "context",
        "fact_metadata", "created_at", "load_id", "updated_load_id",
    ]

    /// Why the database is not one factpipe makes, judged by its schema alone, or nil when it is one.
    ///
    /// Checked before any table is read: a backup's database comes from an archive anyone may have
    /// written, and the checks and the count run whatever its schema holds. A `facts` that was a view
    /// recursing forever kept `verify` and `restore` busy for ever; an index on an expression made
    /// `integrity_check` evaluate that expression for every row; a `CREATE TABLE facts(x)` of three rows
    /// verified as "a backup of 3 facts" and was restored over a database. So the database must have
    /// a schema version factpipe knows; `facts` and `factpipe_loads` must be tables with factpipe's
    /// columns, `facts` no others; and nothing in it may be what factpipe never makes: a view, a
    /// trigger (it would fire on the restored database's next load), a virtual table, a generated
    /// column, a CHECK constraint, a collation other than BINARY on a column or an index, an index on
    /// an expression or a partial one. Only `sqlite_schema` and pragmas that read it are queried.
    /// - Throws: `StoreError` when the schema cannot be read (a damaged file).
    static func schemaProblem(_ connection: SQLiteConnection) throws(StoreError) -> String? {
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        let known = CanonicalFormMigration.fromVersion...FactSchema.version
        guard known.contains(version) else {
            return "schema version \(version), which factpipe does not make (it knows versions "
                + "\(known.lowerBound) to \(known.upperBound))"
        }
        let schema = try connection.prepare(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid")
        var tables: [String] = []
        var indexes: [String] = []
        while try schema.step() {
            let type = schema.text(0) ?? ""
            let name = schema.text(1) ?? ""
            let sql = schema.text(3) ?? ""
            switch type {
            case "table":
                if sql.uppercased().hasPrefix("CREATE VIRTUAL") { return "it holds a virtual table, \(name)" }
                if hasCheckConstraint(sql) { return "its table \(name) has a CHECK constraint" }
                tables.append(name)
            case "index":
                indexes.append(name)
            case "view":
                return "it holds a view, \(name)" + (name == "facts" ? " (facts must be a table)" : "")
            case "trigger":
                return "it holds a trigger, \(name) on \(schema.text(2) ?? "?")"
            default:
                return "it holds a schema entry of type \(type), \(name)"
            }
        }
        switch try FactDatabase.content(of: connection) {
        case .factpipe: break
        case .empty: return "it holds no tables"
        case .foreign(let reason): return reason
        }
        let factsColumns = Set(Self.factsColumns)
        for table in tables {
            let columns = try connection.prepare("SELECT name, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")
            try columns.bind(1, table)
            while try columns.step() {
                let column = columns.text(0) ?? ""
                if columns.int64(1) != 0 { return "its table \(table) has a generated or hidden column, \(column)" }
                if table == "facts" && !factsColumns.contains(column.lowercased()) {
                    return "its facts table has a column factpipe does not make, \(column)"
                }
                let collation = try declaredCollation(connection, table: table, column: column)
                if collation.uppercased() != "BINARY" {
                    return "its column \(table).\(column) has the collation \(collation), not BINARY"
                }
            }
        }
        for index in indexes {
            let keys = try connection.prepare("SELECT cid, coll, key FROM pragma_index_xinfo(?1)")
            try keys.bind(1, index)
            while try keys.step() {
                guard keys.int64(2) != 0 else { continue }  // the rowid an entry ends with, not a key
                if keys.int64(0) == -2 { return "its index \(index) is on an expression" }
                let collation = keys.text(1) ?? "BINARY"
                if collation.uppercased() != "BINARY" {
                    return "its index \(index) has the collation \(collation), not BINARY"
                }
            }
        }
        let partial = try connection.prepare(
            "SELECT l.name FROM sqlite_schema AS s, pragma_index_list(s.name) AS l "
                + "WHERE s.type = 'table' AND l.partial != 0 LIMIT 1")
        if try partial.step() { return "its index \(partial.text(0) ?? "?") is a partial index" }
        return nil
    }

    /// The collation SQLite gives `table`.`column` (BINARY when none is declared).
    private static func declaredCollation(
        _ connection: SQLiteConnection, table: String, column: String
    ) throws(StoreError) -> String {
        var type: UnsafePointer<CChar>?
        var collation: UnsafePointer<CChar>?
        var notNull: Int32 = 0
        var primaryKey: Int32 = 0
        var autoIncrement: Int32 = 0
        let rc = sqlite3_table_column_metadata(
            connection.handle, "main", table, column, &type, &collation, &notNull, &primaryKey, &autoIncrement)
        try connection.check(rc, "read the collation of \(table).\(column)")
        return collation.map { String(cString: $0) } ?? "BINARY"
    }

    /// True when `sql` (a `CREATE TABLE`) holds the keyword CHECK before a parenthesis: a constraint
    /// `quick_check` evaluates for every row. (factpipe's names that contain it, `checkpoint_offset`,
    /// are not the keyword.)
    private static func hasCheckConstraint(_ sql: String) -> Bool {
        let text = Array(sql.uppercased().utf8)
        let keyword = Array("CHECK".utf8)
        guard text.count >= keyword.count else { return false }
        let isNamePart = { (byte: UInt8) -> Bool in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte >= 0x80
        }
        for start in 0...(text.count - keyword.count)
        where text[start..<(start + keyword.count)].elementsEqual(keyword) {
            if start > 0 && (isNamePart(text[start - 1]) || text[start - 1] == 0x22) { continue }
            let rest = text[(start + keyword.count)...].drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }
            if rest.first == UInt8(ascii: "(") { return true }
        }
        return false
    }
}
