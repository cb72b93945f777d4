#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a restore may write over: a database's own name, never the file of something else.
extension ArchiveRestorer {
    /// The files named after another one, by the suffix that names them and what they are.
    private static let belongingSuffixes: [(suffix: String, what: String)] = [
        ("-wal", "write-ahead log"), ("-shm", "shared-memory index"), ("-journal", "rollback journal"),
        (DatabaseFile.lockSuffix, "factpipe writer lock"), (".sha256", "checksum file"), (".manifest.json", "manifest"),
    ]

    /// Why a database must not be restored to `path`, judged by its name alone, or nil when it may: a
    /// name that ends as a database's side file (`-wal`, `-shm`, `-journal`, `-factpipe.lock`) is that
    /// file of the database named by the rest, for SQLite and factpipe (a restored database there would
    /// be replayed into it, or break its lock), and one that ends as an archive's `.sha256` or
    /// `.manifest.json` is what that archive is verified with.
    public static func targetNameProblem(_ path: String) -> String? {
        let name = PathText.split(path).name
        // As bytes: `k\u{600}-wal` is SQLite's log of `k\u{600}`, though to Swift U+0600 and `-` are one
        // character and the text does not end in `-wal` (a restore there was replayed into that database).
        for (suffix, what) in belongingSuffixes
        where name.utf8.count > suffix.utf8.count && name.utf8.reversed().starts(with: suffix.utf8.reversed()) {
            let owner = String(decoding: name.utf8.dropLast(suffix.utf8.count), as: UTF8.self)
            return "is the name of \(owner)'s \(what) (it ends in \(suffix)); restore to a name of its own"
        }
        return nil
    }

    /// Why the existing regular file at `path` must not be replaced by a restore, or nil when it may
    /// be: an empty file, a factpipe database (of any schema version), and a SQLite file whose schema
    /// SQLite cannot read (a damaged database, which a restore is there to replace) may; any other file,
    /// and another program's SQLite database, may not.
    static func replacementProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else { return nil }
        let refusal = "; a restore replaces only a factpipe database (nothing was changed; remove the file "
            + "first to restore there)"
        guard fileStarts(path, with: InputFormat.sqliteMagic) else {
            return "exists and is not a SQLite database" + refusal
        }
        guard let connection = try? ReadOnlyDatabase.open(path: path, cacheKiB: 1_024, busyTimeoutMilliseconds: 5_000),
            let content = try? FactDatabase.content(of: connection)
        else { return nil }
        switch content {
        case .empty, .factpipe: return nil
        case .foreign(let reason): return "exists and is another program's SQLite database (\(reason))" + refusal
        }
    }

    /// Why the symlink at `path`, which cannot be resolved, cannot be restored through: the folder its
    /// (last) target would be in does not exist, or the links lead round in a loop. Restored anyway, the
    /// link itself would become the database, not the file it names.
    static func unresolvedLinkProblem(_ path: String) -> String {
        var end = path
        for _ in 0..<16 {
            guard let next = PathText.symlinkTarget(end) else {
                return "is a link into \(PathText.split(end).folder), a folder that does not exist; "
                    + "create it, or restore to another path"
            }
            end = PathText.resolved(next, ofLink: end)
        }
        return "is a link that cannot be resolved (too many levels of links); restore to another path"
    }

    /// True when the file at `path` begins with `prefix`.
    private static func fileStarts(_ path: String, with prefix: [UInt8]) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: prefix.count)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        return count == prefix.count && buffer == prefix
    }
}
