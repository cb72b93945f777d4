extension StatementParser.Scanner {
    // MARK: - Byte helpers on the hot path

    /// The offset of the first byte at or after `index` that is not whitespace.
    @inline(__always)
    func skipWhitespace(from index: Int) -> Int {
        var index = index
        while index < bytes.count, Byte.isWhitespace(bytes[index]) {
            index += 1
        }
        return index
    }

    /// The end of the name starting at `index`, or `index` itself when no name starts there.
    @inline(__always)
    func nameEnd(from index: Int) -> Int {
        guard index < bytes.count, Byte.isNameStart(bytes[index]) else { return index }
        var end = index + 1
        while end < bytes.count, Byte.isNameContinuation(bytes[end]) {
            end += 1
        }
        return end
    }

    /// The offset of the quote that closes the one at `open`, or nil when it is never closed.
    func closingQuote(after open: Int) -> Int? {
        var index = open + 1
        while index < bytes.count {
            let byte = bytes[index]
            let nextIsQuote = index + 1 < bytes.count && bytes[index + 1] == Byte.quote
            if byte == Byte.quote {
                guard nextIsQuote else { return index }
                index += 2
            } else if byte == Byte.backslash && nextIsQuote {
                index += 2
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Copies input bytes into the canonical output.
    @inline(__always)
    mutating func append(_ range: Range<Int>) {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
    }

    func characterCount(_ range: Range<Int>) -> Int {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self).count
    }

    func trimmingWhitespace(_ range: Range<Int>) -> Range<Int> {
        var end = range.upperBound
        while end > range.lowerBound, Byte.isWhitespace(bytes[end - 1]) {
            end -= 1
        }
        return range.lowerBound..<end
    }

    // MARK: - Errors (computed only when a statement is refused)

    /// The 1-based column, in characters, of the character that contains the byte at `offset`.
    func column(of offset: Int) -> Int {
        var end = min(max(offset, 0), bytes.count)
        while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 {
            end -= 1
        }
        return characterCount(0..<end) + 1
    }

    /// An error at the character containing `offset`. Text after a complete term or after the closing
    /// `)` is reported as `unbalanced` instead when the statement's brackets or quotes do not balance,
    /// since a missing or extra bracket is then the likelier mistake.
    func failure(_ kind: StatementSyntaxError.Kind, at offset: Int, _ message: String) -> StatementSyntaxError {
        if kind == .trailingText, let imbalance = firstImbalance() {
            return failure(.unbalanced, column: column(of: imbalance.offset), imbalance.message)
        }
        return failure(kind, column: column(of: offset), message)
    }

    func failure(_ kind: StatementSyntaxError.Kind, column: Int, _ message: String) -> StatementSyntaxError {
        StatementSyntaxError(kind: kind, column: column, message: message)
    }

    /// Why the text at `start` does not begin a statement: free text, or a predicate that is not a name.
    func predicateFailure(start: Int, end: Int, next: Int) -> StatementSyntaxError {
        let offending = end > start ? next : start
        let hasParenthesis = bytes[start...].contains(Byte.openParen)
        guard hasParenthesis else {
            let after = end > start ? " after \(quoted(start..<end))" : ""
            return failure(
                .missingArgumentList, at: offending,
                "Expected '('\(after); a statement is Predicate(argument, ...), not free text."
            )
        }
        return failure(
            .invalidPredicate, at: offending,
            "The predicate must be a name directly followed by '('; a name starts with a letter or _ and goes on "
                + "with letters, digits, _ or -."
        )
    }

    /// The innermost bracket still open when the input ended.
    func unclosed() -> StatementSyntaxError {
        let opener = frames.last?.opener ?? statementOpener
        return failure(.unbalanced, at: opener, unclosedMessage(opener: opener))
    }

    /// A `)` or `]` that does not close the bracket opened at `opener`.
    func mismatch(at offset: Int, opener: Int) -> StatementSyntaxError {
        failure(.unbalanced, at: offset, mismatchMessage(at: offset, opener: opener))
    }

    func unclosedMessage(opener: Int) -> String {
        let open = Character(Unicode.Scalar(bytes[opener]))
        let close = bytes[opener] == Byte.openParen ? ")" : "]"
        return "'\(open)' is never closed; add '\(close)'."
    }

    func mismatchMessage(at offset: Int, opener: Int) -> String {
        let close = Character(Unicode.Scalar(bytes[offset]))
        let open = Character(Unicode.Scalar(bytes[opener]))
        let expected = bytes[opener] == Byte.openParen ? ")" : "]"
        return "'\(close)' does not match '\(open)' at column \(column(of: opener)); close it with '\(expected)'."
    }

    func emptyArgumentMessage(at offset: Int) -> String {
        var previous = offset
        while previous > 0, Byte.isWhitespace(bytes[previous - 1]) {
            previous -= 1
        }
        if bytes[offset] == Byte.closeParen, previous > 0, bytes[previous - 1] == Byte.openParen {
            return "The argument list is empty; write at least one argument between '(' and ')'."
        }
        let byte = Character(Unicode.Scalar(bytes[offset]))
        return "Empty argument before '\(byte)'; remove the extra ',' or write a value."
    }

    /// Where the statement's brackets or quotes first fail to balance, ignoring brackets inside quotes.
    func firstImbalance() -> (offset: Int, message: String)? {
        var openers: [Int] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case Byte.quote:
                guard let close = closingQuote(after: index) else {
                    return (index, "This quote is never closed; end the text with '\"'.")
                }
                index = close
            case Byte.openParen, Byte.openBracket:
                openers.append(index)
            case Byte.closeParen, Byte.closeBracket:
                guard let opener = openers.popLast() else {
                    let close = Character(Unicode.Scalar(bytes[index]))
                    return (index, "'\(close)' has no opening bracket; remove it or add the missing opening one.")
                }
                let expected = bytes[opener] == Byte.openParen ? Byte.closeParen : Byte.closeBracket
                if bytes[index] != expected {
                    return (index, mismatchMessage(at: index, opener: opener))
                }
            default:
                break
            }
            index += 1
        }
        guard let opener = openers.last else { return nil }
        return (opener, unclosedMessage(opener: opener))
    }

    /// Up to about 30 bytes of the input from `offset`, in backquotes, for messages.
    func snippet(from offset: Int) -> String {
        var end = min(offset + 30, bytes.count)
        while end > offset, end < bytes.count, bytes[end] & 0xC0 == 0x80 {
            end -= 1
        }
        let ellipsis = end < bytes.count ? "..." : ""
        return "`" + String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
            + ellipsis + "`"
    }

    /// The input bytes in `range`, in backquotes, shortened for messages.
    func quoted(_ range: Range<Int>) -> String {
        var end = min(range.upperBound, range.lowerBound + 60)
        while end > range.lowerBound, end < range.upperBound, bytes[end] & 0xC0 == 0x80 {
            end -= 1
        }
        let ellipsis = end < range.upperBound ? "..." : ""
        return "`" + String(decoding: UnsafeBufferPointer(rebasing: bytes[range.lowerBound..<end]), as: UTF8.self)
            + ellipsis + "`"
    }
}
