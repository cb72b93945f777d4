/// A JSON value built in code and written as compact text: the one writer of every JSON output —
/// `--json` results and errors, reports, manifests, the ledger listing.
///
/// Object members keep the order they were given in. Numbers that are not finite are written as
/// `null`, since JSON has no spelling for them. Strings are quoted by `JSONText.appendQuoted`, the
/// one place JSON strings are escaped.
public indirect enum JSONDocument: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    /// A number written with exactly `decimals` digits after the point (`1.500`), for durations and ratios.
    case fixed(Double, decimals: Int)
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

    /// `value` or `null`.
    public static func optional(_ value: Int64?) -> JSONDocument { value.map { .int(Int($0)) } ?? .null }

    /// An array of strings.
    public static func strings(_ values: [String]) -> JSONDocument { .array(values.map { .string($0) }) }

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
        case .fixed(let value, let decimals): Self.appendFixed(value, decimals: decimals, to: &out)
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

    /// `value` rounded to `decimals` places and written with all of them; `null` when not finite.
    private static func appendFixed(_ value: Double, decimals: Int, to out: inout [UInt8]) {
        let places = min(max(0, decimals), 9)
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (value * Double(scale)).rounded()
        guard scaled.isFinite, abs(scaled) < 9e18 else {
            out.append(contentsOf: "null".utf8)
            return
        }
        let whole = Int64(scaled)
        if whole < 0 { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: String(whole.magnitude / UInt64(scale)).utf8)
        guard places > 0 else { return }
        let fraction = String(whole.magnitude % UInt64(scale))
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: places - fraction.utf8.count))
        out.append(contentsOf: fraction.utf8)
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
