#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The rejects of an atomic load, kept in a hidden file of their own beside the rejects file until the
/// load commits, then appended to it (`publish`).
///
/// An atomic load writes its rejects as it reads (they may outgrow memory) but commits its facts only at
/// its end. Written straight into the rejects file, they stayed there when a `kill -9` stopped the load
/// before its commit, and its next run wrote them a second time. Spooled, they stay only in the spool,
/// which the next command writing into that folder removes (`StaleTemporaries`: its owner is gone); only
/// the moment of the append, just before the commit, can still leave them in the rejects file.
final class RejectsSpool {
    /// Where the load writes its rejects until it commits.
    let output: BufferedFileOutput
    /// The spool's path (`TemporaryName`, beside the rejects file).
    let path: String
    private let target: BufferedFileOutput

    /// A spool beside `target`, after removing the spools of loads that were killed there; nil when
    /// `target` is not a regular file of its own (standard output or error, a pipe, a device), which a
    /// load writes straight into.
    /// - Throws: `FileOutputError` when the spool cannot be created.
    init?(beside target: BufferedFileOutput) throws {
        guard target.ownsARegularFile else { return nil }
        let real = PathText.real(target.path) ?? target.path
        StaleTemporaries.sweep(besides: real)
        path = TemporaryName.make(for: real)
        output = try BufferedFileOutput(path: path)
        TemporaryFiles.register(path)
        self.target = target
    }

    deinit {
        discard()
    }

    /// Appends every reject spooled so far to the rejects file, and flushes it: done just before the load
    /// commits (a rollback after it cuts them again, as the rejects of a rolled-back load).
    /// - Throws: `FileOutputError` when the spool cannot be read back or the rejects file written.
    func publish() throws {
        try output.flush()
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileOutputError.fromErrno(.open, path: path) }
        defer { close(descriptor) }
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileOutputError.fromErrno(.write, path: path) }
            if count == 0 { break }
            try target.write(Array(block[..<count]))
            offset += off_t(count)
        }
        try target.flush()
    }

    /// Closes and removes the spool.
    func discard() {
        try? output.close()
        unlink(path)
        TemporaryFiles.forget(path)
    }
}
