#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a pipeline file: the file, the line and key when there is one, and what is wrong.
public struct PipelineFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(path: String, line: Int? = nil, key: String? = nil, message: String) {
        self.path = path
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var place = path
        if let line { place += ":\(line)" }
        return "\(place): " + (key.map { "\($0): " } ?? "") + message
    }
}

/// A recurring job described in a file under `pipelines/` (DESIGN 6): what to load, where, how,
/// and what to do after. Relative paths in it resolve against the file's own folder.
///
/// ```toml
/// name = "nightly-ndjson"
/// database = "../data/kb.sqlite"
/// [sources]
/// paths = ["../incoming/*.ndjson", "../incoming/*.ndjson.zst"]   # globs, loaded in sorted order
/// format = "auto"
/// [load]
/// on_conflict = "ignore"      # ignore | replace | update | fail
/// batch_size = 50000
/// max_errors = 1000
/// rejects = "../rejects/{date}-{source}.ndjson"
/// [limits]
/// max_args = 10
/// [mapping]
/// text = "statement"          # input field or column name = factpipe field
/// [after]
/// optimize = true
/// snapshot = "../snapshots/kb-{date}.ndjson.zst"
/// keep_snapshots = 7
/// ```
public struct PipelineFile: Sendable {
    public var path: String
    public var name: String
    public var databasePath: String
    /// Source patterns, resolved, in the order given.
    public var sourcePatterns: [String]
    /// For each source pattern, how many of its leading bytes are the pipeline file's folder it was resolved
    /// against: taken as it is written, never as wildcards (a pipeline in `kb [x]/` loaded `kb x/` files).
    /// Missing or 0: the whole pattern is the user's.
    public var sourceFolderBytes: [Int] = []
    /// Options every source's import starts from (inputs and rejects are set per source).
    public var options: ImportOptions
    /// The rejects path with `{date}` and `{source}` still in it.
    public var rejectsTemplate: String?
    public var optimizesAfter = false
    /// A snapshot to write after the load, with `{date}` still in it.
    public var snapshotTemplate: String?
    public var keepSnapshots: Int?
    /// Files the run writes beside its loads, by option (`--report`, `--metrics-file`), which its wildcard
    /// patterns leave out as they leave out its rejects files.
    public var reportFiles: [(option: String, path: String)] = []

    /// Reads and checks the pipeline file at `path`.
    /// - Throws: `PipelineFileError` naming the key and line of an unknown key, a value of the wrong
    ///   type or out of range, or the missing required ones (`name`, `database`, `sources.paths`).
    ///
    /// A pipeline that comes through a pipe (`run <(envsubst < p.toml)`, `run -` for standard input) has no
    /// folder of its own: its relative paths are the current directory's, as on the command line.
    public static func load(path given: String) throws(PipelineFileError) -> PipelineFile {
        // A closed standard input reads as the empty placeholder put in its place: "name: is required".
        if given == "-" && StandardStreams.inputWasClosed {
            throw PipelineFileError(path: "-", message: "standard input is closed: there is no pipeline file to read")
        }
        let path = given == "-" ? "/dev/stdin" : given
        let text = try readText(path)
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text)
        } catch {
            throw PipelineFileError(path: path, line: error.line, message: error.message)
        }
        var reader = PipelineFileReader(path: path, folder: isStream(path) ? "." : folder(of: path))
        return try reader.read(document)
    }

    /// The inputs the source patterns match now, each pattern's matches sorted, without repeats;
    /// never the pipeline's own files (its database and their side files, its rejects, its snapshots).
    public func expandSources() -> [String] {
        var seen = Set<String>()
        var inputs: [String] = []
        let own = PipelineOwnFiles(self)
        for pattern in patterns {
            let isLiteral = !pattern.hasWildcards
            for match in Self.glob(pattern).matches where seen.insert(match).inserted {
                if own.what(match, byTemplate: !isLiteral) != nil { continue }
                inputs.append(match)
            }
        }
        return inputs
    }

    /// `template` with `{date}` (UTC, YYYY-MM-DD) and `{source}` (the input's file name without the
    /// extensions of its format and compression) filled in.
    public static func expand(_ template: String, date: String, source: String? = nil) -> String {
        var text = template.split(separator: "{date}", omittingEmptySubsequences: false).joined(separator: date)
        if let source {
            text = text.split(separator: "{source}", omittingEmptySubsequences: false)
                .joined(separator: stem(of: source))
        }
        return text
    }

    /// Extensions `{source}` leaves out: a format's and a compression's.
    private static let inputExtensions: Set<String> = [
        "ndjson", "jsonl", "json", "csv", "tsv", "txt", "text", "db", "sqlite", "sqlite3", "gz", "gzip", "zst", "zstd",
    ]

    /// The file name of `path` without the extensions of its format and compression, from the end: the part
    /// before the first dot was taken, so `kb.2025-09-15.ndjson` and `kb.2025-09-16.ndjson` shared one rejects
    /// file `kb.ndjson`.
    static func stem(of path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var parts = base.split(separator: ".", omittingEmptySubsequences: false)
        while parts.count > 1, let last = parts.last, inputExtensions.contains(last.lowercased()) { parts.removeLast() }
        let stem = parts.joined(separator: ".")
        return stem.isEmpty ? base : stem
    }

    /// True when `path` is a pipe, a socket or a terminal (`/dev/fd/63` from `<(…)`), or names a descriptor
    /// (`/dev/stdin`, `/dev/fd/N`, `/proc/self/fd/N`), whatever it was opened on (`run - < p.toml`).
    static func isStream(_ path: String) -> Bool {
        if path == "/dev/stdin" || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/") { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The text of the pipeline file at `path` (a file, or a pipe such as `run <(…)`), at most `mostBytes`.
    /// A read that fails (a folder: "Is a directory") is an error, not an empty file.
    private static func readText(_ path: String) throws(PipelineFileError) -> String {
        func cannotRead() -> PipelineFileError {
            PipelineFileError(path: path, message: "cannot read the pipeline file: \(String(cString: strerror(errno)))")
        }
        guard let file = fopen(path, "rb") else { throw cannotRead() }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count > 0 { bytes.append(contentsOf: buffer[0..<count]) }
            if bytes.count > mostBytes {
                throw PipelineFileError(path: path, message: "larger than \(mostBytes >> 20) MiB: not a pipeline file")
            }
            if count < buffer.count {
                if ferror(file) != 0 { throw cannotRead() }
                break
            }
        }
        // A byte order mark (an editor's) is no key; bytes that are not UTF-8 would be read as U+FFFD and name
        // another file (`kb\u{FFFD}.sqlite` for the file `kb\xE9.sqlite`), so they are refused with their line.
        let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
        if let offset = UTF8Validation.firstInvalidOffset(text) {
            let line = text[..<(text.startIndex + offset)].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw PipelineFileError(path: path, line: line, message: "is not UTF-8 text; a pipeline file is TOML, which is "
                + "UTF-8: save it as UTF-8")
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The largest pipeline file read.
    static let mostBytes = 1 << 20

    /// The files the sources name (`expandSources()`), refusing, before a run takes any lock, sources it
    /// cannot load as asked: a pattern without wildcards that names no file (a file that did not arrive: a
    /// run that loads nothing would say "done"), a folder a pattern cannot read, and a file to load that is
    /// not a regular file (a FIFO or a device would block the run, its writer lock held, until the next
    /// night's run gave up on it). The files checked are the files returned, from one expansion.
    /// - Throws: `PipelineFileError` naming the pattern or the file.
    public func checkedSources() throws(PipelineFileError) -> [String] {
        var seen = Set<String>()
        var inputs: [String] = []
        let own = PipelineOwnFiles(self)
        for source in patterns {
            let pattern = source.text
            let (status, matches, notUTF8) = Self.glob(source)
            let isLiteral = !source.hasWildcards
            if let name = notUTF8.first {
                // Read back through a name with U+FFFD in it, it was "No such file or directory".
                throw PipelineFileError(
                    path: name, message: "its name is not UTF-8 (a Latin-1 name, say), so factpipe cannot name it "
                        + "exactly: rename it in UTF-8, or move it out of the folder \(pattern) looks in")
            }
            if status == GLOB_NOMATCH {
                guard !isLiteral else {
                    throw PipelineFileError(path: pattern, message: "no such file (a source without wildcards must exist)")
                }
                // Nothing in a folder that is there is a quiet night; a folder that is not there is a typo or
                // a drop folder that went away, which a night of 0 loads would hide.
                if let folder = Self.missingFolder(of: source) {
                    throw PipelineFileError(
                        path: pattern, message: "no such folder \(folder) (the folder a pattern's wildcards look in must "
                            + "exist; a pattern that matches nothing in it is a quiet night)")
                }
                continue
            }
            guard status == 0 else {
                throw PipelineFileError(path: pattern, message: "cannot read the folders of this source pattern"
                    + (status == GLOB_ABORTED ? ": \(String(cString: strerror(errno)))" : ""))
            }
            for match in matches where seen.insert(match).inserted {
                // A file a pattern matches by the rejects or snapshot template's name is left out when it
                // is one; a file named without wildcards is loaded unless it is the database or the
                // pipeline file, which fail the run rather than make it a quiet night.
                if let what = own.what(match, byTemplate: !isLiteral) {
                    guard !isLiteral else {
                        throw PipelineFileError(path: match, message: "is \(what): a pipeline never loads its own files")
                    }
                    continue
                }
                var info = stat()
                guard stat(match, &info) == 0 else {
                    throw PipelineFileError(path: match, message: "cannot read it: \(String(cString: strerror(errno)))")
                }
                guard (info.st_mode & S_IFMT) == S_IFREG else {
                    throw PipelineFileError(path: match, message: "not a regular file (a FIFO, a device or a folder): "
                        + "a pipeline loads files; give a stream to import instead")
                }
                inputs.append(match)
            }
        }
        return inputs
    }

    /// A source pattern: the pipeline file's folder it was resolved against (`folder`, written as it is) and
    /// what the file gave (`given`, whose `*`, `?` and `[` are wildcards).
    struct SourcePattern {
        /// The pattern as resolved, for messages and for a file named as it is written.
        var text: String
        var folder: Substring
        var given: Substring

        init(_ text: String, folderBytes: Int) {
            self.text = text
            let split = text.utf8.index(text.utf8.startIndex, offsetBy: min(max(folderBytes, 0), text.utf8.count))
            folder = text[..<split]
            given = text[split...]
        }

        var hasWildcards: Bool { PipelineFile.hasWildcards(String(given)) }

        /// The pattern for `glob(3)`: the folder's own wildcard characters escaped.
        var forGlob: String {
            // A pattern without wildcards names its file as written: a backslash in it is no escape.
            PathText.globEscaped(folder) + (hasWildcards ? String(given) : PathText.globEscaped(given))
        }
    }

    /// The source patterns with the folder each was resolved against.
    var patterns: [SourcePattern] {
        sourcePatterns.enumerated().map { index, text in
            SourcePattern(text, folderBytes: index < sourceFolderBytes.count ? sourceFolderBytes[index] : 0)
        }
    }

    /// The folder before the first wildcard of what `pattern`'s file gave, when it does not exist (or is not a
    /// folder).
    static func missingFolder(of pattern: SourcePattern) -> String? {
        let components = pattern.given.split(separator: "/", omittingEmptySubsequences: false)
        guard let firstWild = components.firstIndex(where: { hasWildcards(String($0)) }),
              firstWild > 0 || !pattern.folder.isEmpty
        else {
            return nil
        }
        var folder = String(pattern.folder) + components[..<firstWild].joined(separator: "/")
        if folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        guard !folder.isEmpty else { return nil }
        var info = stat()
        guard stat(folder, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
        return folder
    }

    /// True when `pattern` has a character `glob` reads as a wildcard.
    static func hasWildcards(_ pattern: String) -> Bool {
        pattern.contains { "*?[".contains($0) }
    }

    /// The matches of `pattern`, sorted, and `glob`'s status. A folder that does not exist is no match (a
    /// quiet night); one that cannot be read aborts the expansion (`GLOB_ABORTED`).
    ///
    /// A pattern that matches nothing but names a file as it is written (`in/data[1].txt`) matches that
    /// file, as the shell would pass it on.
    ///
    /// A match whose name is not UTF-8 (Latin-1, say) cannot be held as a path that names it: it is in
    /// `notUTF8`, shown with its bad bytes as `\xNN`.
    private static func glob(_ source: SourcePattern) -> (status: Int32, matches: [String], notUTF8: [String]) {
        var result = glob_t()
        defer { globfree(&result) }
        let status = Glibc.glob(source.forGlob, 0, { _, code in code == ENOENT || code == ENOTDIR ? 0 : 1 }, &result)
        let pattern = source.text
        if status == GLOB_NOMATCH, source.hasWildcards, access(pattern, F_OK) == 0 { return (0, [pattern], []) }
        guard status == 0 else { return (status, [], []) }
        var matches: [String] = []
        var notUTF8: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            guard let cString = result.gl_pathv[index] else { continue }
            if let name = String(validatingCString: cString) {
                matches.append(name)
            } else {
                notUTF8.append(EscapedBytes.shown(UnsafeBufferPointer(
                    start: UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self), count: strlen(cString))))
            }
        }
        return (0, matches.sorted(), notUTF8.sorted())
    }
}
