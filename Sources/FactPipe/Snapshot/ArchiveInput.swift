#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An archive opened for reading: its size, reads at any offset, and a stream of its bytes that
/// can keep the SHA-256 of the whole file (checked against `FILE.sha256`) and of the stream alone,
/// hashing each byte once for both.
final class ArchiveInput: ByteSource {
    let name: String
    /// The file's size in bytes when it was opened.
    let size: Int64
    /// Where `read(into:)` stops: the stream covers bytes `0..<limit`.
    var limit: Int64
    /// Bytes handed out by `read(into:)` so far.
    private(set) var position: Int64 = 0
    /// The open file: other threads may `pread` it (`read(_:at:into:name:)`), which leaves the stream
    /// and its digests alone, while the archive is open.
    let descriptor: Int32
    /// SHA-256 of the stream alone (`0..<limit`: a compressed archive's frames before its manifest)
    /// when it is kept, else of the whole file when that is kept.
    private let digest: SHA256Digest?
    private let hashesFile: Bool
    private let hashesStream: Bool
    /// SHA-256 of the whole file, forked from the stream's: the bytes are hashed once for both.
    private var fileDigest: SHA256Digest?

    /// Opens `path` for reading; `hashesFile` and `hashesStream` choose the digests kept.
    /// - Throws: `SnapshotError` `.io` when it cannot be opened or is not a regular file.
    init(path: String, hashesFile: Bool = true, hashesStream: Bool = false) throws(SnapshotError) {
        name = path
        digest = hashesFile || hashesStream ? SHA256Digest() : nil
        self.hashesFile = hashesFile
        self.hashesStream = hashesStream
        // Opened without blocking, so that a FIFO (which would wait for a writer) is refused at once;
        // a regular file's reads then block as usual.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw SnapshotError(.io, path: path, "cannot open: \(systemError())") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SnapshotError(.io, path: path, "cannot read: not a regular file\(Self.kindName(info.st_mode))")
        }
        guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0 else {
            let error = systemError()
            close(fd)
            throw SnapshotError(.io, path: path, "cannot read: \(error)")
        }
        descriptor = fd
        size = Int64(info.st_size)
        limit = size
    }

    deinit {
        close(descriptor)
    }

    /// ` (a named pipe)` and the like, for a file of type `mode` that is not a regular file.
    private static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: " (a named pipe)"
        case S_IFDIR: " (a folder)"
        case S_IFCHR, S_IFBLK: " (a device)"
        case S_IFSOCK: " (a socket)"
        default: ""
        }
    }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file).
    /// - Throws: `SnapshotError` `.io` when the read fails.
    func read(at offset: Int64, count: Int) throws(SnapshotError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(count, 0))
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress.map { $0 + filled }, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw SnapshotError(.io, path: name, "read failed: \(systemError())")
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }

    /// `pread` of the open file `descriptor` into `buffer` until it is full or the file ends; returns
    /// the bytes read. Safe to call from several threads at once on an archive's `descriptor`: it
    /// touches neither the archive's stream nor its digests.
    /// - Throws: `SnapshotError` `.io` (naming `name`) when the read fails.
    static func read(
        _ descriptor: Int32, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer, name: String
    ) throws(SnapshotError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let got = pread(descriptor, base + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if got < 0 {
                if errno == EINTR { continue }
                throw SnapshotError(.io, path: name, "read failed: \(systemError())")
            }
            if got == 0 { break }
            filled += got
        }
        return filled
    }

    /// The next bytes of the stream, up to `limit`; 0 at its end.
    /// - Throws: `ReadError` `.io` when the read fails.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> Int {
        let wanted = Int(min(Int64(buffer.count), limit - position))
        guard wanted > 0, let base = buffer.baseAddress else { return 0 }
        while true {
            let got = pread(descriptor, base, wanted, off_t(position))
            if got >= 0 {
                digest?.update(UnsafeRawBufferPointer(start: base, count: got))
                position += Int64(got)
                return got
            }
            if errno == EINTR { continue }
            throw ReadError(source: name, offset: position, kind: .io, message: "read failed: \(systemError())")
        }
    }

    /// The SHA-256 of the bytes `read(into:)` handed out, once the stream was read to its end; ends
    /// that digest.
    func finishStreamHash() -> String? {
        guard hashesStream, let digest else { return nil }
        if hashesFile && fileDigest == nil { fileDigest = digest.fork() }
        return digest.finish()
    }

    /// Reads the rest of the file (past `limit`) into the file's hash and returns the SHA-256 of the
    /// whole file, or nil when it is not kept or OpenSSL failed.
    /// - Throws: `SnapshotError` `.io` when a read fails.
    func finishFileHash() throws(SnapshotError) -> String? {
        guard hashesFile, let file = fileDigest ?? (hashesStream ? digest?.fork() : digest) else { return nil }
        fileDigest = file
        while position < size {
            let chunk = try read(at: position, count: Int(min(1 << 20, size - position)))
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { file.update($0) }
            position += Int64(chunk.count)
        }
        return file.finish()
    }
}
