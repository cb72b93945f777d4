#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files a pipeline writes itself, which its source patterns never match: its database with
/// SQLite's side files and the writer lock (none for a database in PostgreSQL), its rejects files,
/// its snapshots with the files written beside them, and the pipeline file itself. Compared by real
/// path (and the database also by file identity), so a pattern such as `*` in the database's folder
/// loads only the inputs there.
///
/// A file named as the rejects or snapshot template would name one is the pipeline's only when its
/// bytes say so too: a rejects file begins with a reject line (or is empty), a snapshot carries a
/// factpipe manifest. Judged by name alone, a user's `incoming/facts-extra.ndjson` beside rejects named
/// `incoming/{source}-{date}.ndjson` was left out without a word, and an input named like the snapshot
/// was left out and then replaced by it.
struct PipelineOwnFiles {
    /// The database's and the pipeline file's: a hard link to either among the sources is left out too.
    private let identities: [(identity: FileIdentity, what: String)]
    private let exactPaths: [String: String]
    /// The run's report and metrics files, by real path: left out where a wildcard matches them.
    private let reportPaths: Set<String>
    /// `fnmatch` patterns over real paths, from the rejects and snapshot templates.
    private let patterns: [(pattern: String, kind: Kind)]

    private enum Kind {
        case rejects, snapshot, checksum, manifest
    }

    init(_ file: PipelineFile) {
        // A database in PostgreSQL has no files here.
        let isFile = !PostgreSQLAddress.isPostgreSQL(file.databasePath)
        var identities: [(FileIdentity, String)] = []
        if isFile, let database = FileIdentity(path: file.databasePath) { identities.append((database, "the database")) }
        if let pipeline = FileIdentity(path: file.path) { identities.append((pipeline, "the pipeline file")) }
        self.identities = identities
        var exactPaths: [String: String] = [:]
        if isFile {
            for path in DatabaseFile.ownFiles(file.databasePath) { exactPaths[path] = "a file of the database" }
        }
        // The pipeline file itself, in the folder its patterns match (`*` beside it), is no input.
        if let real = PathText.real(file.path) { exactPaths[real] = "the pipeline file" }
        self.exactPaths = exactPaths
        reportPaths = Set(file.reportFiles.filter { $0.path != "-" }.compactMap { PathText.real($0.path) })
        var patterns: [(String, Kind)] = []
        if let rejects = file.rejectsTemplate { patterns.append((Self.pattern(rejects), .rejects)) }
        if let snapshot = file.snapshotTemplate {
            let pattern = Self.pattern(snapshot)
            patterns += [(pattern, .snapshot), (pattern + ".sha256", .checksum), (pattern + ".manifest.json", .manifest)]
        }
        self.patterns = patterns
    }

    /// Which of the pipeline's own files `path` is ("the database", "a rejects file of this pipeline"…),
    /// or nil when it is none of them; `byTemplate` false asks only whether it is the database, one of its
    /// files or the pipeline file.
    func what(_ path: String, byTemplate: Bool = true) -> String? {
        if let identity = FileIdentity(path: path), let own = identities.first(where: { $0.identity == identity }) {
            return own.what
        }
        guard let real = PathText.real(path) else { return nil }
        if let what = exactPaths[real] { return what }
        guard byTemplate else { return nil }
        if reportPaths.contains(real), Self.isReport(real) { return "a report file of this run" }
        for (pattern, kind) in patterns where fnmatch(pattern, real, 0) == 0 {
            switch kind {
            case .rejects:
                if RejectsFileShape.isRejectsFile(real) { return "a rejects file of this pipeline" }
            case .snapshot:
                if Self.isSnapshot(real) { return "a snapshot of this pipeline" }
            case .checksum:
                if Self.isSnapshot(String(real.dropLast(".sha256".count))) { return "the checksum of a snapshot" }
            case .manifest:
                if Self.isSnapshot(String(real.dropLast(".manifest.json".count))) { return "the manifest of a snapshot" }
            }
        }
        return nil
    }

    /// True when `path` reads as what `--report` or `--metrics-file` writes (`{"command":"…` or
    /// `# HELP factpipe_…`): a user's input at that path is an input, which the run then refuses to overwrite.
    private static func isReport(_ path: String) -> Bool {
        guard let head = FileHead.bytes(path, count: 32) else { return false }
        return [Array("{\"command\":\"".utf8), Array("# HELP factpipe_".utf8)].contains { head.starts(with: $0) }
    }

    /// True when `path` is a factpipe snapshot: its manifest (its last frame, or the file beside a plain
    /// one) reads as one.
    private static func isSnapshot(_ path: String) -> Bool {
        guard let reader = try? ArchiveReader(path: path, hashesFile: false),
              case .success(let manifest) = reader.manifest else { return false }
        return manifest.kind == .snapshot
    }

    /// A template's files as a pattern: `{date}` matches a date (`YYYY-MM-DD`), `{source}` anything, the
    /// rest is literal; the folder is resolved to its real path up to its first component with a
    /// placeholder (a folder such as `../incoming/{date}` left relative never matched, and its rejects
    /// were loaded the next night).
    static func pattern(_ template: String) -> String {
        var (folder, name) = PathText.split(template)
        if let brace = folder.firstIndex(of: "{") {
            let slash = folder[..<brace].lastIndex(of: "/")
            let fixed = slash.map { $0 == folder.startIndex ? "/" : String(folder[..<$0]) } ?? "."
            let rest = slash.map { String(folder[folder.index(after: $0)...]) } ?? folder
            if let real = PathText.real(fixed) { folder = (real == "/" ? "" : real) + "/" + rest }
        } else if let real = PathText.real(folder) {
            folder = real
        }
        let wildFolder = PathText.globEscaped(folder).replacingPlaceholders()
        return (wildFolder == "/" ? "" : wildFolder) + "/" + PathText.globEscaped(name).replacingPlaceholders()
    }
}

extension String {
    /// The text with `{date}` replaced by a pattern of a date and `{source}` by `*`.
    fileprivate func replacingPlaceholders() -> String {
        let digit = "[0-9]"
        let date = String(repeating: digit, count: 4) + "-" + digit + digit + "-" + digit + digit
        return split(separator: "{date}", omittingEmptySubsequences: false).joined(separator: date)
            .split(separator: "{source}", omittingEmptySubsequences: false).joined(separator: "*")
    }
}
