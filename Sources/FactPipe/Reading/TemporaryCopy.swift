#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A decoded copy of a compressed input in a temporary file, removed when released — for inputs
/// that must be read by position, such as a compressed SQLite database.
final class TemporaryCopy {
    let path: String

    /// Writes everything `reader` decodes from its current position to a new temporary file.
    /// - Throws: `ReadError` when the input cannot be decoded or the copy cannot be written.
    init(decoding reader: InputReader) throws(ReadError) {
        let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((folder + "/factpipe-copy-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else {
            throw ReadError(source: reader.source, kind: .io,
                            message: "cannot create a temporary copy in \(folder): \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(fd) }
        while let chunk = try reader.nextRawBlock() {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == chunk.count else {
                unlink(path)
                throw ReadError(source: reader.source, kind: .io,
                                message: "cannot write the temporary copy \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit {
        unlink(path)
    }
}
