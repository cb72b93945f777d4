#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sizes of files on disk: a database, its `-wal`, a report.
public enum FileSize {
    /// The size of the file at `path` in bytes, or nil when there is no such file.
    public static func bytes(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// The size of a database and of its write-ahead log (0 when it has none).
    public static func database(_ path: String) -> (file: Int64, wal: Int64) {
        (bytes(path) ?? 0, bytes(DatabaseFile.walPath(path)) ?? 0)
    }
}
