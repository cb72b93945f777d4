import CLibPQ

/// A `--db` value that names a PostgreSQL database, and what of it may be shown.
///
/// A `postgresql://` or `postgres://` URL (libpq's URI form) selects PostgreSQL; anything else is a
/// SQLite path. libpq's `key=value` form is not taken as `--db` (a file may be named `host=x`); its
/// settings are given through the `PG*` environment variables instead (`postgresql://` alone takes
/// every part from them), and `~/.pgpass` supplies passwords, as for `psql`.
///
/// The address is shown only as `description`: user, host, port and database, never the password,
/// whether it came in the URL's user part or as a `password=` parameter.
public struct PostgreSQLAddress: Sendable, CustomStringConvertible {
    /// The URL as given (with its password, if any): only ever passed to libpq.
    let connectionString: String

    /// The address in `text`, or nil when `text` is not a PostgreSQL URL. The scheme is matched in any
    /// case and given to libpq in lower case, the only one it reads as a URL (it would take
    /// `Postgres://…` whole for a database name, and a server would quote it back, password and all).
    public init?(_ text: String) {
        guard Self.isPostgreSQL(text), let scheme = text.range(of: "://") else { return nil }
        connectionString = text[..<scheme.lowerBound].lowercased() + text[scheme.lowerBound...]
    }

    /// True when `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgreSQL(_ text: String) -> Bool {
        let lower = text.prefix(16).lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    /// `postgresql://user@host:port/dbname`, from what libpq reads out of the URL (no password, no other
    /// parameters); parts the URL leaves to the environment or libpq's defaults are left out.
    public var description: String {
        Self.redacted(connectionString)
    }

    /// `text` without its password, for any message: the libpq parse of a URL, or when libpq cannot parse
    /// it, the URL with its user-info password and `password=` parameter values blanked.
    public static func redacted(_ text: String) -> String {
        guard isPostgreSQL(text) else { return text }
        // libpq ends the user info at the first `@` or `/`, which would show the rest of such a password as
        // host, port or database.
        if hasAmbiguousUserInfo(text) { return blankingPassword(text) }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &error) else {
            if let error { PQfreemem(error) }
            return blankingPassword(text)
        }
        defer { PQconninfoFree(options) }
        var parts: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parts[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        var result = "postgresql://"
        if let user = parts["user"], !user.isEmpty { result += user + "@" }
        if let host = parts["host"] ?? parts["hostaddr"] {
            result += host.contains(":") && !host.contains(",") ? "[\(host)]" : host
        }
        if let port = parts["port"], !port.isEmpty { result += ":" + port }
        if let dbname = parts["dbname"], !dbname.isEmpty { result += "/" + dbname }
        return result
    }

    /// True when libpq would read part of a user name or password as something else: the URL's authority
    /// holds more than one `@` (an `@` not written as `%40`, split at the first one, so that the rest of
    /// the password becomes the host), or an `@` comes after a `/` (a `/` not written as `%2F` ends the
    /// authority, so that the password becomes host, port and database name, and an error quotes them), or
    /// the user info goes on past a `?` (a `?` not written as `%3F` ends the authority: of
    /// `u:se@cret?x@host/db`, an error quoted `cret?x` as host and query; see `userInfoEndInQuery`).
    public static func hasAmbiguousUserInfo(_ text: String) -> Bool {
        guard let scheme = text.range(of: "://") else { return false }
        let rest = text[scheme.upperBound...]
        let beforeQuery = rest[..<(rest.firstIndex(of: "?") ?? rest.endIndex)]
        let authorityEnd = beforeQuery.firstIndex(of: "/") ?? beforeQuery.endIndex
        if userInfoEndInQuery(rest) != nil { return true }
        // libpq takes the user info up to the first `@` before any `/`, a `?` included: a second `@` there
        // (`u:a?b@c=d@host/db`) is read as part of the host, which an error quotes.
        if rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)].filter({ $0 == "@" }).count > 1 { return true }
        return beforeQuery[..<authorityEnd].filter { $0 == "@" }.count > 1 || beforeQuery[authorityEnd...].contains("@")
    }

    /// Where a password holding a `?` ends: when user info comes before the first `?` and the text after it
    /// reaches an `@` before any `=` (a query is `keyword=value` pairs, so `?x@host` is no query but the
    /// rest of the password), that `@`'s last one before the next `/`; nil otherwise (`?application_name=me@corp/etl`
    /// and `?sslrootcert=/home/me@corp/ca.pem` are queries).
    private static func userInfoEndInQuery(_ text: Substring) -> Substring.Index? {
        guard let question = text.firstIndex(of: "?"), text[..<question].contains("@") else { return nil }
        let query = text[text.index(after: question)...]
        guard let at = query.firstIndex(of: "@"), !query[..<at].contains("=") else { return nil }
        return query[..<(query[at...].firstIndex(of: "/") ?? query.endIndex)].lastIndex(of: "@")
    }

    /// Where the user info of `text` ends: its last `@` before any `?` (so that a password holding a `/`
    /// or `@` written as such is blanked whole), or the last `@` after it that a `/` follows (a `?` in the
    /// password); nil when there is none.
    private static func userInfoEnd(_ text: Substring) -> Substring.Index? {
        userInfoEndInQuery(text) ?? text[..<(text.firstIndex(of: "?") ?? text.endIndex)].lastIndex(of: "@")
    }

    /// The password texts in the URL as written (user-info part and `password=` values, still
    /// percent-encoded), so that a message quoting them can blank them.
    static func writtenPasswords(_ text: String) -> [String] {
        var passwords: [String] = []
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            if let at = userInfoEnd(rest), let colon = rest[..<at].firstIndex(of: ":") {
                passwords.append(String(rest[rest.index(after: colon)..<at]))
            }
        }
        if let query = text.firstIndex(of: "?") {
            for parameter in text[text.index(after: query)...].split(separator: "&")
            where parameter.lowercased().hasPrefix("password=") {
                passwords.append(String(parameter.dropFirst("password=".count)))
            }
        }
        return passwords.filter { !$0.isEmpty }
    }

    /// `text` with `%XX` sequences decoded, or nil when one is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            guard let byte else { return nil }
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x41...0x46: return byte - 0x41 + 10
            case 0x61...0x66: return byte - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The URL with `user:password@` shortened to `user@` and every `password=` parameter value dropped.
    /// `message` with the password taken out of every `postgres://` or `postgresql://` URL in it: a URL given
    /// where a file was expected (`export -o URL`, `verify URL`) is named by the message about that file.
    /// Also a URL spelt as other programs spell it (`jdbc:postgresql://…`, `postgresql+psycopg2://…`,
    /// `postgresql:/user:pw@host`), and every `password=` value (a `key=value` connection string's): given
    /// where a file was expected, or as a `--db` that is none of factpipe's forms, each was echoed whole.
    ///
    /// Words end at spaces, line breaks and double quotes, so that the text may be JSON (an `--json` object, a
    /// report) and stays JSON: cut at spaces alone, one "word" of compact JSON ran across keys and values, and a
    /// `password=` in one value (a fact's `source` URL that `stats --json` lists) blanked the rest of the object.
    public static func redactingURLs(in message: String) -> String {
        guard message.range(of: "postgres", options: .caseInsensitive) != nil
            || message.range(of: "password=", options: .caseInsensitive) != nil
        else { return message }
        var result = ""
        var start = message.startIndex
        for index in message.indices where wordEnds.contains(message[index]) {
            result += redactingWord(message[start..<index])
            result.append(message[index])
            start = message.index(after: index)
        }
        result += redactingWord(message[start...])
        return result
    }

    /// What ends a word for `redactingURLs`.
    private static let wordEnds: Set<Character> = [" ", "\"", "\n", "\r", "\t", "\r\n"]

    /// One word of `redactingURLs`, its password taken out.
    private static func redactingWord(_ word: Substring) -> String {
        // `:\/` as JSON writers that escape `/` write it.
        if let scheme = word.range(of: "postgres", options: .caseInsensitive),
            word[scheme.lowerBound...].contains(":/") || word[scheme.lowerBound...].contains(":\\/")
        {
            return String(word[..<scheme.lowerBound]) + blankingPassword(String(word[scheme.lowerBound...]))
        }
        if word.range(of: "password=", options: .caseInsensitive) != nil { return blankingPassword(String(word)) }
        return String(word)
    }

    /// True when libpq reads `text` as a connection string of its `keyword=value` form (every keyword
    /// one it knows); a URL is not asked about.
    public static func isConnectionString(_ text: String) -> Bool {
        guard text.contains("="), !isPostgreSQL(text) else { return false }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &error) else {
            if let error { PQfreemem(error) }
            return false
        }
        PQconninfoFree(options)
        return true
    }

    static func blankingPassword(_ text: String) -> String {
        // What libpq cannot read, or reads otherwise than written, is shown as its user name (up to the
        // first `:` of the user info: a user name holds no `:`) and what follows the last `@`: a password,
        // wherever its `@`, `/`, `?` or `#` cut it, lies between the two.
        var shown = text
        if let colon = text.range(of: ":/") ?? text.range(of: ":\\/") {
            // `://`, or `:/` as a URL mistyped with one slash (which libpq does not read, and the message quotes),
            // or `:\/\/` as JSON that escapes `/` writes it.
            let authority = text[colon.lowerBound...].dropFirst().drop { $0 == "/" || $0 == "\\" }.startIndex
            let scheme = colon.lowerBound..<authority
            let rest = text[scheme.upperBound...]
            if let lastAt = rest.lastIndex(of: "@") {
                let userEnd = rest[..<lastAt].firstIndex(of: ":") ?? lastAt
                shown = String(text[..<scheme.upperBound]) + rest[..<userEnd] + rest[lastAt...]
            }
        }
        // And every `password=` value, wherever it stands.
        var searchFrom = shown.startIndex
        while let range = shown.range(of: "password=", options: .caseInsensitive, range: searchFrom..<shown.endIndex) {
            let valueEnd = shown[range.upperBound...].firstIndex(of: "&") ?? shown.endIndex
            shown.replaceSubrange(range.upperBound..<valueEnd, with: "…")
            searchFrom = shown.index(range.lowerBound, offsetBy: "password=…".count)
        }
        return shown
    }

    /// True when libpq reads `text` (`PQconninfoParse`): a URL it cannot read fails every connection with a
    /// message that may quote the part it could not read, a password's part included.
    public static func isReadableByLibpq(_ text: String) -> Bool {
        libpqParseError(text) == nil
    }

    /// Why libpq cannot read `text`, with what its message quotes (`"s3cret%zz"`, which may be a password's
    /// part) left out as `"…"`; nil when it reads it.
    public static func libpqParseError(_ text: String) -> String? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &error) else {
            defer { if let error { PQfreemem(error) } }
            let reason = error.map { String(cString: $0) } ?? "unreadable"
            let parts = reason.trimmingASCIIWhitespace().split(separator: "\"", omittingEmptySubsequences: false)
            return parts.enumerated().map { $0.offset % 2 == 1 ? "…" : String($0.element) }.joined(separator: "\"")
        }
        PQconninfoFree(options)
        return nil
    }
}
