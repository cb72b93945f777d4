import FactPipe
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes to standard output and standard error through their file descriptors.
///
/// A write to standard output that fails (a full disk, `> /dev/full`, a closed pipe) is remembered, so
/// that the command ends with exit 1 saying so instead of 0 with its output lost (`failedOutput`).
enum Standard {
    private static let outputFailure = Mutex<String?>(nil)

    /// True under `TERM=dumb`: a terminal that shows control sequences as they are (no bold, no cursor moves).
    static var terminalIsDumb: Bool {
        guard let value = getenv("TERM") else { return false }
        return String(cString: value) == "dumb"
    }

    /// Why a write to standard output failed, the first time one did; nil while none has.
    static var failedOutput: String? { outputFailure.withLock { $0 } }

    static func output(_ text: String, newline: Bool = true) {
        write(fd: 1, newline ? text + "\n" : text)
    }

    /// Writes a `--json` object to standard output with every character a terminal acts on that JSON leaves as
    /// it is (C1 controls, direction overrides) written as a `\u` escape (`TerminalText.jsonEscaped`): the same
    /// JSON, safe on a terminal whatever names it holds.
    static func json(_ text: String) {
        output(TerminalText.jsonEscaped(PostgreSQLAddress.redactingURLs(in: text)))
    }

    /// Writes `text` to standard error with every character that could drive a terminal escaped but the
    /// line breaks it was written with (`TerminalText.escapedKeepingLineFeeds`): a message quotes paths,
    /// table names, a manifest's fields and other text that is not factpipe's own.
    static func error(_ text: String, newline: Bool = true) {
        // A PostgreSQL URL given where a file was expected is named by the message about that file: never
        // with its password.
        let safe = TerminalText.escapedKeepingLineFeeds(PostgreSQLAddress.redactingURLs(in: text))
        write(fd: 2, newline ? safe + "\n" : safe)
    }

    /// Writes factpipe's own terminal control (the progress line's carriage return and line erase) to
    /// standard error as it is: only for text made of factpipe's own figures.
    static func errorControl(_ text: String) {
        write(fd: 2, text)
    }

    private static func write(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, raw.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                // Made non-blocking by another program that shares it (a Node parent): wait for room.
                StandardStreams.waitForRoom(fd)
                continue
            }
            if n <= 0 {
                let reason = n < 0 ? String(cString: strerror(errno)) : "nothing was written"
                if fd == 1 { outputFailure.withLock { $0 = $0 ?? reason } }
                return
            }
            offset += n
        }
    }
}

/// Numbers for people.
enum Format {
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// `count` followed by the noun, singular for exactly one: "1 record", "2 records".
    static func count(_ value: Int, _ singular: String, plural: String? = nil) -> String {
        count(value) + " " + (value == 1 ? singular : plural ?? singular + "s")
    }

    static func bytes(_ value: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1000 && unit < units.count - 1 { amount /= 1000; unit += 1 }
        return unit == 0 ? "\(value) B" : String(format1: amount) + " " + units[unit]
    }

    static func seconds(_ value: Double) -> String {
        String(format1: value, decimals: value < 10 ? 2 : 1)
    }
}

extension String {
    /// `value` with a fixed number of decimals, without Foundation.
    init(format1 value: Double, decimals: Int = 1) {
        let scale = [1.0, 10, 100, 1000][Swift.min(decimals, 3)]
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...]
            if fraction.count < decimals { text += String(repeating: "0", count: decimals - fraction.count) }
            if decimals == 0 { text = String(text[..<dot]) }
        }
        self = text
    }
}
