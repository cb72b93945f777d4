import CSQLite

/// How thoroughly SQLite checks a database file.
public enum IntegrityCheck: String, Sendable, Hashable {
    /// `PRAGMA quick_check`: every page and b-tree, but not that each index matches its table (O(N)).
    case quick = "quick_check"
    /// `PRAGMA integrity_check`: everything `quick` checks, and every index entry against its row.
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

    /// The most of a file the check maps into memory.
    static let mmapBytes = 1 << 30

    /// Reads the schema version and fact count of `path` and runs `check` on it.
    /// - Throws: `StoreError` when the file is not a database SQLite can open and query.
    static func inspect(path: String, check: IntegrityCheck) throws(StoreError) -> Report {
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: uri(path))
        try connection.execute("PRAGMA cache_size=-\(16 * 1024)")
        if check == .full {
            // Matching every index entry to its row reads pages again and again: a memory map spares
            // a system call per read (300,000 of them for a 500 MB database). The mapped pages are the
            // kernel's page cache, not the process's heap. quick_check reads each page once: no map.
            try connection.execute("PRAGMA mmap_size=\(mmapBytes)")
        }
        let version = try connection.scalarInt("PRAGMA user_version") ?? 0
        let statement = try connection.prepare("PRAGMA \(check.rawValue)(100)")
        var problems: [String] = []
        while try statement.step() {
            if let line = statement.text(0), line != "ok" { problems.append(line) }
        }
        let count = try connection.scalarInt("SELECT count(*) FROM facts") ?? 0
        return Report(schemaVersion: version, factCount: count, problems: problems)
    }

    /// A `file:` URI for `path` with `immutable=1`.
    static func uri(_ path: String) -> String {
        ReadOnlyDatabase.uri(for: path, mode: .immutable)
    }
}
