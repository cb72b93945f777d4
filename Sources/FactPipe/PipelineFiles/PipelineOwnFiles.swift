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
struct PipelineOwnFiles {
    /// The database's and the pipeline file's: a hard link to either among the sources is left out too.
    private let identities: [FileIdentity]
    private let exactPaths: Set<String>
    /// `fnmatch` patterns over real paths, from the rejects and snapshot templates.
    private let patterns: [String]

    init(_ file: PipelineFile) {
        // A database in PostgreSQL has no files here.
        let isFile = !PostgreSQLAddress.isPostgreSQL(file.databasePath)
        identities = [isFile ? FileIdentity(path: file.databasePath) : nil, FileIdentity(path: file.path)]
            .compactMap { $0 }
        var exactPaths = isFile ? Set(DatabaseFile.ownFiles(file.databasePath)) : []
        // The pipeline file itself, in the folder its patterns match (`*` beside it), is no input.
        if let real = PathText.real(file.path) { exactPaths.insert(real) }
        self.exactPaths = exactPaths
        var patterns: [String] = []
        if let rejects = file.rejectsTemplate { patterns.append(Self.pattern(rejects)) }
        if let snapshot = file.snapshotTemplate {
            let pattern = Self.pattern(snapshot)
            patterns += [pattern, pattern + ".sha256", pattern + ".manifest.json"]
        }
        self.patterns = patterns
    }

    /// True when `path` is one of the pipeline's own files.
    func contains(_ path: String) -> Bool {
        if let identity = FileIdentity(path: path), identities.contains(identity) { return true }
        guard let real = PathText.real(path) else { return false }
        if exactPaths.contains(real) { return true }
        return patterns.contains { fnmatch($0, real, 0) == 0 }
    }

    /// A template's files as a pattern: `{date}` and `{source}` become `*`, the rest is literal; the
    /// folder is resolved to its real path up to its first component with a placeholder (a folder such
    /// as `../incoming/{date}` left relative never matched, and its rejects were loaded the next night).
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
        let wildFolder = escape(folder).replacingPlaceholders()
        return (wildFolder == "/" ? "" : wildFolder) + "/" + escape(name).replacingPlaceholders()
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

extension String {
    /// The text with `{date}` and `{source}` replaced by `*`.
    fileprivate func replacingPlaceholders() -> String {
        var text = self
        for placeholder in ["{date}", "{source}"] {
            text = text.split(separator: placeholder, omittingEmptySubsequences: false).joined(separator: "*")
        }
        return text
    }
}
