/// Builds JSON text: string escaping and objects assembled from members whose values are already JSON.
enum JSONText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `text` as a quoted JSON string to `out`.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
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
