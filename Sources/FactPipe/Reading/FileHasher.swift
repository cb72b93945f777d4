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
        guard path != "-" else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ReadError(source: path, kind: .cannotOpen, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let source = try FileByteSource(path: path)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while try source.read(into: block) > 0 {}
        return source.finishDigest()
    }
}
