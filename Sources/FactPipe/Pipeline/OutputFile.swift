#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error writing an output file (rejects, exports): the path and what the system said.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// A buffered writer to a file descriptor, owning it (closed in `deinit`) unless it is standard output.
final class OutputFile {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20

    /// Creates or truncates `path` (`-` is standard output).
    /// - Throws: `OutputError` when the file cannot be created.
    init(path: String) throws(OutputError) {
        self.path = path
        if path == "-" {
            fd = 1
            ownsDescriptor = false
        } else {
            let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard opened >= 0 else {
                throw OutputError(path: path, message: "cannot create file: \(String(cString: strerror(errno)))")
            }
            fd = opened
            ownsDescriptor = true
        }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    func write(_ bytes: [UInt8]) throws(OutputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flush() }
    }

    func write(_ text: String) throws(OutputError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= bufferLimit { try flush() }
    }

    /// Hands everything buffered to the system.
    /// - Throws: `OutputError` on a write failure such as a full disk.
    func flush() throws(OutputError) {
        var written = 0
        let total = buffer.count
        while written < total {
            let result = buffer.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + written }, total - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                buffer.removeAll(keepingCapacity: true)
                throw OutputError(path: path, message: "cannot write: \(message)")
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and forces the data to disk.
    func sync() throws(OutputError) {
        try flush()
        if ownsDescriptor, fsync(fd) != 0 {
            throw OutputError(path: path, message: "cannot sync: \(String(cString: strerror(errno)))")
        }
    }
}

extension RecordDiagnostic {
    /// The diagnostic as one rejects-file line: source, line, offset, reason, message and the record.
    var rejectLine: String {
        var out: [UInt8] = []
        out.append(contentsOf: "{\"source\":".utf8)
        JSONText.appendQuoted(location.source, to: &out)
        out.append(contentsOf: ",\"line\":\(location.line),\"offset\":\(location.offset),\"reason\":".utf8)
        JSONText.appendQuoted(reason.rawValue, to: &out)
        out.append(contentsOf: ",\"message\":".utf8)
        JSONText.appendQuoted(message, to: &out)
        out.append(contentsOf: ",\"record\":".utf8)
        JSONText.appendQuoted(record, to: &out)
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
