#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A copy of an input in a temporary file, removed when released — for inputs that must be read by
/// position (a SQLite database) but come compressed or through a pipe that can be read only once.
///
/// The file is named as factpipe's temporaries are (`.factpipe-copy.factpipe-tmp-<owner>…` in `$TMPDIR`)
/// and noted in `TemporaryFiles` as it is made: a signal that ends the command while the copy is being
/// written (a pipe that stalls) removes it, and a copy a killed process left is removed by the next
/// copy's sweep of the folder. Blocks of zeros are skipped, not written (the file is sparse, as a
/// restored database is): a small compressed file that decodes to gigabytes of free pages takes no
/// more disk than its data.
final class TemporaryCopy {
    let path: String

    /// Writes everything `reader` decodes from its current position to a new temporary file.
    /// - Throws: `ReadError` when the input cannot be decoded or the copy cannot be written.
    convenience init(decoding reader: InputReader) throws(ReadError) {
        try self.init(name: reader.source) { () throws(ReadError) in try reader.nextRawBlock() }
    }

    /// Writes everything still to come from `source` (a pipe, say) to a new temporary file.
    /// - Throws: `ReadError` when the input cannot be read or the copy cannot be written.
    convenience init(copying source: FileByteSource) throws(ReadError) {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { block.deallocate() }
        try self.init(name: source.name) { () throws(ReadError) -> [UInt8]? in
            let got = try source.read(into: block)
            return got == 0 ? nil : Array(block[0..<got])
        }
    }

    private init(name: String, nextBlock: () throws(ReadError) -> [UInt8]?) throws(ReadError) {
        let folder = temporaryFolder()
        StaleTemporaries.sweep(folder: folder)
        let path = TemporaryName.make(for: folder + "/factpipe-copy")
        let fd = TemporaryFiles.create(path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else {
            throw ReadError(source: name, kind: .io,
                            message: "cannot create a temporary copy in \(folder): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        do throws(ReadError) {
            var size: off_t = 0
            while let chunk = try nextBlock() {
                let isWritten = chunk.withUnsafeBytes { bytes -> Bool in
                    // A block of zeros becomes a hole: the file is made longer, nothing is written.
                    Self.isZero(bytes) ? ftruncate(fd, size + off_t(bytes.count)) == 0
                        : pwrite(fd, bytes.baseAddress, bytes.count, size) == bytes.count
                }
                guard isWritten else {
                    throw ReadError(
                        source: name, kind: .io,
                        message: "cannot write the temporary copy \(path): \(String(cString: strerror(errno)))")
                }
                size += off_t(chunk.count)
            }
        } catch {
            Self.remove(path)
            throw error
        }
        self.path = path
    }

    deinit {
        Self.remove(path)
    }

    private static func remove(_ path: String) {
        unlink(path)
        TemporaryFiles.forget(path)
    }

    /// True when every byte of `bytes` is zero (and there is at least one).
    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        return base.load(as: UInt8.self) == 0 && memcmp(base, base + 1, bytes.count - 1) == 0
    }
}
