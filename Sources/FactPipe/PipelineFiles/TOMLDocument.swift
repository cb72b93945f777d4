/// A value read from a pipeline file, with the line it was on (for error messages).
struct TOMLValue: Sendable, Equatable {
    indirect enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case array([TOMLValue])
    }

    var kind: Kind
    var line: Int

    /// The TOML type's name, for messages.
    var typeName: String {
        switch kind {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .bool: return "a boolean"
        case .array: return "an array"
        }
    }
}

/// A syntax error in a pipeline file: the line and what is wrong.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// The subset of TOML that pipeline files use: `[table]` headers, `key = value` pairs with bare or
/// quoted keys, basic and literal strings, integers, floats, booleans, arrays (over several lines
/// too) and `#` comments. Dotted keys, inline tables, arrays of tables, multi-line strings and dates
/// are refused with the line where they appear.
struct TOMLDocument: Sendable {
    /// Key/value pairs of each table, in file order; the root table is `""`.
    private(set) var tables: [(name: String, line: Int, entries: [(key: String, value: TOMLValue)])] = [("", 0, [])]

    /// Parses `text`.
    /// - Throws: `TOMLError` with the line of the first problem.
    init(parsing text: String) throws(TOMLError) {
        var scanner = Scanner(Array(text.utf8))
        while true {
            scanner.skipBlankAndComments()
            guard let byte = scanner.peek() else { break }
            if byte == UInt8(ascii: "[") {
                let line = scanner.line
                scanner.advance()
                if scanner.peek() == UInt8(ascii: "[") { throw TOMLError(line: line, message: "arrays of tables are not supported") }
                scanner.skipSpaces()
                let name = try scanner.key()
                scanner.skipSpaces()
                guard scanner.peek() == UInt8(ascii: "]") else { throw TOMLError(line: line, message: "expected ']' after the table name") }
                scanner.advance()
                try scanner.endOfLine()
                if tables.contains(where: { $0.name == name }) {
                    throw TOMLError(line: line, message: "table [\(name)] is defined twice")
                }
                tables.append((name, line, []))
                continue
            }
            let line = scanner.line
            let key = try scanner.key()
            scanner.skipSpaces()
            if scanner.peek() == UInt8(ascii: ".") { throw TOMLError(line: line, message: "dotted keys are not supported") }
            guard scanner.peek() == UInt8(ascii: "=") else { throw TOMLError(line: line, message: "expected '=' after \(key)") }
            scanner.advance()
            scanner.skipSpaces()
            let value = try scanner.value()
            try scanner.endOfLine()
            let last = tables.count - 1
            if tables[last].entries.contains(where: { $0.key == key }) {
                throw TOMLError(line: line, message: "\(key) is given twice")
            }
            tables[last].entries.append((key, value))
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func advance() {
            if bytes[index] == 0x0A { line += 1 }
            index += 1
        }

        mutating func skipSpaces() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 { advance() }
        }

        mutating func skipBlankAndComments() {
            while let byte = peek() {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    advance()
                } else if byte == UInt8(ascii: "#") {
                    while let next = peek(), next != 0x0A { advance() }
                } else {
                    return
                }
            }
        }

        mutating func endOfLine() throws(TOMLError) {
            skipSpaces()
            if peek() == UInt8(ascii: "#") { while let next = peek(), next != 0x0A { advance() } }
            if peek() == 0x0D { advance() }
            guard peek() == nil || peek() == 0x0A else { throw TOMLError(line: line, message: "unexpected text after the value") }
        }

        mutating func key() throws(TOMLError) -> String {
            guard let first = peek() else { throw TOMLError(line: line, message: "expected a key") }
            if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") { return try string() }
            let start = index
            while let byte = peek(), Self.isBareKey(byte) { advance() }
            guard index > start else { throw TOMLError(line: line, message: "expected a key") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        static func isBareKey(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }

        /// Arrays nested deeper than this are refused: each level is a call, and a file of `[[[[…` would
        /// overflow the stack (a pipeline's values nest one level).
        static let deepestArray = 32

        mutating func value(depth: Int = 0) throws(TOMLError) -> TOMLValue {
            let at = line
            guard let first = peek() else { throw TOMLError(line: at, message: "expected a value") }
            switch first {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                return TOMLValue(kind: .string(try string()), line: at)
            case UInt8(ascii: "["):
                guard depth < Self.deepestArray else {
                    throw TOMLError(line: at, message: "arrays nested more than \(Self.deepestArray) deep")
                }
                advance()
                var items: [TOMLValue] = []
                while true {
                    skipBlankAndComments()
                    if peek() == UInt8(ascii: "]") { advance(); break }
                    items.append(try value(depth: depth + 1))
                    skipBlankAndComments()
                    if peek() == UInt8(ascii: ",") { advance(); continue }
                    guard peek() == UInt8(ascii: "]") else { throw TOMLError(line: line, message: "expected ',' or ']' in the array") }
                    advance()
                    break
                }
                return TOMLValue(kind: .array(items), line: at)
            case UInt8(ascii: "{"):
                throw TOMLError(line: at, message: "inline tables are not supported; use a [table]")
            default:
                let start = index
                while let byte = peek(), byte != 0x0A, byte != 0x0D, byte != UInt8(ascii: ","), byte != UInt8(ascii: "]"),
                      byte != UInt8(ascii: "#"), byte != 0x20, byte != 0x09 { advance() }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                if word == "true" { return TOMLValue(kind: .bool(true), line: at) }
                if word == "false" { return TOMLValue(kind: .bool(false), line: at) }
                // TOML puts an underscore only between two digits and allows no leading zero: `_1`, `1_`, `1__0`
                // and `01` were read as 1, 1, 10 and 1.
                let characters = Array(word)
                for (position, character) in characters.enumerated() where character == "_" {
                    guard position > 0, position + 1 < characters.count, characters[position - 1].isASCII,
                          characters[position - 1].isNumber, characters[position + 1].isASCII,
                          characters[position + 1].isNumber
                    else {
                        throw TOMLError(line: at, message: "\(word) is not a TOML value (an underscore in a number goes "
                            + "between two digits)")
                    }
                }
                let digits = word.filter { $0 != "_" }
                let magnitude = digits.first == "+" || digits.first == "-" ? digits.dropFirst() : Substring(digits)
                if magnitude.count > 1, magnitude.first == "0", magnitude.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw TOMLError(line: at, message: "\(word) is not a TOML value (an integer has no leading zero)")
                }
                if let integer = Int(digits) { return TOMLValue(kind: .integer(integer), line: at) }
                // Digits alone that `Int` refuses are too large (TOML integers are 64-bit): not a float.
                let unsigned = digits.first == "+" || digits.first == "-" ? digits.dropFirst() : Substring(digits)
                if !unsigned.isEmpty, unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw TOMLError(line: at, message: "\(word) is out of the range of a 64-bit integer")
                }
                if let float = Double(digits), digits.allSatisfy({ "0123456789+-.eE".contains($0) }) {
                    return TOMLValue(kind: .float(float), line: at)
                }
                throw TOMLError(line: at, message: word.isEmpty ? "expected a value" : "\(word) is not a TOML value "
                    + "(strings need quotes; dates are not supported)")
            }
        }

        mutating func string() throws(TOMLError) -> String {
            let at = line
            let quote = bytes[index]
            if index + 2 < bytes.count, bytes[index + 1] == quote, bytes[index + 2] == quote {
                throw TOMLError(line: at, message: "multi-line strings are not supported")
            }
            advance()
            var out: [UInt8] = []
            while let byte = peek() {
                if byte == 0x0A { break }
                // TOML allows no control character but a tab in a string: written, a NUL came out in `--json`.
                if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    throw TOMLError(line: at, message: "a string holds a control character (byte 0x"
                        + String(byte, radix: 16, uppercase: true) + "); write it as an escape (\\u0000)")
                }
                advance()
                if byte == quote { return String(decoding: out, as: UTF8.self) }
                if byte == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") {
                    guard let escaped = peek() else { break }
                    advance()
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    default: throw TOMLError(line: at, message: "unsupported escape \\\(Character(Unicode.Scalar(escaped)))")
                    }
                    continue
                }
                out.append(byte)
            }
            throw TOMLError(line: at, message: "string not closed on its line")
        }
    }
}
