#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Replaces a file's contents all at once: readers see the old file or the new one, never half.
///
/// The text goes to a hidden temporary file in the same directory (`TemporaryName`, so a textfile
/// collector that reads `*.prom` never picks it up), is flushed to disk, and is renamed over the
/// target. What a killed command left there is removed first (`StaleTemporaries`).
///
/// A symlink is written through (its target is replaced, the link stays: a metrics file another tool
/// manages by a link), unless another user made it (`ForeignSymlink`); a path that is not a regular file (`/dev/null`, a FIFO) is written in place, as it
/// cannot be replaced: renaming over it swapped a device for a file. A path that names standard output or
/// error (`/dev/stdout`, or the log file it was sent to) is written through the stream
/// (`StandardStreams.descriptor(sameAs:)`).
public enum AtomicFile {
    /// Writes `text` to `path` atomically.
    /// - Throws: `FileOutputError` when the temporary file cannot be written or renamed; the
    ///   target is then left as it was and the temporary file removed.
    public static func write(_ text: String, to path: String) throws(FileOutputError) {
        if let closed = StandardStreams.closedStream(namedBy: path) {
            throw FileOutputError(operation: .open, path: path, code: EBADF, reason: closed)
        }
        if let stream = StandardStreams.descriptor(sameAs: path) {
            // Standard output or error, or the file they go to: appended to through the stream.
            return try writeAll(Array(text.utf8), to: stream, path, closing: false)
        }
        if let problem = ForeignSymlink.problem(path) {
            throw FileOutputError(operation: .open, path: path, code: EPERM, reason: problem)
        }
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            return try writeInPlace(Array(text.utf8), to: path)
        }
        let target = PathText.symlinkTarget(path) != nil ? PathText.real(path) ?? path : path
        StaleTemporaries.sweep(besides: target)
        let temporary = TemporaryName.make(for: target)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(.open, path) }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        try writeAll(Array(text.utf8), to: descriptor, path)
        guard fsync(descriptor) == 0 else {
            let error = failure(.write, path)
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw failure(.close, path) }
        guard rename(temporary, target) == 0 else { throw failure(.close, path) }
        ok = true
    }

    /// Writes `bytes` into what `path` already is (a device, a FIFO, standard output). A FIFO nobody
    /// reads fails at once instead of waiting for a reader: the report or metrics of an `import` or `run`
    /// are written after the load, with Ctrl-C set aside, and such a wait could only be ended by SIGKILL.
    private static func writeInPlace(_ bytes: [UInt8], to path: String) throws(FileOutputError) {
        let descriptor = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            guard errno == ENXIO else { throw failure(.open, path) }
            throw FileOutputError(operation: .open, path: path, code: ENXIO, reason: "no process reads this FIFO")
        }
        // Blocking again for the write itself: a reader that is there gets every byte.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        try writeAll(bytes, to: descriptor, path)
        guard close(descriptor) == 0 else { throw failure(.close, path) }
    }

    /// Writes all of `bytes` to `descriptor`; on a failure closes it (unless `closing` is false) and throws
    /// the error for `path`.
    private static func writeAll(
        _ bytes: [UInt8], to descriptor: Int32, _ path: String, closing: Bool = true
    ) throws(FileOutputError) {
        try withSIGPIPEHeldBack { () throws(FileOutputError) in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw in
                    writeBytes(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    let error = failure(.write, path)
                    if closing { close(descriptor) }
                    throw error
                }
                offset += written
            }
        }
    }

    private static func failure(_ operation: FileOutputError.Operation, _ path: String) -> FileOutputError {
        let code = errno
        return FileOutputError(operation: operation, path: path, code: code, reason: String(cString: strerror(code)))
    }
}
