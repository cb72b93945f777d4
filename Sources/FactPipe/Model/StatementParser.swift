/// Checks a statement against the fact grammar (DESIGN 1.2) and writes its canonical form (DESIGN 1.3).
///
/// ```
/// statement = predicate "(" args ")" ["."]
/// predicate = name
/// name      = (letter | "_") {letter | digit | "_" | "-"}
/// args      = arg {"," arg}
/// arg       = [name ":"] term
/// term      = compound | list | quoted | bare
/// compound  = name "(" args ")"
/// list      = "[" [term {"," term}] "]"
/// quoted    = '"' {any character, "" or \" for a quote} '"'
/// bare      = one or more characters other than , ( ) [ ] " and line breaks
/// ```
///
/// The parser is a single pass over the UTF-8 bytes with no recursion (nesting depth is bounded only by
/// the byte limit); on the way to a valid statement it allocates an output buffer, a stack when brackets
/// nest, and the returned strings. Choices the grammar leaves open:
///
/// - **Letters and digits.** ASCII letters, digits, `_` and `-` are classified as the grammar says;
///   every non-ASCII scalar the character rules let through counts as a letter, so `LäuftAuf`,
///   `CO₂` and `Straße` are names.
/// - **Characters** (`StatementCharacters`, before the grammar): the text is put in NFC, Unicode
///   spaces (NBSP and the other Zs) read as a space, control characters other than whitespace are
///   refused (`controlCharacter`), and so are invisible format characters (`invisibleCharacter`),
///   except a byte order mark that starts the statement.
/// - **Whitespace** between tokens is space, tab, line feed, vertical tab, form feed and carriage
///   return. Inside a bare argument, each run of inner whitespace becomes one space; a line break
///   is not allowed.
/// - **Roles.** Only arguments of a statement or a compound may carry `role:`; inside a list,
///   `a:b` is bare text. A bare value may itself contain `:` (`start:2025-08-20T10:00:00`).
/// - **Quotes.** Inside `"…"`, both `""` and `\"` stand for a quote; any other backslash is an
///   ordinary character. The canonical form writes every quote inside as `\"` (the one spelling
///   that holds any text a quoted term can carry, a backslash before a quote included); the rest of
///   quoted text, whitespace included, is kept exactly.
/// - **Columns** are 1-based and count `Character`s (what an editor shows) from the start of the
///   text, leading whitespace included. They are computed only when an error is thrown.
/// - **Where an error points:** at the first character that cannot continue the statement; for a
///   bracket or quote that is never closed, at the opening one; for a statement over the byte
///   limit, at the first character beyond it; for a predicate over its limit, at the first
///   character beyond it; for an argument over its limit, at the argument's first character.
///   When text follows a complete term or the closing `)` and the brackets or quotes of the
///   statement do not balance, the error is `unbalanced`, pointing at the bracket at fault.
///
/// Refusals by kind: `empty` (only whitespace); `missingArgumentList` (no `(` anywhere after the
/// start: free text); `invalidPredicate` (the text before the first `(` is not one name, as in
/// `all x (A(x) -> B(x))`); `emptyArgument` (`P()`, `P(a,,b)`, `P(a,)`, `role:` with no value);
/// `invalidName` (a `(` after something that is not a name, as in `-Foo(x)` or `((a))`);
/// `unbalanced` (a bracket or quote never closed, a closing bracket of the wrong kind or with no
/// opening one); `trailingText` (text after the statement's `)` other than one `.`, text after a
/// complete compound, list or quoted term, as in `Name(x)rest`, or after a line break in a bare
/// argument); `tooLong`, `tooManyArguments`, `predicateTooLong`, `argumentTooLong` (the limits);
/// `controlCharacter`, `invisibleCharacter` (the character rules).
public enum StatementParser {
    /// Parses one statement and returns its canonical form, predicate and canonical arguments.
    ///
    /// - Parameters:
    ///   - text: One statement, such as `HasPart(Computer, CPU).`; the trailing period is optional.
    ///   - limits: The statement byte limit, the argument count and the predicate and argument
    ///     lengths to enforce.
    /// - Returns: The statement in canonical form, e.g. `Pred(a, b(c, d), [e, f]).`.
    /// - Throws: `StatementSyntaxError` with the kind of problem and the 1-based column, in
    ///   characters, where parsing failed.
    public static func parse(
        _ text: String,
        limits: FactLimits = .default
    ) throws(StatementSyntaxError) -> ParsedStatement {
        let contiguous = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard StatementCharacters.isPlain(bytes) else { return Result<ParsedStatement, StatementSyntaxError>?.none }
            var scanner = Scanner(bytes: bytes, limits: limits)
            return scanner.scanCatchingErrors()
        }
        if let contiguous, let result = contiguous {
            return try result.get()
        }
        let prepared = try StatementCharacters.prepared(text, keepingRefused: limits.keepsControlAndInvisibleCharacters)
        let preparedContiguous = prepared.utf8.withContiguousStorageIfAvailable { bytes in
            var scanner = Scanner(bytes: bytes, limits: limits)
            return scanner.scanCatchingErrors()
        }
        if let preparedContiguous {
            return try preparedContiguous.get()
        }
        let copy = Array(prepared.utf8)
        let result = copy.withUnsafeBufferPointer { bytes in
            var scanner = Scanner(bytes: bytes, limits: limits)
            return scanner.scanCatchingErrors()
        }
        return try result.get()
    }
}

/// The byte classes of the grammar, over UTF-8 code units.
enum StatementByte {
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22  // "
    static let openParen: UInt8 = 0x28  // (
    static let closeParen: UInt8 = 0x29  // )
    static let comma: UInt8 = 0x2C  // ,
    static let period: UInt8 = 0x2E  // .
    static let colon: UInt8 = 0x3A  // :
    static let openBracket: UInt8 = 0x5B  // [
    static let backslash: UInt8 = 0x5C  // \
    static let closeBracket: UInt8 = 0x5D  // ]

    /// Space, tab, line feed, vertical tab, form feed, carriage return.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always)
    static func isLineBreak(_ byte: UInt8) -> Bool {
        byte == 0x0A || byte == 0x0D
    }

    /// A letter (ASCII, or any byte of a non-ASCII scalar) or `_`.
    @inline(__always)
    static func isNameStart(_ byte: UInt8) -> Bool {
        byte >= 0x80 || byte == 0x5F || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }

    /// A letter, a digit, `_` or `-`.
    @inline(__always)
    static func isNameContinuation(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
    }

    /// A byte that ends a bare argument: `, ( ) [ ] "` or a line break.
    @inline(__always)
    static func endsBare(_ byte: UInt8) -> Bool {
        switch byte {
        case comma, openParen, closeParen, openBracket, closeBracket, quote, 0x0A, 0x0D: true
        default: false
        }
    }
}
