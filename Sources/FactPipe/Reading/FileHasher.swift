#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SHA-256 of a whole file, read before a load so the ledger can recognise it (DESIGN 1.4).
enum FileHasher {
    /// The SHA-256 of the regular file at `path` as 64 hex digits; nil for standard input (`-`) and
    /// anything that is not a regular file (a pipe cannot be read twice).
    /// - Throws: `ReadError` when the file cannot be opened or read.
    static func sha256(path: String) throws(ReadError) -> String? {
        try hash(path: path)?.sha256
    }

    /// The SHA-256 of the regular file at `path` and the stamp of the file it was read from; nil as for
    /// `sha256(path:)`. The load reads the input again later, by its path: the stamp tells it whether
    /// that is still the file whose hash the ledger is about to record.
    /// - Throws: `ReadError` when the file cannot be opened or read, or changed while it was read.
    /// With `includingLog` false a SQLite database's `-wal` is left out (`sha256WithoutLog(path:)`).
    static func hash(path: String, includingLog: Bool = true) throws(ReadError) -> (sha256: String, stamp: FileStamp)? {
        guard path != "-" else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let source = try FileByteSource(path: path)
        guard let before = source.stamp else { return nil }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        var head: [UInt8] = []
        while case let got = try source.read(into: block), got > 0 {
            if head.count < 16 { head += block.prefix(min(got, 16 - head.count)) }
        }
        if includingLog, head == InputFormat.sqliteMagic { try addLog(of: path, to: source, block: block) }
        guard let sha256 = source.finishDigest() else { return nil }
        guard source.stamp == before else {
            throw ReadError(
                source: path, kind: .cannotOpen,
                message: "it changed while it was read for its SHA-256; load it once nothing writes to it")
        }
        return (sha256, before)
    }

    /// The SHA-256 of the database file at `path` alone when it has a `-wal` that is not empty: what releases
    /// before the `-wal` counted recorded in the ledger. Nil when there is no such log, or on any failure.
    static func sha256WithoutLog(path: String) -> String? {
        var info = stat()
        guard stat(DatabaseFile.walPath(path), &info) == 0, info.st_size > 0 else { return nil }
        return try? hash(path: path, includingLog: false)?.sha256
    }

    /// Adds the `-wal` of the SQLite database at `path`, when it has one, to the digest of the database: the
    /// writes of a program that keeps it open stay there until a checkpoint, so the file alone stayed the
    /// same while its facts changed, and a load of the new ones was skipped as "the same content". The log
    /// is read as it is (a writer may be appending): its hash has only to differ when the facts may.
    private static func addLog(of path: String, to source: FileByteSource, block: UnsafeMutableRawBufferPointer)
        throws(ReadError)
    {
        let log = DatabaseFile.walPath(path)
        var info = stat()
        guard stat(log, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 else { return }
        let reader: FileByteSource
        do throws(ReadError) {
            reader = try FileByteSource(path: log)
        } catch {
            // Removed by a checkpoint that closed the database meanwhile: its writes are in the file now.
            if access(log, F_OK) != 0 { return }
            throw error
        }
        reader.stopHashing()
        while case let got = try reader.read(into: block), got > 0 {
            source.addToDigest(UnsafeRawBufferPointer(rebasing: block[..<got]))
        }
    }
}

/// What tells one state of a regular file from another: its device and inode (a file renamed over the
/// path is another one), its size and its modification time (a file rewritten in place). Not the change
/// time: a `chmod`, a hard link (a backup tool's `cp -al`) or a rename changes it, and not the content.
struct FileStamp: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    /// The stamp of the regular file open on `descriptor`; nil for anything else.
    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }
}
