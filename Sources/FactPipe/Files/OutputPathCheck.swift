#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file factpipe was asked to write that is one of its inputs or its database.
public struct PathConflict: Error, Sendable, CustomStringConvertible {
    /// Both paths, as given, and which is which.
    public var message: String

    public var description: String { message }
}

/// Refuses to write over what a command reads or loads into: every output path is compared with
/// every input and with the database and its side files, by file identity (`FileIdentity`), so a
/// symlink, a hard link or another spelling of the same file is caught before anything is opened.
public enum OutputPathCheck {
    /// One file that must not be written, and how to name it in a message.
    private struct Guarded {
        var description: String
        var identity: FileIdentity
        var isOutput = false
        /// Why it is never written, when not "factpipe never writes over its inputs or its database".
        var reason: String?
    }

    /// Checks `outputs` (an option name and the path given to it; `-` is standard output) against
    /// `inputs` (`-` is standard input) and the database at `databasePath`, and the inputs against the
    /// database. `-` counts by the file it is redirected from or to, if it is a regular file: so that
    /// `--metrics-file /dev/stdin < facts.ndjson` cannot replace the input, nor `export -o - >> kb.sqlite`
    /// write into the database.
    ///
    /// An output that is an existing SQLite database, write-ahead log or rollback journal (by its first
    /// bytes: any database, not only the command's own) is refused as well, unless `mayReplaceDatabases`
    /// (`restore --to`): a text written over one (`generate -o kb.sqlite`, a typo for `kb.ndjson`)
    /// destroyed it.
    ///
    /// An output that is an existing factpipe archive (a snapshot or backup whose manifest reads) is refused
    /// too, but for `replaceableArchives`, the paths an export writes anew (its file and sidecars): a rejects
    /// file or report named like one (`--rejects kb.ndjson.zst`, a typo) wrote over what may be the only copy.
    ///
    /// `pipelineFile`, the file `run` reads its pipeline from, is guarded as an input is: a rejects file,
    /// snapshot or report named like it replaced the pipeline.
    ///
    /// With `outputsMayShare`, outputs are not compared with one another (a pipeline's sources may share one
    /// rejects file), only with what is guarded: checking them one call each compared every output with
    /// every input, two `stat`s a pair (3,000 sources: 18 s).
    /// - Throws: `PathConflict` naming the first output (or input) that is the same file as another.
    public static func check(
        outputs: [(option: String, path: String)], inputs: [String] = [], databasePath: String? = nil,
        pipelineFile: String? = nil, mayReplaceDatabases: Bool = false, outputsMayShare: Bool = false,
        replaceableArchives: Set<String> = []
    ) throws(PathConflict) {
        var database: [Guarded] = []
        if let databasePath, !PostgreSQLAddress.isPostgreSQL(databasePath) {
            let files = DatabaseFile.ownFiles(databasePath)
            for (index, file) in files.enumerated() {
                guard let identity = FileIdentity(path: index == 0 ? databasePath : file) else { continue }
                let what = index == 0 ? "the database \(databasePath)" : "the database's file \(file)"
                database.append(Guarded(description: what, identity: identity))
            }
        }
        var guarded = database
        for input in inputs {
            guard let identity = input == "-" ? FileIdentity(descriptor: STDIN_FILENO) : FileIdentity(path: input)
            else { continue }
            if let same = database.first(where: { $0.identity == identity }) {
                throw PathConflict(message: "the input \(input) is \(same.description): "
                    + "factpipe does not load a database into itself")
            }
            guarded.append(Guarded(description: "the input \(input)", identity: identity))
        }
        if let pipelineFile, let identity = FileIdentity(path: pipelineFile) {
            guarded.append(Guarded(description: "the pipeline file \(pipelineFile)", identity: identity,
                                   reason: "factpipe never writes over the pipeline it runs"))
        }
        for (option, path) in outputs {
            guard let identity = path == "-" ? FileIdentity(descriptor: STDOUT_FILENO) : FileIdentity(path: path)
            else { continue }
            if let same = guarded.first(where: { $0.identity == identity }) {
                throw PathConflict(message: same.isOutput
                    ? "\(option) \(path) is the file \(same.description) already writes: give each its own file"
                    : "\(option) \(path) is \(same.description): "
                        + (same.reason ?? "factpipe never writes over its inputs or its database"))
            }
            if !outputsMayShare {
                guarded.append(Guarded(description: "\(option) \(path)", identity: identity, isOutput: true))
            }
        }
        for (option, path) in outputs where !replaceableArchives.contains(path) {
            // `-` counts as the file standard output is redirected to, as above: `--rejects - >> kb.ndjson.zst`
            // appended past the manifest frame, and the archive no longer verified.
            if let archive = archive(atPath: path == "-" ? "/dev/stdout" : path) {
                let named = path == "-" ? "- (standard output)" : path
                throw PathConflict(message: "\(option) \(named) is \(archive): factpipe never writes over one; give "
                    + "another name (or remove it first)")
            }
        }
        guard !mayReplaceDatabases else { return }
        for (option, path) in outputs {
            if let kind = StandardStreams.sqliteFile(atPath: path) {
                throw PathConflict(message: "\(option) \(path) is \(kind): factpipe never writes over one; give "
                    + "another name (or remove it first)")
            }
        }
    }

    /// What factpipe archive the regular file at `path` is ("a factpipe snapshot of 1204 facts made …"), by
    /// its manifest (inside a compressed archive, beside a plain one); nil for anything else.
    static func archive(atPath path: String) -> String? {
        var info = stat()
        guard !path.isEmpty, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
            let reader = try? ArchiveReader(path: path, hashesFile: false),
            case .success(let manifest) = reader.manifest
        else { return nil }
        return "a factpipe \(manifest.kind.rawValue) of \(manifest.factCount) facts made "
            + "\(manifest.createdAt) from \(manifest.sourceDatabase)"
    }
}
