#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A database path taken as a file path and nothing else, and the one real file behind it.
///
/// SQLite gives some names a meaning of their own: `""` is a temporary database, `:memory:` one in
/// memory, `file:…` a URI. factpipe refuses them, and anything that exists but is not a regular file
/// (a folder, `/dev/null`), before it creates or locks anything. A symlink and its target are one
/// database: the lock file sits beside the real file, so two loads through two names still wait
/// for each other.
public enum DatabaseFile {
    /// The suffixes of the files that belong to a database: SQLite's side files and factpipe's lock.
    static let sideFileSuffixes = ["-wal", "-shm", "-journal", lockSuffix]
    static let lockSuffix = "-factpipe.lock"

    /// Why `path` cannot be a database file, or nil when it can: missing (to be created) or a regular
    /// file. A missing folder is not a problem of the path's kind: opening it fails later.
    public static func problem(_ path: String) -> String? {
        // A PostgreSQL URL is not a file: its store checks it (`PostgreSQLAddress`).
        if PostgreSQLAddress.isPostgreSQL(path) { return nil }
        if path.isEmpty { return "the database path is empty" }
        if looksLikePostgreSQL(path) { return mistypedPostgreSQL }
        if path == ":memory:" { return "an in-memory database keeps nothing; give a file path" }
        // Everywhere else `-` is standard input or output; here it made a database named `-`.
        if path == "-" {
            return "- is standard input or output, not a database file; to mean a file of that name write ./-"
        }
        if path.lowercased().hasPrefix("file:") {
            return "SQLite URIs are not accepted; to mean a file of that name write ./\(path)"
        }
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: return "it is a folder, not a database file"
            default: return "it is not a regular file"
            }
        }
        if let name = PathText.firstNameNotUTF8(resolving: path) {
            return "its real path goes through \(name), a name that is not UTF-8, which factpipe cannot write "
                + "down (its lock file, the ledger and archives name the database by its real path); rename it"
        }
        return nil
    }

    /// What `problem` says of `looksLikePostgreSQL` text, which it does not repeat (it may hold a password).
    public static let mistypedPostgreSQL = "this looks like a PostgreSQL connection (libpq's key=value pairs, or a "
        + "URL with spaces around it), not a SQLite file: give it as a postgresql:// URL (docs/postgresql.md); "
        + "to mean a file of that name, write it as ./name or a full path"

    /// True when `path` is no file a user means but a PostgreSQL connection mistyped: libpq's key=value
    /// form (`host=db1 dbname=kb password=…`, which factpipe reads only as a URL), or a URL with spaces
    /// around it. Either made a SQLite file whose name held the password, and a load into it said done.
    public static func looksLikePostgreSQL(_ path: String) -> Bool {
        let trimmed = path.trimmingASCIIWhitespace()
        if trimmed != path, PostgreSQLAddress.isPostgreSQL(trimmed) { return true }
        // A path written as one (`./…`, `../…`, `/…`) is a file, whatever it holds.
        guard trimmed.contains("="), !path.hasPrefix("/"), !path.hasPrefix("./"), !path.hasPrefix("../") else {
            return false
        }
        // libpq's form, as libpq itself reads it: nothing but `keyword = value` pairs, every keyword one of
        // libpq's (`channel_binding=require host=h password=…`, any spacing, values quoted or not).
        return PostgreSQLAddress.isConnectionString(trimmed)
    }

    /// Checks `path` as `problem` does; with `mustExist`, a missing file is refused too.
    /// - Throws: `StoreError` of kind `.unusablePath` saying what is wrong.
    static func check(_ path: String, mustExist: Bool) throws(StoreError) {
        if let problem = problem(path) {
            throw StoreError(
                kind: .unusablePath, path: looksLikePostgreSQL(path) ? "the database" : path,
                message: "cannot open database: \(problem)")
        }
        if !mustExist && PathText.real(path) == nil {
            // A link to a file in a missing folder: that folder is the one to name, not the link's own.
            if let target = PathText.symlinkTarget(path) {
                let resolved = PathText.resolved(target, ofLink: path)
                throw StoreError(
                    kind: .unusablePath, path: path,
                    message: "cannot open database: it is a link to \(target), whose folder "
                        + "\(PathText.split(resolved).folder) does not exist")
            }
            let folder = PathText.split(path).folder
            var info = stat()
            // `kb.sqlite/` names a folder: when `kb.sqlite` is a file, it is not missing.
            let isThere = stat(folder, &info) == 0 || errno == ENOTDIR
            throw StoreError(
                kind: .unusablePath, path: path,
                message: "cannot open database: its folder \(folder) "
                    + (isThere ? "is not a folder" : "does not exist"))
        }
        if mustExist && access(path, F_OK) != 0 {
            // A file in a folder this user may not search is there all the same: "no such file" sent them
            // looking for a database that was never missing.
            let reason = errno == EACCES
                ? "this user may not reach it (\(String(cString: strerror(EACCES))) on a folder of its path)"
                : "no such file"
            throw StoreError(kind: .unusablePath, path: path, message: "cannot open database: " + reason)
        }
    }

    /// The real file behind `path`: absolute, symlinks resolved (for a new file, its folder's).
    static func realPath(_ path: String) -> String {
        PathText.real(path) ?? path
    }

    /// The writer lock of the database at `path`, beside its real file.
    static func lockPath(_ path: String) -> String {
        realPath(path) + lockSuffix
    }

    /// The write-ahead log of the database at `path`: SQLite keeps it beside the real file.
    public static func walPath(_ path: String) -> String {
        realPath(path) + "-wal"
    }

    /// "standard output" and "standard error", each when that stream is redirected into the database at
    /// `path` or one of its own files (`query … >> kb.sqlite`, `2>> kb.sqlite-wal`): what the command
    /// prints there would be written over the database.
    public static func standardStreamsWriting(into path: String) -> [String] {
        let own = Set(ownFiles(path).compactMap { FileIdentity(path: $0) }.filter { $0.name == nil })
        return [(STDOUT_FILENO, "standard output"), (STDERR_FILENO, "standard error")].compactMap { descriptor, name in
            FileIdentity(descriptor: descriptor).flatMap { own.contains($0) ? name : nil }
        }
    }

    /// The database's real file and the files that belong to it.
    static func ownFiles(_ path: String) -> [String] {
        let real = realPath(path)
        return [real] + sideFileSuffixes.map { real + $0 }
    }

    /// `path` as SQLite must be given it to open that file literally (`./file:x`, not the URI `file:x`).
    static func literal(_ path: String) -> String {
        path.lowercased().hasPrefix("file:") ? "./" + path : path
    }
}
