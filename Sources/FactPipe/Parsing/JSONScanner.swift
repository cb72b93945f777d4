/// A JSON value found by `JSONScanner`: scalars decoded, containers kept as their raw text range.
enum JSONValue: Equatable {
    case string(String)
    /// A number: its value and its exact text.
    case number(Double, String)
    case bool(Bool)
    case null
    /// An object or array: the byte range of its text in the scanned buffer.
    case object(Range<Int>)
    case array(Range<Int>)
}

/// Why JSON text was refused, with the 0-based byte index where scanning stopped.
struct JSONSyntaxError: Error, Equatable {
    var index: Int
    var message: String
}

/// A hand-written JSON scanner over UTF-8 bytes (already checked to be valid UTF-8).
///
/// It decodes the members of one object and validates nested values without building them, which
/// is all an NDJSON fact line needs; Foundation's JSON APIs are 16–50× slower on this path.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index: Int
    private let end: Int
    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    static let maxDepth = 64
    /// Refuse a name given twice in an object inside the scanned one (see `skipContainer`); a restore keeps
    /// what a snapshot holds, written by an earlier release that stored such objects as given.
    var refusesRepeatedNames = true

    init(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>? = nil) {
        self.bytes = bytes
        self.index = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    /// Scans one object and calls `member` with each key and value, in order.
    /// - Throws: `JSONSyntaxError` for anything that is not one well-formed object (trailing text included).
    mutating func scanObject(_ member: (String, JSONValue) -> Void) throws(JSONSyntaxError) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"), "expected '{' at the start of a JSON object")
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a quoted member name") }
                let key = try scanString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' after member name")
                let value = try scanValue(depth: 1)
                member(key, value)
                skipWhitespace()
                guard let next = peek() else { throw fail("object not closed") }
                index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { index -= 1; throw fail("expected ',' or '}'") }
            }
        }
        skipWhitespace()
        guard index == end else { throw fail("text after the JSON object") }
    }

    /// Scans one object and returns its members in order.
    /// - Throws: `JSONSyntaxError` for anything that is not one well-formed object.
    mutating func scanMembers() throws(JSONSyntaxError) -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        try scanObject { key, value in members.append((key, value)) }
        return members
    }

    /// Scans an array (at its opening bracket) whose elements are strings or numbers, as their texts.
    /// - Throws: `JSONSyntaxError` for other element types or malformed JSON.
    mutating func scanScalarArray() throws(JSONSyntaxError) -> [String] {
        skipWhitespace()
        try expect(UInt8(ascii: "["), "expected '['")
        var items: [String] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return items }
        while true {
            switch try scanValue(depth: 1) {
            case .string(let text): items.append(text)
            case .number(_, let raw): items.append(raw)
            default: throw fail("array elements must be strings or numbers")
            }
            skipWhitespace()
            guard let next = peek() else { throw fail("array not closed") }
            index += 1
            if next == UInt8(ascii: "]") {
                skipWhitespace()
                guard index == end else { throw fail("text after the array") }
                return items
            }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
        }
    }

    /// Scans one object, at any depth checked as a nested one is (`skipContainer`: a name given twice refused
    /// unless `refusesRepeatedNames` is off), with nothing after it; nil when it is one such object, else why
    /// not (the syntax error's message: a name given twice, nesting past 64 levels, …).
    mutating func objectAloneProblem() -> String? {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { return "it does not start with {" }
        do {
            _ = try scanValue(depth: 1)
        } catch {
            return error.message
        }
        skipWhitespace()
        return index == end ? nil : "more follows the object"
    }

    /// Scans any JSON value; containers are validated and returned as ranges.
    mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard let first = peek() else { throw fail("expected a value") }
        switch first {
        case UInt8(ascii: "\""):
            return .string(try scanString())
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = index
            try skipContainer(depth: depth)
            return first == UInt8(ascii: "{") ? .object(start..<index) : .array(start..<index)
        case UInt8(ascii: "t"):
            try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null"); return .null
        default:
            return try scanNumber()
        }
    }

    // MARK: Pieces

    @inline(__always) private func peek() -> UInt8? { index < end ? bytes[index] : nil }

    private func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(index: index, message: message) }

    @inline(__always) private mutating func skipWhitespace() {
        while index < end {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(JSONSyntaxError) {
        guard peek() == byte else { throw fail(message) }
        index += 1
    }

    private mutating func expectWord(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard end - index >= count else { throw fail("unexpected end of JSON") }
        let matches = word.withUTF8Buffer { w in (0..<count).allSatisfy { bytes[index + $0] == w[$0] } }
        guard matches else { throw fail("invalid literal") }
        index += count
    }

    private mutating func scanNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let lead = peek(), lead >= 0x30 && lead <= 0x39 else { throw fail("invalid value") }
        if lead == 0x30 { index += 1 } else { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek(), digit >= 0x30 && digit <= 0x39 else { throw fail("digit expected after '.'") }
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), digit >= 0x30 && digit <= 0x39 else { throw fail("digit expected in exponent") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text) else { throw JSONSyntaxError(index: start, message: "invalid number") }
        return .number(value, text)
    }

    @inline(__always) private mutating func skipDigits() {
        while index < end, bytes[index] >= 0x30 && bytes[index] <= 0x39 { index += 1 }
    }

    /// Scans a quoted string (at its opening quote) and returns it decoded.
    mutating func scanString() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in string") }
            index += 1
        }
        var decoded = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            }
            if byte < 0x20 { throw fail("control character in string") }
            if byte != UInt8(ascii: "\\") {
                decoded.append(byte)
                index += 1
                continue
            }
            index += 1
            guard let escape = peek() else { break }
            index += 1
            switch escape {
            case UInt8(ascii: "\""): decoded.append(0x22)
            case UInt8(ascii: "\\"): decoded.append(0x5C)
            case UInt8(ascii: "/"): decoded.append(0x2F)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try scanHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard end - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    else { throw fail("lone high surrogate") }
                    index += 2
                    let low = try scanHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone low surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                decoded.append(contentsOf: String(Character(unicode)).utf8)
            default:
                index -= 1
                throw fail("invalid escape")
            }
        }
        throw fail("string not closed")
    }

    private mutating func scanHex4() throws(JSONSyntaxError) -> UInt32 {
        guard end - index >= 4 else { throw fail("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `name` in quotes for a message: at most 40 bytes of it, control characters escaped.
    private static func quotedName(_ name: [UInt8]) -> String {
        let text = String(decoding: name.prefix(40), as: UTF8.self)
        return text.debugDescription
    }

    /// Skips an object or array (at its opening bracket), validating everything inside.
    private mutating func skipContainer(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw fail("JSON nested deeper than \(Self.maxDepth) levels") }
        let isObject = bytes[index] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipWhitespace()
        if peek() == close { index += 1; return }
        // A name given twice in one object keeps one value in PostgreSQL's jsonb (the last) and is read as
        // the first by SQLite's json_extract: refused, at every depth, as a record's own repeated key is.
        // Compared as bytes, as jsonb compares them; a set once the object is past a few names.
        var names: [[UInt8]] = []
        var nameSet: Set<[UInt8]> = []
        while true {
            skipWhitespace()
            if isObject {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a quoted member name") }
                let nameStart = index
                let name = Array(try scanString().utf8)
                let repeated = refusesRepeatedNames && (names.count < 16 ? names.contains(name) : nameSet.contains(name))
                if repeated {
                    index = nameStart
                    throw fail("a name is given twice in one object (\(Self.quotedName(name))); one of its values would be lost")
                }
                if !refusesRepeatedNames {
                } else if names.count < 16 {
                    names.append(name)
                    if names.count == 16 { nameSet = Set(names) }
                } else {
                    nameSet.insert(name)
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' after member name")
            }
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            guard let next = peek() else { throw fail(isObject ? "object not closed" : "array not closed") }
            index += 1
            if next == close { return }
            guard next == UInt8(ascii: ",") else { index -= 1; throw fail("expected ',' or a closing bracket") }
        }
    }
}
