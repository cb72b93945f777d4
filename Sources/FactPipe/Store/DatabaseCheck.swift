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
        /// The check's findings; empty when SQLite answered `ok`.
        var problems: [String]
    }

    /// Reads the schema version and fact count of `path` and runs `check` on it.
    /// - Throws: `StoreError` when the file is not a database SQLite can open and query.
    static func inspect(path: String, check: IntegrityCheck) throws(StoreError) -> Report {
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: uri(path))
        try connection.execute("PRAGMA cache_size=-\(16 * 1024)")
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
        return Report(schemaVersion: version, factCount: count, problems: problems)
    }

    /// A `file:` URI for `path` with `immutable=1`.
    static func uri(_ path: String) -> String {
        ReadOnlyDatabase.uri(for: path, mode: .immutable)
    }
}
