#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why writing an output failed: what was being done, to which path, and the system's reason.
public struct FileOutputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The step that failed.
    public enum Operation: String, Sendable, Hashable {
        case open, write, close
    }

    /// The step that failed.
    public var operation: Operation
    /// The path as given, or `-` for standard output.
    public var path: String
    /// The `errno` value reported by the system.
    public var code: Int32
    /// The system's text for `code`, e.g. `No space left on device`.
    public var reason: String

    /// Creates an error from its parts.
    public init(operation: Operation, path: String, code: Int32, reason: String) {
        self.operation = operation
        self.path = path
        self.code = code
        self.reason = reason
    }

    /// A sentence a user can act on, e.g. `cannot write to out.ndjson: No space left on device`.
    public var description: String {
        let target = path == "-" ? "standard output" : path
        switch operation {
        case .open: return "cannot open \(target) for writing: \(reason)"
        case .write: return "cannot write to \(target): \(reason)"
        case .close: return "cannot finish writing \(target): \(reason)"
        }
    }

    static func fromErrno(_ operation: Operation, path: String) -> FileOutputError {
        let code = errno
        return FileOutputError(operation: operation, path: path, code: code, reason: String(cString: strerror(code)))
    }
}

/// Collects bytes in a fixed-size buffer and hands them to a file descriptor with `write(2)`.
///
/// The buffer is flushed whenever it reaches its capacity, so memory stays flat however much is
/// written. Call `close()` at the end: it flushes what is left and reports any error; `deinit` only
/// releases the descriptor, without flushing.
public final class BufferedFileOutput {
    /// The default buffer size: 1 MiB.
    public static let defaultCapacity = 1 << 20

    /// The path as given, or `-` for standard output.
    public let path: String
    /// Where the output ends: for a regular file, its offset after the last write (appending, the
    /// file's end then, past what other processes appended before it, so that a cut back to it keeps
    /// their lines); otherwise the bytes handed to the system so far.
    public private(set) var bytesWritten: Int64 = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// True when the output is a regular file this output opened itself (not standard output, a stream
    /// named by path, a pipe or a device).
    public var ownsARegularFile: Bool { ownsDescriptor && isRegularFile }

    /// True when the regular file this output writes was deleted (or renamed over) since it was opened:
    /// what was written to it is gone with it once it is closed.
    public var lostItsName: Bool {
        guard ownsARegularFile, !isClosed else { return false }
        var info = stat()
        return fstat(descriptor, &info) == 0 && info.st_nlink == 0
    }

    /// Notes in `notes` that the rejects file lost its name during the load (`lostItsName`).
    func noteIfDeleted(rejected: Int, in notes: inout [String]) {
        guard lostItsName else { return }
        notes.append(
            "the rejects file \(path) was deleted while the load wrote it: the refused records written to it are "
                + "gone (\(rejected) this run; the ledger keeps their count)")
    }
    private var isRegularFile = false
    private let capacity: Int
    private var buffer: [UInt8]
    private var isClosed = false
    /// Asked while a write waits for a pipe's reader (set only for pipes, FIFOs and sockets).
    private var isCancelled: (() -> Bool)?
    /// True for a FIFO this output opened itself, left non-blocking (`CancellableOutput.open`).
    private var isNonBlocking = false

    /// Opens `path` for writing (created, or truncated if it exists, or appended to with `append`);
    /// `-` means standard output. `bytesWritten` counts what the file already held when appending.
    /// With `create` false a missing file is an error, not made: a temporary file that a signal's cleanup
    /// (`TemporaryFiles.removeAll`) removed before this open must not come back as litter.
    ///
    /// A FIFO that no process reads yet is waited for, as `open(2)` waits, and so is a pipe's reader that
    /// stopped reading; with `isCancelled` each wait ends when it says so (a signal), which the system
    /// calls themselves never would (`CancellableOutput`).
    ///
    /// Throws `FileOutputError` when the file cannot be opened, e.g. its directory does not exist.
    public init(
        path: String, capacity: Int = BufferedFileOutput.defaultCapacity, append: Bool = false,
        create: Bool = true, isCancelled: (() -> Bool)? = nil
    ) throws {
        self.path = path
        self.capacity = max(capacity, 1)
        buffer = []
        buffer.reserveCapacity(self.capacity)
        if let closed = StandardStreams.closedStream(namedBy: path) {
            throw FileOutputError(operation: .open, path: path, code: EBADF, reason: closed)
        }
        if path == "-" {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
        } else if let stream = StandardStreams.descriptor(sameAs: path) {
            // `/dev/stderr`, or the log file standard error goes to: written through the stream, never
            // truncated (a rollback only drops what is buffered, as on a pipe).
            descriptor = stream
            ownsDescriptor = false
        } else {
            if let problem = ForeignSymlink.problem(path) {
                throw FileOutputError(operation: .open, path: path, code: EPERM, reason: problem)
            }
            let flags = O_WRONLY | (create ? O_CREAT : 0) | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
            let opened: Int32
            if let isCancelled {
                guard let (cancellable, nonBlocking) = CancellableOutput.open(
                    path, flags: flags, mode: 0o644, isCancelled: isCancelled)
                else {
                    guard errno == EINTR else { throw FileOutputError.fromErrno(.open, path: path) }
                    throw FileOutputError(
                        operation: .open, path: path, code: EINTR, reason: CancellableOutput.stoppedWaiting)
                }
                opened = cancellable
                isNonBlocking = nonBlocking
            } else {
                opened = Glibc.open(path, flags, 0o644)
                guard opened >= 0 else { throw FileOutputError.fromErrno(.open, path: path) }
            }
            descriptor = opened
            ownsDescriptor = true
            var status = stat()
            isRegularFile = fstat(opened, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
            if append {
                let end = lseek(opened, 0, SEEK_END)
                bytesWritten = end > 0 ? Int64(end) : 0
            }
        }
        if let isCancelled, CancellableOutput.mayWait(descriptor) { self.isCancelled = isCancelled }
    }

    /// Holds the regular file this output opened for this process alone (`flock`), so that another load
    /// naming the same file is refused instead of starting it afresh under this one's lines or mixing
    /// its own into them. Nothing for standard output, pipes and devices, nor where the file system
    /// takes no locks. The hold ends when the output closes.
    /// - Throws: `FileOutputError` when another process holds the file; `what` names it in the message.
    public func holdAlone(what: String) throws {
        guard ownsARegularFile else { return }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            guard errno == EWOULDBLOCK else { return }
            throw FileOutputError(
                operation: .open, path: path, code: EWOULDBLOCK,
                reason: "another load is writing it; give each load its own \(what)")
        }
    }

    /// Throws what `holdAlone` throws when another process holds the regular file at `path` now; looks
    /// without creating or changing anything. A load asks before it makes its database or lock file, so a
    /// load refused for a rejects file another load writes leaves no new empty database behind.
    /// - Throws: `FileOutputError` when another process holds the file.
    public static func checkNotHeld(_ path: String, what: String) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { return }
        defer { Glibc.close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
        var result: Int32
        repeat { result = flock(descriptor, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        if result == 0 {
            flock(descriptor, LOCK_UN)
            return
        }
        guard errno == EWOULDBLOCK else { return }
        throw FileOutputError(
            operation: .open, path: path, code: EWOULDBLOCK,
            reason: "another load is writing it; give each load its own \(what)")
    }

    /// Opens a load's rejects file at `path` to append, held alone (`holdAlone`), and cut to nothing once
    /// held when `startsAfresh`. A new file gets `attributes` (`NewFileAttributes.like(database:)`).
    /// - Throws: `FileOutputError` when it cannot be opened or cut, or another load writes it.
    public static func rejects(
        path: String, startsAfresh: Bool = false, isCancelled: (() -> Bool)? = nil,
        attributes: NewFileAttributes? = nil
    ) throws -> BufferedFileOutput {
        var existing = stat()
        let isNew = stat(path, &existing) != 0
        let output = try BufferedFileOutput(path: path, append: true, isCancelled: isCancelled)
        if isNew, output.ownsARegularFile, let attributes {
            _ = fchmod(output.descriptor, attributes.mode)
            if let owner = attributes.owner { _ = fchown(output.descriptor, owner.user, owner.group) }
        }
        try output.holdAlone(what: "rejects file")
        if startsAfresh { try output.truncate(to: 0) }
        return output
    }

    /// Ends the file's last line when it has no line break (a writer killed in the middle of it), so that
    /// what comes next starts a line of its own: glued to the torn one, the next reject was no JSON either.
    /// Nothing for what is not a regular file this output opened. A resume calls it once its rejects file
    /// is cut back to the checkpoint (`RejectsResume`), which a line break more would stop.
    func endTornLine() throws {
        guard ownsARegularFile, bytesWritten > 0 else { return }
        let reader = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard reader >= 0 else { return }
        defer { _ = systemClose(reader) }
        var opened = stat()
        var read = stat()
        var last: UInt8 = 0
        guard fstat(descriptor, &opened) == 0, fstat(reader, &read) == 0, opened.st_dev == read.st_dev,
            opened.st_ino == read.st_ino, opened.st_size > 0, pread(reader, &last, 1, opened.st_size - 1) == 1,
            last != 0x0A
        else { return }
        try write([0x0A])
        try flush()
    }

    /// Writes through an already open descriptor that the caller keeps ownership of; with `isCancelled`, a
    /// wait for a pipe's reader ends when it says so (as for `init(path:)`).
    public init(
        descriptor: Int32, name: String, capacity: Int = BufferedFileOutput.defaultCapacity,
        isCancelled: (() -> Bool)? = nil
    ) {
        path = name
        self.descriptor = descriptor
        ownsDescriptor = false
        self.capacity = max(capacity, 1)
        buffer = []
        buffer.reserveCapacity(self.capacity)
        if let isCancelled, CancellableOutput.mayWait(descriptor) { self.isCancelled = isCancelled }
    }

    deinit {
        if ownsDescriptor && !isClosed { _ = systemClose(descriptor) }
    }

    /// Appends `bytes`, flushing first if the buffer would overflow. Throws `FileOutputError`.
    public func write(_ bytes: [UInt8]) throws {
        if buffer.count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Appends the UTF-8 bytes of `text`. Throws `FileOutputError`.
    public func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Hands every buffered byte to the system. Throws `FileOutputError` (e.g. disk full).
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, then closes the file if this output opened it. Throws `FileOutputError`.
    public func close() throws {
        guard !isClosed else { return }
        defer { isClosed = true }
        do {
            try flush()
        } catch {
            if ownsDescriptor { _ = systemClose(descriptor) }
            throw error
        }
        if ownsDescriptor && systemClose(descriptor) != 0 {
            throw FileOutputError.fromErrno(.close, path: path)
        }
    }

    /// Drops what was written but not yet flushed, leaving the file as it is.
    public func discardUnflushed() {
        buffer.removeAll(keepingCapacity: true)
    }

    /// Drops everything written after the first `size` bytes, buffered or not, so that output that
    /// belonged to a rolled-back transaction disappears. A file shorter than `size` (replaced or cut by
    /// someone meanwhile, e.g. a rejects file moved away before a `--resume`) is kept as it is, not
    /// padded with zero bytes up to `size`. Only the buffer is dropped on a pipe or a device (what went
    /// to it cannot be taken back; `/dev/null` or `<(…)` as a rejects file must not fail a rollback or a
    /// resume). Throws `FileOutputError`.
    public func truncate(to size: Int64) throws {
        buffer.removeAll(keepingCapacity: true)
        guard ownsDescriptor else { return }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileOutputError.fromErrno(.write, path: path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw FileOutputError.fromErrno(.write, path: path) }
        let kept = min(size, Int64(end))
        if ftruncate(descriptor, off_t(kept)) != 0 || lseek(descriptor, off_t(kept), SEEK_SET) < 0 {
            throw FileOutputError.fromErrno(.write, path: path)
        }
        bytesWritten = kept
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try withSIGPIPEHeldBack {
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let base = raw.baseAddress.map { $0 + offset }
                    if let isCancelled, let base {
                        // A pipe's reader may have stopped reading: wait for room where a signal can end it.
                        let written = CancellableOutput.writeSome(
                            descriptor, base, raw.count - offset, isNonBlocking: isNonBlocking, isCancelled: isCancelled)
                        guard written >= 0 else {
                            guard errno == EINTR else { throw FileOutputError.fromErrno(.write, path: path) }
                            throw FileOutputError(
                                operation: .write, path: path, code: EINTR, reason: CancellableOutput.stoppedWaiting)
                        }
                        offset += written
                        bytesWritten += Int64(written)
                        continue
                    }
                    let written = writeBytes(descriptor, base, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        // A descriptor another program made non-blocking (standard output shared with a Node
                        // parent): wait for room, as a blocking one does (it failed after 64 KiB).
                        if errno == EAGAIN || errno == EWOULDBLOCK {
                            StandardStreams.waitForRoom(descriptor)
                            continue
                        }
                        throw FileOutputError.fromErrno(.write, path: path)
                    }
                    offset += written
                    bytesWritten += Int64(written)
                }
            }
        }
        if isRegularFile {
            let position = lseek(descriptor, 0, SEEK_CUR)
            if position >= 0 { bytesWritten = Int64(position) }
        }
    }
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
        Glibc.close(descriptor)
    #else
        Darwin.close(descriptor)
    #endif
}

