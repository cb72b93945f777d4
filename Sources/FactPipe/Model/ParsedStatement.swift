/// A statement that passed the grammar (DESIGN 1.2), in canonical form (DESIGN 1.3).
public struct ParsedStatement: Sendable, Hashable {
    /// The canonical text, e.g. `Pred(a, b(c, d), [e, f]).`, with one trailing period.
    public var canonical: String
    /// The predicate name.
    public var predicate: String
    /// The canonical text of each top-level argument, `role:value` arguments included whole.
    public var args: [String]

    public init(canonical: String, predicate: String, args: [String]) {
        self.canonical = canonical
        self.predicate = predicate
        self.args = args
    }
}

/// Why a statement was refused, and the 1-based column (in characters) where parsing failed.
public struct StatementSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case empty                  // nothing but whitespace
        case missingArgumentList    // free text, no "(" after a name
        case invalidPredicate       // predicate is not a name
        case emptyArgument          // P(a,,b) or P()
        case unbalanced             // brackets or quotes not closed / closed without opening
        case trailingText           // something after the closing parenthesis (and optional ".")
        case invalidName            // role or compound name that is not a name
        case tooLong                // over the statement byte limit
        case tooManyArguments       // more top-level arguments than the limit
        case predicateTooLong
        case argumentTooLong
        case controlCharacter       // NUL, ESC, DEL, a C1 control: anything in Cc but whitespace
        case invisibleCharacter     // a format character (Cf) such as U+200B, or U+2028/U+2029
    }

    public var kind: Kind
    /// 1-based column in characters where the problem was found.
    public var column: Int
    /// A sentence a user can act on.
    public var message: String

    public init(kind: Kind, column: Int, message: String) {
        self.kind = kind
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
