/// A CSV record that cannot be split into fields, with the 1-based byte column where the problem is.
public struct CSVFieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of the problem.
    public enum Kind: Sendable, Hashable {
        /// A `"` inside a field that did not start with a quote.
        case quoteInUnquotedField
        /// Something other than a delimiter or the record's end after a closing quote.
        case textAfterClosingQuote
        /// A quoted field that the record ends inside.
        case unterminatedQuote
        /// Bytes that are not well-formed UTF-8.
        case invalidUTF8
    }

    /// The category of the problem.
    public var kind: Kind
    /// 1-based byte position in the record.
    public var column: Int
    /// A human-readable explanation.
    public var message: String

    /// Creates an error at 1-based byte `column`.
    public init(kind: Kind, column: Int, message: String) {
        self.kind = kind
        self.column = column
        self.message = message
    }

    /// `column N: message`.
    public var description: String { "column \(column): \(message)" }
}
