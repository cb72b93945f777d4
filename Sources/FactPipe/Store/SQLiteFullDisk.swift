#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to say when SQLite finds a disk full (`SQLITE_FULL`): which disk. SQLite writes the database and
/// its log beside it, but sorts for an index (and keeps large temporary tables) in a temporary folder of
/// its own, often on another disk; "database or disk is full" named the database while its disk had 69 GB
/// free and only the temporary folder was full.
enum SQLiteFullDisk {
    /// SQLite's temporary folder as its Unix layer picks it: the first of `SQLITE_TMPDIR`, `TMPDIR`,
    /// `/var/tmp`, `/usr/tmp`, `/tmp` and `.` that is a folder this process may write and enter.
    static var temporaryFolder: String {
        let candidates = [getenv("SQLITE_TMPDIR"), getenv("TMPDIR")].compactMap { $0.map { String(cString: $0) } }
            + ["/var/tmp", "/usr/tmp", "/tmp", "."]
        for folder in candidates where !folder.isEmpty {
            var info = stat()
            if stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, access(folder, W_OK | X_OK) == 0 {
                return folder
            }
        }
        return "."
    }

    /// The room left on the disks of the database at `path` and of SQLite's temporary folder.
    static func hint(database path: String) -> String {
        let folder = AtomicFileOutput.folder(of: DatabaseFile.realPath(path))
        let temporary = temporaryFolder
        return "room left: \(free(folder)) on the database's disk (\(folder)), \(free(temporary)) on the disk of "
            + "SQLite's temporary folder \(temporary), where it sorts for an index (SQLITE_TMPDIR or TMPDIR name it)"
    }

    /// The bytes an unprivileged user may still write at `path`, in MB.
    private static func free(_ path: String) -> String {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return "unknown" }
        let bytes = Double(info.f_bavail) * Double(info.f_frsize)
        return bytes < 10_000_000 ? "\(Int(bytes / 1_000)) kB" : "\(Int(bytes / 1_000_000)) MB"
    }
}
