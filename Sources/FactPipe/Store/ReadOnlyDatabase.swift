import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opens any SQLite database — one factpipe did not create — for reading, without changing a byte
/// of it and without leaving `-wal`, `-shm` or journal files beside it.
///
/// A rollback-journal database is opened `mode=ro`: SQLite's ordinary shared locks, no side files.
/// A WAL database whose `-wal` file is present is opened `mode=ro` too (it must read that log, and
/// its writer already made the `-shm`); one without a `-wal` file has nothing outside the main
/// file, and is opened `immutable=1`, because a read-only WAL connection would otherwise create
/// the two side files.
enum ReadOnlyDatabase {
    /// How the file is opened.
    enum Mode: String, Equatable {
        /// `mode=ro`: read-only with SQLite's locking.
        case readOnly = "mode=ro"
        /// `immutable=1`: read-only, no locks, no side files.
        case immutable = "immutable=1"
    }

    /// Opens `path` read-only as described above.
    /// - Throws: `StoreError` of kind `.unusablePath` (the system's error underneath) when the file cannot be
    ///   read, other kinds when it is not a database SQLite can read.
    static func open(path: String, cacheKiB: Int, busyTimeoutMilliseconds: Int32) throws(StoreError) -> SQLiteConnection
    {
        let header: [UInt8]
        switch fileHeader(path) {
        case .success(let bytes): header = bytes
        case .failure(let error) where error.code == ENOENT:
            throw StoreError(kind: .unusablePath, path: path, message: "cannot open database: no such file")
        case .failure(let error):
            throw StoreError(kind: .unusablePath, path: path, message: "cannot open database", underlying: error)
        }
        let mode: Mode = isWALHeader(header) && !fileExists(DatabaseFile.walPath(path)) ? .immutable : .readOnly
        let connection = try SQLiteConnection(
            path: path, readOnly: true, create: false, uri: uri(for: path, mode: mode))
        connection.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
        try refusingHotJournal(path) { () throws(StoreError) in
            try connection.execute("PRAGMA cache_size=-\(cacheKiB)")
            _ = try connection.scalarInt("SELECT count(*) FROM sqlite_schema")
        }
        return connection
    }

    /// Runs `body`, the first statements of a read-only connection to `path`: where SQLite meets a hot
    /// journal, which such a connection cannot roll back, its refusal becomes what to do about it.
    static func refusingHotJournal<T>(_ path: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch where error.sqliteCode == SQLITE_READONLY | (3 << 8) {  // SQLITE_READONLY_ROLLBACK
            throw StoreError(
                kind: .foreignDatabase, path: path,
                message: "a program stopped in the middle of writing it (its -journal is hot); open it once with "
                    + "that program or sqlite3 so that the unfinished write is rolled back")
        }
    }

    /// The `file:` URI of `path` with `mode` as its query; every byte outside the URI's unreserved
    /// set and `/` is percent-encoded, so `?`, `#` and `%` in a file name stay part of it.
    static func uri(for path: String, mode: Mode) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = Array("file:".utf8)
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self) + "?" + mode.rawValue
    }

    /// True when the file at `path` has a WAL database's header (read and written as version 2); false for
    /// rollback-journal mode or a file that cannot be read.
    static func isWALDatabase(_ path: String) -> Bool {
        guard case .success(let header) = fileHeader(path) else { return false }
        return isWALHeader(header)
    }

    /// True when the header's read and write versions (bytes 18 and 19) say WAL.
    static func isWALHeader(_ header: [UInt8]) -> Bool {
        header.count >= 20 && header[18] == 2 && header[19] == 2
    }

    /// The first 100 bytes of `path` (fewer for a short or empty file), or why it cannot be read.
    private static func fileHeader(_ path: String) -> Result<[UInt8], SystemError> {
        let descriptor = openForReadingOnly(path)
        guard descriptor >= 0 else { return .failure(SystemError()) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 100)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return .failure(SystemError()) }
        return .success(Array(buffer.prefix(count)))
    }

    private static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}

/// `open(2)` for reading; outside the enum so that its own `open` does not hide the C function.
private func openForReadingOnly(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_CLOEXEC)
}
