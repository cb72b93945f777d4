import CLibPQ

/// A failure reported by PostgreSQL or libpq: the server it concerns (without the password), what was
/// being done, PostgreSQL's own message and its SQLSTATE code when the server sent one.
public struct PostgreSQLError: Error, Sendable, CustomStringConvertible {
    /// The server as `PostgreSQLAddress.description` shows it.
    public var server: String
    /// What factpipe was doing and PostgreSQL's reason, in one line.
    public var message: String
    /// The five-character SQLSTATE (`23505` unique violation, `28P01` wrong password, …); nil for a
    /// failure that never reached the server (refused connection, unknown host).
    public var sqlState: String?
    /// True when a stop signal ended a wait of factpipe's own (for another load's writer lock): the command was
    /// interrupted, not failed, as when it waits for a SQLite database's lock.
    public var wasInterrupted = false

    public init(server: String, message: String, sqlState: String? = nil, wasInterrupted: Bool = false) {
        self.server = server
        self.message = message
        self.sqlState = sqlState
        self.wasInterrupted = wasInterrupted
    }

    /// True when the server refused the statement for a unique index (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        "\(server): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// libpq's multi-line message as one line: `FATAL:  ` / `ERROR:  ` prefixes dropped, lines joined
    /// with `; `, but a line that goes on with the sentence before (indented and starting in lower case, as
    /// libpq wraps one) with a space.
    static func oneLine(_ text: String) -> String {
        var text = text
        for marker in ["FATAL:  ", "ERROR:  "] {
            while let range = text.range(of: marker) { text.replaceSubrange(range, with: "") }
        }
        var result = ""
        for line in text.split(whereSeparator: \.isNewline) {
            let isIndented = line.first == " " || line.first == "\t"
            var line = line.drop(while: { $0 == " " || $0 == "\t" })
            let isContinuation = isIndented && line.first?.isLowercase == true
            for prefix in ["FATAL:  ", "ERROR:  ", "ERROR: ", "FATAL: "] where line.hasPrefix(prefix) {
                line = line.dropFirst(prefix.count)
            }
            guard !line.isEmpty else { continue }
            if !result.isEmpty { result += isContinuation ? " " : "; " }
            result += line
        }
        return result
    }
}
