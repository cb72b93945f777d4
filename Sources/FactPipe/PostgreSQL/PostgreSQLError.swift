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

    public init(server: String, message: String, sqlState: String? = nil) {
        self.server = server
        self.message = message
        self.sqlState = sqlState
    }

    /// True when the server refused the statement for a unique index (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        "\(server): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// libpq's multi-line message as one line: `FATAL:  ` / `ERROR:  ` prefixes dropped, lines joined.
    static func oneLine(_ text: String) -> String {
        var text = text
        for marker in ["FATAL:  ", "ERROR:  "] {
            while let range = text.range(of: marker) { text.replaceSubrange(range, with: "") }
        }
        return text.split(whereSeparator: \.isNewline)
            .map { line -> Substring in
                var line = line.drop(while: { $0 == " " || $0 == "\t" })
                for prefix in ["FATAL:  ", "ERROR:  ", "ERROR: ", "FATAL: "] where line.hasPrefix(prefix) {
                    line = line.dropFirst(prefix.count)
                }
                return line
            }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}
