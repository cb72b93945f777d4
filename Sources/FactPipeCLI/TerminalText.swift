/// Stored text made safe to print: no character of a fact, a source or a path can drive a terminal.
///
/// What is escaped: control characters (Unicode category Cc: NUL, BEL, ESC, tab, line breaks, DEL,
/// the C1 controls), format characters (Cf: zero-width characters, direction marks and overrides,
/// U+FEFF) and the line and paragraph separators U+2028 and U+2029. Everything else prints as it is.
enum TerminalText {
    /// `text` for a table or any other output read by people: each character above written as
    /// `\u{…}` with its code point in hex (`IsA(Z\u{1b}c, Y).`).
    static func escaped(_ text: String) -> String {
        escaped(text, keepingLineFeeds: false)
    }

    /// As `escaped`, but line feeds stay: for messages whose own lines are broken on purpose.
    static func escapedKeepingLineFeeds(_ text: String) -> String {
        escaped(text, keepingLineFeeds: true)
    }

    private static func escaped(_ text: String, keepingLineFeeds: Bool) -> String {
        guard needsEscaping(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnprintable(scalar) && !(keepingLineFeeds && scalar == "\n") {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// JSON text with the characters above that JSON leaves as they are (DEL, C1, Cf, U+2028, U+2029;
    /// the C0 controls are escaped already) written as `\uXXXX` escapes: the same JSON value, nothing
    /// in it a terminal acts on. Only for JSON text, where such characters can only be inside strings.
    static func jsonEscaped(_ json: String) -> String {
        guard needsEscaping(json) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard scalar.value >= 0x20, isUnprintable(scalar) else {
                out.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            }
        }
        return String(out)
    }

    /// False for text of printable ASCII alone, the common case, found by one pass over its bytes.
    private static func needsEscaping(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 >= 0x7F }
    }

    private static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
