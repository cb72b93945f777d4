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

/// Small helpers on path strings.
enum PathText {
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

    /// The folder part (`.` when there is none) and the last component of `path`.
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = slash == path.startIndex ? "/" : String(path[..<slash])
        return (folder, String(path[path.index(after: slash)...]))
    }

    /// The absolute path of `path` with every symlink resolved; for a file that does not exist yet, its
    /// folder resolved and its name appended (a dangling symlink: where it points). Nil when not even
    /// the folder exists.
    static func real(_ path: String, depth: Int = 0) -> String? {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        if let target = symlinkTarget(path) {
            guard depth < 16 else { return nil }
            return real(resolved(target, ofLink: path), depth: depth + 1)
        }
        let (folder, name) = split(path)
        guard !name.isEmpty, name != ".", name != "..", let resolved = realpath(folder, nil) else { return nil }
        defer { free(resolved) }
        return joined(String(cString: resolved), name)
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
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
