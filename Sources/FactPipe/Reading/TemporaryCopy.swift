#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A copy of an input in a temporary file, removed when released — for inputs that must be read by
/// position (a SQLite database) but come compressed or through a pipe that can be read only once.
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
        var template = Array((folder + "/factpipe-copy-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else {
            throw ReadError(source: name, kind: .io,
                            message: "cannot create a temporary copy in \(folder): \(String(cString: strerror(errno)))")
        }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(fd) }
        do throws(ReadError) {
            while let chunk = try nextBlock() {
                let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == chunk.count else {
                    let reason = String(cString: strerror(errno))
                    throw ReadError(
                        source: name, kind: .io, message: "cannot write the temporary copy \(path): \(reason)")
                }
            }
        } catch {
            unlink(path)
            throw error
        }
        self.path = path
    }

    deinit {
        unlink(path)
    }
}
