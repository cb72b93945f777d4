#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which file a path names, whatever its spelling: two paths name the same file when their
/// identities are equal, through symlinks, hard links, `./x` and `x` alike.
///
/// An existing file is its device and inode. A file that does not exist yet is the device and inode
/// of the folder it would be created in, and its name there: writing to it creates exactly that entry.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    /// The entry's name in its folder for a file still to be created; nil for an existing file.
    var name: String?

    /// The identity of `path`, following symlinks (a dangling one to where it points); nil when neither
    /// the file nor its folder exists.
    init?(path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: nil)
            return
        }
        guard let target = Self.danglingTarget(path, depth: 0) else { return nil }
        let (folder, name) = PathText.split(target)
        guard !name.isEmpty, stat(folder, &info) == 0 else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: name)
    }

    /// The identity of the regular file open on `descriptor` (standard input or output redirected from or
    /// to a file); nil for a terminal, a pipe, a device or a closed descriptor, which no path can name
    /// twice as a file.
    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: nil)
    }

    private init(device: UInt64, inode: UInt64, name: String?) {
        self.device = device
        self.inode = inode
        self.name = name
    }

    /// Where a missing path would be created: itself, or the end of the chain of symlinks it starts.
    private static func danglingTarget(_ path: String, depth: Int) -> String? {
        guard let target = PathText.symlinkTarget(path) else { return path }
        guard depth < 16 else { return nil }
        return danglingTarget(PathText.resolved(target, ofLink: path), depth: depth + 1)
    }
}

/// Small helpers on path strings. Paths are compared and cut as bytes, as the file system has them: Swift
/// compares text by canonical equivalence (`café` composed equals `café` decomposed, two files here) and
/// cuts it into characters (a `/` followed by a combining mark is one character, not a `/`).
enum PathText {
    /// True when `a` and `b` are the same bytes.
    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// `text` for `glob(3)` to match as it is written: its `*`, `?`, `[`, `]` and backslashes escaped.
    static func globEscaped(_ text: some StringProtocol) -> String {
        var out = ""
        for character in text {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// `name` in `folder`, with one `/` between them however many `folder` ends with (`backups/`); an empty
    /// folder is the current one (`name` alone, not `/name`).
    static func joined(_ folder: String, _ name: String) -> String {
        guard !folder.isEmpty else { return name }
        var folder = Substring(folder)
        while folder.count > 1, folder.hasSuffix("/") { folder = folder.dropLast() }
        return folder == "/" ? "/" + name : folder + "/" + name
    }

    /// Where the symlink at `link` pointing to `target` leads: `target` itself when absolute, else `target`
    /// in the link's folder.
    static func resolved(_ target: String, ofLink link: String) -> String {
        target.hasPrefix("/") ? target : joined(split(link).folder, target)
    }

    /// The last component of `path` without its last extension (`kb` of `data/kb.sqlite`); a name that starts
    /// with its only dot keeps it.
    static func stem(_ path: String) -> String {
        let name = split(path).name
        let bytes = name.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot != bytes.startIndex else { return name }
        return String(decoding: bytes[..<dot], as: UTF8.self)
    }

    /// The folder part (`.` when there is none) and the last component of `path`.
    static func split(_ path: String) -> (folder: String, name: String) {
        let bytes = path.utf8
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return (".", path) }
        let folder = slash == bytes.startIndex ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (folder, String(decoding: bytes[bytes.index(after: slash)...], as: UTF8.self))
    }

    /// The absolute path of `path` with every symlink resolved; for a file that does not exist yet, its
    /// folder resolved and its name appended (a dangling symlink: where it points). Nil when not even
    /// the folder exists.
    static func real(_ path: String, depth: Int = 0) -> String? {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return utf8(resolved)
        }
        if let target = symlinkTarget(path) {
            guard depth < 16 else { return nil }
            return real(resolved(target, ofLink: path), depth: depth + 1)
        }
        let (folder, name) = split(path)
        guard !name.isEmpty, name != ".", name != "..", let resolved = realpath(folder, nil) else { return nil }
        defer { free(resolved) }
        return utf8(resolved).map { joined($0, name) }
    }

    /// The first name in `path`'s real path (its folder's, for a file not there yet) that is not UTF-8, as
    /// the text `PathText.real` gives up on (invalid bytes as `\xFF`); nil when it is all UTF-8 or not there.
    static func firstNameNotUTF8(resolving path: String) -> String? {
        let resolved = realpath(path, nil) ?? realpath(split(path).folder, nil)
        guard let resolved else { return nil }
        defer { free(resolved) }
        guard utf8(resolved) == nil else { return nil }
        let bytes = Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
        for name in bytes.split(separator: UInt8(ascii: "/")) where String(validating: name, as: UTF8.self) == nil {
            return name.map { byte in
                byte < 0x80 ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true)
            }.joined()
        }
        return nil
    }

    /// A path the system gave, when it is UTF-8. A folder whose name is not (`cwd\xff`, reached as the current
    /// folder or through a link) read as U+FFFD in its place: another path, where a lock file went into
    /// another folder or none could be made.
    private static func utf8(_ path: UnsafePointer<CChar>) -> String? {
        String(validatingCString: path)
    }

    /// Where `path` will be once the folders it names are made: `real(path)` while its folder exists, else
    /// the nearest existing folder resolved and the rest appended (`.` dropped, `..` taken back: a folder
    /// still to be made is no symlink). Two outputs in a folder a run creates compare by it.
    static func eventual(_ path: String, depth: Int = 0) -> String {
        if let real = real(path) { return real }
        let (folder, name) = split(path)
        guard depth < 64, folder != path else { return path }
        let base = eventual(folder, depth: depth + 1)
        switch name {
        case "", ".": return base
        case "..": return split(base).folder
        default: return joined(base, name)
        }
    }

    /// What the symlink at `path` points to, as written; nil when `path` is not a symlink.
    static func symlinkTarget(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(validating: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
