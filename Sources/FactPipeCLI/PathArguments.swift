import ArgumentParser
import FactPipe

#if canImport(Glibc)
import Glibc
#endif

/// The checks every command makes on the paths it is given, before it opens or creates anything:
/// a usage error (exit 64) for a database path that is not a file path, and for an output that is
/// one of the command's inputs or its database.
enum PathArguments {
    /// What a command does with a PostgreSQL address given as its database.
    enum PostgreSQLUse {
        /// It works with one.
        case supported
        /// Not in this version: it is refused with a usage error.
        case notSupported
        /// It is about the SQLite store alone, for the reason given: refused with a usage error.
        case sqliteOnly(reason: String)
        /// Backups of a server are PostgreSQL's own tools' job.
        case backupTool
    }

    /// Refuses `path` as a database (empty, `:memory:`, a URI, a folder, a device), and a PostgreSQL address
    /// where the command does not take one (shown without its password).
    static func checkDatabase(_ path: String, option: String = "--db", postgreSQL: PostgreSQLUse = .notSupported) throws {
        if PostgreSQLAddress.isPostgreSQL(path) {
            let shown = PostgreSQLAddress.redacted(path)
            let unreadable = PostgreSQLAddress.libpqParseError(path)
            if PostgreSQLAddress.hasAmbiguousUserInfo(path) || unreadable != nil {
                throw ValidationError("\(option) \(shown): libpq cannot read this URL as written"
                    + (unreadable.map { " (\($0))" } ?? "") + "; a user name or password with '@', '/', '?', '#', "
                    + "'&' or '=' in it must write them as %40, %2F, %3F, %23, %26 and %3D (libpq would read the rest "
                    + "as the host, the database or options)")
            }
            switch postgreSQL {
            case .supported: return
            case .notSupported:
                throw ValidationError("\(option) \(shown): this command works on SQLite databases only; "
                    + "with PostgreSQL, factpipe runs import, run, loads, undo, export, stats, query and optimize "
                    + "(see docs/postgresql.md)")
            case .sqliteOnly(let reason):
                throw ValidationError("\(option) \(shown): \(reason)")
            case .backupTool:
                throw ValidationError("\(option) \(shown): backing up or restoring a PostgreSQL database is not "
                    + "factpipe's job: use pg_dump (or pg_basebackup) and pg_restore")
            }
        }
        if DatabaseFile.looksLikePostgreSQL(path) {
            throw ValidationError("\(option): \(DatabaseFile.mistypedPostgreSQL)")
        }
        if let problem = DatabaseFile.problem(path) {
            throw ValidationError("\(option) \(path.isEmpty ? "\"\"" : path): \(problem)")
        }
        if let stream = DatabaseFile.standardStreamsWriting(into: path).first {
            throw ValidationError("\(option) \(path): \(stream) is redirected into the database's own files; what "
                + "the command prints would be written over it")
        }
    }

    /// Refuses, before anything is created, an output file `option` could never be opened as: an empty
    /// path, a folder, or a file in a folder that does not exist (`-` is standard output).
    static func checkWritableFile(_ path: String, option: String) throws {
        guard path != "-" else { return }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw ValidationError("\(option) needs a file path") }
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) != S_IFDIR else { throw ValidationError("\(option) \(path) is a directory") }
            return
        }
        var directory = "."
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError("\(option) \(path): the directory \(directory) does not exist")
        }
    }

    /// Refuses more than one of `writers` (a name, and whether it writes to standard output) at once:
    /// standard output carries one stream, and `--json` promises one JSON object there.
    /// True when `path` writes to standard output: `-`, or a name of what it goes to (`/dev/stdout`,
    /// `/proc/self/fd/1`, the file it is appended to).
    static func isStandardOutput(_ path: String?) -> Bool {
        guard let path else { return false }
        return path == "-" || StandardStreams.descriptor(sameAs: path) == STDOUT_FILENO
    }

    static func checkOneStreamOnStandardOutput(_ writers: [(String, Bool)]) throws {
        let using = writers.filter(\.1).map(\.0)
        guard using.count < 2 else {
            throw ValidationError(using.joined(separator: " and ") + " would all write to standard output, which "
                + "carries one stream; give all but one a file")
        }
    }

    /// Refuses a PostgreSQL URL where an archive file goes (`verify URL`, `restore URL`, `export -o URL`),
    /// named without its password: the messages about a missing file of that name showed it whole.
    static func checkArchive(_ path: String, option: String) throws {
        guard PostgreSQLAddress.isPostgreSQL(path) else { return }
        throw ValidationError("\(option) \(PostgreSQLAddress.redacted(path)): a snapshot or backup is a file, not a "
            + "database; to load a snapshot into PostgreSQL, import it with --db and the URL")
    }

    /// Refuses any of `outputs` (option and path; nil when not given) that is the same file as one of
    /// `inputs`, the database, or another output; an input that is the database; and, unless
    /// `mayReplaceDatabases` (`restore --to`), an output that is an existing SQLite database; and, whatever
    /// `mayReplaceDatabases` says, one that is an existing factpipe archive but for `replaceableArchives`
    /// (`OutputPathCheck`).
    static func checkOutputs(
        _ outputs: [(String, String?)], inputs: [String] = [], database: String?, pipelineFile: String? = nil,
        mayReplaceDatabases: Bool = false, replaceableArchives: Set<String> = []
    ) throws {
        do {
            try OutputPathCheck.check(
                outputs: outputs.compactMap { option, path in path.map { (option, $0) } }, inputs: inputs,
                databasePath: database, pipelineFile: pipelineFile, mayReplaceDatabases: mayReplaceDatabases,
                replaceableArchives: replaceableArchives)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
