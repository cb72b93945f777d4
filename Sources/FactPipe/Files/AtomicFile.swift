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
public enum AtomicFile {
    /// Writes `text` to `path` atomically.
    /// - Throws: `FileOutputError` when the temporary file cannot be written or renamed; the
    ///   target is then left as it was and the temporary file removed.
    public static func write(_ text: String, to path: String) throws(FileOutputError) {
        StaleTemporaries.sweep(besides: path)
        let temporary = TemporaryName.make(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(.open, path) }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let error = failure(.write, path)
                close(descriptor)
                throw error
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let error = failure(.write, path)
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw failure(.close, path) }
        guard rename(temporary, path) == 0 else { throw failure(.close, path) }
        ok = true
    }

    private static func failure(_ operation: FileOutputError.Operation, _ path: String) -> FileOutputError {
        let code = errno
        return FileOutputError(operation: operation, path: path, code: code, reason: String(cString: strerror(code)))
    }
}
