/// Where quoted JSON text is written: a byte array, or the buffer an export encodes rows into.
protocol JSONByteSink {
    mutating func appendJSONBytes(_ bytes: UnsafeBufferPointer<UInt8>)
    mutating func appendJSONByte(_ byte: UInt8)
}

extension Array: JSONByteSink where Element == UInt8 {
    mutating func appendJSONBytes(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
    mutating func appendJSONByte(_ byte: UInt8) { append(byte) }
}

/// Builds JSON text: string escaping and objects assembled from members whose values are already JSON.
///
/// `appendQuoted` is the one place JSON strings are escaped: `JSONDocument` (every JSON output), the
/// stored JSON the parser and validator build, an export's rows and the generator's records use it.
enum JSONText {
    private static let hex: StaticString = "0123456789abcdef"

    /// True when any of the eight bytes of `word` is below 0x20, a quote or a backslash.
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote & highs
        let zeroBackslash = (backslash &- ones) & ~backslash & highs
        return (below | zeroQuote | zeroBackslash) != 0
    }

    /// Appends the UTF-8 `text` as a quoted JSON string: `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t` or `\u00XX` (lowercase hex), everything else — DEL, U+2028/2029, characters
    /// beyond the BMP — as the UTF-8 it is (valid JSON; a terminal's escaping is the CLI's business).
    /// Returns whether `text` holds a byte above 0x7F (anything but ASCII), seen on the way.
    @discardableResult
    static func appendQuoted<Sink: JSONByteSink>(_ text: UnsafeBufferPointer<UInt8>, to out: inout Sink) -> Bool {
        out.appendJSONByte(UInt8(ascii: "\""))
        guard let start = text.baseAddress else {
            out.appendJSONByte(UInt8(ascii: "\""))
            return false
        }
        let count = text.count
        var runStart = 0
        var index = 0
        var seen: UInt64 = 0
        while index < count {
            // Eight bytes at a time while none needs escaping (most text).
            if index + 8 <= count {
                let word = UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self)
                if !needsEscape(word) {
                    seen |= word
                    index += 8
                    continue
                }
            }
            let byte = start[index]
            seen |= UInt64(byte)
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else {
                index += 1
                continue
            }
            out.appendJSONBytes(UnsafeBufferPointer(start: start + runStart, count: index - runStart))
            out.appendJSONByte(0x5C)
            switch byte {
            case 0x22, 0x5C: out.appendJSONByte(byte)
            case 0x0A: out.appendJSONByte(UInt8(ascii: "n"))
            case 0x0D: out.appendJSONByte(UInt8(ascii: "r"))
            case 0x09: out.appendJSONByte(UInt8(ascii: "t"))
            default:
                let digits = hex.utf8Start
                out.appendJSONByte(UInt8(ascii: "u"))
                out.appendJSONByte(UInt8(ascii: "0"))
                out.appendJSONByte(UInt8(ascii: "0"))
                out.appendJSONByte(digits[Int(byte >> 4)])
                out.appendJSONByte(digits[Int(byte & 0xF)])
            }
            index += 1
            runStart = index
        }
        out.appendJSONBytes(UnsafeBufferPointer(start: start + runStart, count: count - runStart))
        out.appendJSONByte(UInt8(ascii: "\""))
        return seen & 0x8080_8080_8080_8080 != 0
    }

    /// `text`, a JSON value already validated, with every member name spelled as `appendQuoted` writes it:
    /// `"\u0061"` and `"\/"` as `"a"` and `"/"`. Values are left as given. SQLite's `json_patch` (the
    /// `update` policy's merge) compares names as spelled, so `{"\u0061":1}` patched with `{"a":null}`
    /// kept its member and then held `a` twice, where PostgreSQL's jsonb compares them decoded.
    static func withPlainNames(_ text: String) -> String {
        guard text.utf8.contains(0x5C) else { return text }
        var text = text
        return text.withUTF8 { bytes -> String in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var isObject: [Bool] = []
            var expectsName = false
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    isObject.append(byte == UInt8(ascii: "{"))
                    expectsName = byte == UInt8(ascii: "{")
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    _ = isObject.popLast()
                    expectsName = false
                case UInt8(ascii: ","):
                    expectsName = isObject.last == true
                case UInt8(ascii: "\""):
                    var end = index + 1
                    var escaped = false
                    while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                        if bytes[end] == 0x5C { escaped = true; end += 1 }
                        end += 1
                    }
                    end = min(end + 1, bytes.count)
                    var scanner = JSONScanner(bytes, range: index..<end)
                    if expectsName, escaped, let name = try? scanner.scanString() {
                        appendQuoted(name, to: &out)
                    } else {
                        out.append(contentsOf: bytes[index..<end])
                    }
                    expectsName = false
                    index = end
                    continue
                default:
                    break
                }
                out.append(byte)
                index += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Appends `text` as a quoted JSON string to `out`.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        _ = text.withUTF8 { appendQuoted($0, to: &out) }
    }

    /// `text` as a quoted JSON string.
    static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array of strings.
    static func array(_ items: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(item, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON object from members whose values are JSON text; a later member with the same key wins.
    static func object(_ members: [(key: String, json: String)]) -> String {
        if members.isEmpty { return "{}" }
        var seen: [String: Int] = [:]
        var ordered: [(key: String, json: String)] = []
        for member in members {
            if let at = seen[member.key] {
                ordered[at].json = member.json
            } else {
                seen[member.key] = ordered.count
                ordered.append(member)
            }
        }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, member) in ordered.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: member.json.utf8)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The members of a JSON object text, each value as its JSON text.
    /// - Throws: `JSONSyntaxError` when `text` is not one JSON object.
    static func members(ofObject text: String) throws(JSONSyntaxError) -> [(key: String, json: String)] {
        var utf8 = Array(text.utf8)
        return try utf8.withUnsafeMutableBufferPointer { buffer throws(JSONSyntaxError) in
            let bytes = UnsafeBufferPointer(buffer)
            var scanner = JSONScanner(bytes)
            var result: [(key: String, json: String)] = []
            try scanner.scanObject { key, value in result.append((key, json(of: value, in: bytes))) }
            return result
        }
    }

    /// The JSON text of a scanned value.
    static func json(of value: JSONValue, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .number(_, let raw): return raw
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .object(let range), .array(let range):
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
    }
}
