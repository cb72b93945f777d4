#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a resumed load may cut its rejects file back to the size its last checkpoint recorded.
///
/// Lines past that size were written by a batch that never committed, and the resume cuts them, since
/// it writes them again. But the file may have been written since by another load naming the same path
/// (which starts the file afresh, or appends to it): cut at the old size, it would lose that load's
/// rejects. So every line past the recorded size must be one the interrupted batches could have
/// written: a reject of the same source, from the checkpoint's line on. The last line may be cut short
/// (a write the kill interrupted).
enum RejectsResume {
    /// Why the rejects file at `path` must not be cut back to `offset` for a resume of `source` from line
    /// `fromLine`, naming the first line past `offset` that is not the interrupted load's; nil when it may
    /// (also when the file is shorter than `offset`, missing, or not a regular file: nothing is cut then).
    /// A file that exists but cannot be read is not cut either: the reason says why.
    static func refusal(path: String, offset: Int64, source: String, fromLine: Int) -> String? {
        guard path != "-" else { return nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            return errno == ENOENT ? nil : unreadable(path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return unreadable(path) }
        guard (status.st_mode & S_IFMT) == S_IFREG, Int64(status.st_size) > offset else { return nil }

        var expected: [UInt8] = Array("{\"source\":".utf8)
        JSONText.appendQuoted(source, to: &expected)
        expected.append(contentsOf: ",\"line\":".utf8)
        var lines = LineHeads(keeping: expected.count + 24)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var position = offset
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 {
                if errno == EINTR { continue }
                return unreadable(path)
            }
            if count == 0 { break }
            for byte in chunk[..<count] {
                guard let line = lines.take(byte) else { continue }
                if !isOwn(line.head, complete: true, expected: expected, fromLine: fromLine) {
                    return describe(line, at: offset + line.start, path: path)
                }
            }
            position += Int64(count)
        }
        if let last = lines.unfinished, !isOwn(last.head, complete: false, expected: expected, fromLine: fromLine) {
            return describe(last, at: offset + last.start, path: path)
        }
        return nil
    }

    /// True when `head` (the first bytes of a line) is a rejects line of the expected source from line
    /// `fromLine` on; a line the file ends inside (`complete` false) may also be any start of one.
    private static func isOwn(_ head: [UInt8], complete: Bool, expected: [UInt8], fromLine: Int) -> Bool {
        guard head.starts(with: expected) else {
            return !complete && expected.starts(with: head)
        }
        let digits = head[expected.count...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, digits.count <= 18 else { return false }
        let afterDigits = expected.count + digits.count
        if afterDigits == head.count { return !complete }
        guard head[afterDigits] == UInt8(ascii: ",") else { return false }
        let line = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return line >= fromLine
    }

    private static func unreadable(_ path: String) -> String {
        "the rejects file \(path) cannot be read to see what its interrupted batches wrote: "
            + String(cString: strerror(errno))
    }

    private static func describe(_ line: LineHeads.Line, at byte: Int64, path: String) -> String {
        let shown = String(decoding: line.head.prefix(60), as: UTF8.self)
        return "the rejects file \(path) holds, at byte \(byte), a line its interrupted batches did not write "
            + "(\(shown)…); another load may have written the file since. Move it away or name another "
            + "--rejects, and resume again"
    }
}

/// Cuts bytes into lines, keeping the first bytes of each and where it starts.
private struct LineHeads {
    struct Line {
        var start: Int64
        var head: [UInt8]
    }

    private let keeping: Int
    private var current = Line(start: 0, head: [])
    private var consumed: Int64 = 0

    init(keeping: Int) {
        self.keeping = keeping
    }

    /// Takes one byte; returns the line it ends (without its newline), if it is one.
    mutating func take(_ byte: UInt8) -> Line? {
        consumed += 1
        if byte == UInt8(ascii: "\n") {
            let line = current
            current = Line(start: consumed, head: [])
            return line
        }
        if current.head.count < keeping { current.head.append(byte) }
        return nil
    }

    /// The line the bytes ended inside, if they did not end with a newline.
    var unfinished: Line? {
        consumed > current.start ? current : nil
    }
}
