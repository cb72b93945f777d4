/// A JSON value built in code and written as compact text: reports, statistics, scale-test results.
///
/// Object members keep the order they were given in. Numbers that are not finite are written as
/// `null`, since JSON has no spelling for them.
public indirect enum JSONDocument: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONDocument])
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONDocument

        /// Creates a member.
        public init(_ key: String, _ value: JSONDocument) {
            self.key = key
            self.value = value
        }
    }

    /// A number rounded to `decimals` places after the point, for figures people read.
    public static func rounded(_ value: Double, decimals: Int) -> JSONDocument {
        guard value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        return .number((value * scale).rounded() / scale)
    }

    /// `value` or `null`.
    public static func optional(_ value: String?) -> JSONDocument { value.map { .string($0) } ?? .null }

    /// The compact JSON text of this value.
    public var text: String {
        var out: [UInt8] = []
        append(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func append(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .number(let value):
            if !value.isFinite {
                out.append(contentsOf: "null".utf8)
            } else if value == value.rounded(), abs(value) < 1e15 {
                out.append(contentsOf: String(Int64(value)).utf8)
            } else {
                out.append(contentsOf: String(value).utf8)
            }
        case .string(let value): JSONText.appendQuoted(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONDocument: ExpressibleByDictionaryLiteral {
    /// An object with the members in the order written.
    public init(dictionaryLiteral elements: (String, JSONDocument)...) {
        self = .object(elements.map { Member($0.0, $0.1) })
    }
}

extension JSONDocument: ExpressibleByArrayLiteral {
    /// An array of the values written.
    public init(arrayLiteral elements: JSONDocument...) {
        self = .array(elements)
    }
}

extension JSONDocument: ExpressibleByStringLiteral {
    /// A string.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONDocument: ExpressibleByIntegerLiteral {
    /// An integer.
    public init(integerLiteral value: Int) {
        self = .int(value)
    }
}
