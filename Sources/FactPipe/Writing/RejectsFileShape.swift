#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a rejects file factpipe wrote looks: empty, or lines that begin `{"source":"…","line":N`.
enum RejectsFileShape {
    /// True when the regular file at `path` is empty or its first line begins as a reject line does.
    static func isRejectsFile(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return false }
        if status.st_size == 0 { return true }
        var head = [UInt8](repeating: 0, count: 8 * 1024)
        let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        return beginsAsRejectLine(head[..<count])
    }

    /// True when `bytes` begin `{"source":`, a JSON string, `,"line":` and a digit.
    static func beginsAsRejectLine(_ bytes: ArraySlice<UInt8>) -> Bool {
        let opening = Array("{\"source\":\"".utf8)
        guard bytes.starts(with: opening) else { return false }
        var index = bytes.startIndex + opening.count
        while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == 0x0A { return false }
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard index < bytes.endIndex else { return false }
        let rest = bytes[(index + 1)...]
        let line = Array(",\"line\":".utf8)
        guard rest.starts(with: line), let digit = rest.dropFirst(line.count).first else { return false }
        return digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9")
    }
}
