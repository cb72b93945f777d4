#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a rejects file factpipe wrote looks: empty, or lines that begin `{"source":"…","line":N`.
enum RejectsFileShape {
    /// True when the regular file at `path` is empty or its first line begins as a reject line does.
    static func isRejectsFile(_ path: String) -> Bool {
        guard let head = FileHead.bytes(path, count: 8 * 1024) else { return false }
        return head.isEmpty || beginsAsRejectLine(head)
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
