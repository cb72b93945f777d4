extension StatementParser {
    /// One pass over a statement's UTF-8 bytes that checks the grammar and writes the canonical form
    /// into `out` as it goes.
    ///
    /// The scanner is a loop over two states rather than a recursive descent, so nesting depth is
    /// bounded by the statement's byte limit, not by the stack: either an item (an argument or a list
    /// element) is expected, or a complete term has been read and a `,` or a closing bracket must follow.
    struct Scanner {
        /// An open compound's `(` or list's `[`, with the byte offset of the bracket.
        struct Frame {
            var isList: Bool
            var opener: Int
        }

        typealias Byte = StatementByte

        let bytes: UnsafeBufferPointer<UInt8>
        let limits: FactLimits
        /// The byte offset of the next byte to read.
        var pos = 0
        /// The canonical statement written so far.
        var out: [UInt8] = []
        /// Compounds and lists open inside the statement; the statement's own parentheses are not in it.
        var frames: [Frame] = []
        /// The canonical top-level arguments completed so far.
        var args: [String] = []
        /// The byte offset of the statement's own `(`.
        var statementOpener = 0
        /// Where the current top-level argument starts, in the input and in `out`.
        var argumentStartInput = 0
        var argumentStartOutput = 0

        init(bytes: UnsafeBufferPointer<UInt8>, limits: FactLimits) {
            self.bytes = bytes
            self.limits = limits
        }

        /// Scans the whole statement, returning the error instead of throwing it so the result can
        /// leave a `withContiguousStorageIfAvailable` closure with its type intact.
        mutating func scanCatchingErrors() -> Result<ParsedStatement, StatementSyntaxError> {
            do {
                return .success(try scan())
            } catch {
                return .failure(error)
            }
        }

        mutating func scan() throws(StatementSyntaxError) -> ParsedStatement {
            guard bytes.count <= limits.maxStatementBytes else {
                throw failure(
                    .tooLong, at: limits.maxStatementBytes,
                    "The statement is \(bytes.count) bytes long, over the limit of \(limits.maxStatementBytes) bytes."
                )
            }
            out.reserveCapacity(bytes.count + bytes.count / 4 + 8)
            args.reserveCapacity(4)
            let predicateLength = try scanPredicate()
            try scanArguments()
            try scanEnd()
            out.append(Byte.period)
            // The stored form has a space after each comma and the period: a statement written without them
            // within the limit may be longer stored, and then its own export, the same limit given, could not
            // be loaded back.
            guard out.count <= limits.maxStatementBytes else {
                throw failure(
                    .tooLong, at: bytes.count,
                    "The statement is \(out.count) bytes long as stored (in its canonical form), over the limit of "
                        + "\(limits.maxStatementBytes) bytes."
                )
            }
            return ParsedStatement(
                canonical: String(decoding: out, as: UTF8.self),
                predicate: String(decoding: out[..<predicateLength], as: UTF8.self),
                args: args
            )
        }

        // MARK: - Predicate and end

        /// Reads the predicate and the statement's `(`; returns the predicate's length in bytes.
        mutating func scanPredicate() throws(StatementSyntaxError) -> Int {
            pos = skipWhitespace(from: pos)
            guard pos < bytes.count else {
                throw failure(.empty, at: 0, "The statement is empty; write Predicate(argument, ...).")
            }
            let start = pos
            let end = nameEnd(from: start)
            let next = skipWhitespace(from: end)
            guard end > start, next < bytes.count, bytes[next] == Byte.openParen else {
                throw predicateFailure(start: start, end: end, next: next)
            }
            let length = end - start
            if length > limits.maxPredicateLength, characterCount(start..<end) > limits.maxPredicateLength {
                throw failure(
                    .predicateTooLong, column: column(of: start) + limits.maxPredicateLength,
                    "The predicate is longer than \(limits.maxPredicateLength) characters."
                )
            }
            append(start..<end)
            out.append(Byte.openParen)
            statementOpener = next
            pos = next + 1
            return length
        }

        /// Accepts an optional `.` and whitespace after the statement's `)`, and nothing else.
        mutating func scanEnd() throws(StatementSyntaxError) {
            pos = skipWhitespace(from: pos)
            if pos < bytes.count, bytes[pos] == Byte.period {
                pos = skipWhitespace(from: pos + 1)
            }
            guard pos == bytes.count else {
                throw failure(
                    .trailingText, at: pos,
                    "Unexpected \(snippet(from: pos)) after the statement; only a '.' may follow the closing ')'."
                )
            }
        }

        // MARK: - Arguments

        /// Reads everything between the statement's `(` and its matching `)`, that `)` included.
        mutating func scanArguments() throws(StatementSyntaxError) {
            var isExpectingItem = true
            while true {
                pos = skipWhitespace(from: pos)
                if isExpectingItem {
                    if frames.isEmpty {
                        try beginArgument()
                    }
                    if frames.last?.isList != true {
                        scanRole()
                    }
                    isExpectingItem = try scanTerm()
                    continue
                }
                guard pos < bytes.count else { throw unclosed() }
                let byte = bytes[pos]
                switch byte {
                case Byte.comma:
                    if frames.isEmpty {
                        try endArgument()
                    }
                    out.append(Byte.comma)
                    out.append(Byte.space)
                    pos += 1
                    isExpectingItem = true
                case Byte.closeParen, Byte.closeBracket:
                    let isList = byte == Byte.closeBracket
                    if let frame = frames.last {
                        guard frame.isList == isList else { throw mismatch(at: pos, opener: frame.opener) }
                        frames.removeLast()
                        out.append(byte)
                        pos += 1
                    } else {
                        guard !isList else { throw mismatch(at: pos, opener: statementOpener) }
                        try endArgument()
                        out.append(byte)
                        pos += 1
                        return
                    }
                default:
                    throw failure(
                        .trailingText, at: pos,
                        "Unexpected \(snippet(from: pos)) after a complete argument; "
                            + "separate arguments with ',' or remove the extra text."
                    )
                }
            }
        }

        /// Consumes `name:` with any whitespace around the `:`, writing `name:`, when the next item
        /// starts with a role.
        mutating func scanRole() {
            let end = nameEnd(from: pos)
            guard end > pos else { return }
            let next = skipWhitespace(from: end)
            guard next < bytes.count, bytes[next] == Byte.colon else { return }
            append(pos..<end)
            out.append(Byte.colon)
            pos = skipWhitespace(from: next + 1)
        }

        /// Reads one term at `pos`, which is not whitespace; returns true when it opened a compound or a
        /// non-empty list whose items come next, false when the term is complete.
        mutating func scanTerm() throws(StatementSyntaxError) -> Bool {
            guard pos < bytes.count else { throw unclosed() }
            let start = pos
            switch bytes[start] {
            case Byte.quote:
                try scanQuoted()
                return false
            case Byte.openBracket:
                let next = skipWhitespace(from: start + 1)
                out.append(Byte.openBracket)
                if next < bytes.count, bytes[next] == Byte.closeBracket {
                    out.append(Byte.closeBracket)
                    pos = next + 1
                    return false
                }
                frames.append(Frame(isList: true, opener: start))
                pos = start + 1
                return true
            case Byte.comma, Byte.closeParen, Byte.closeBracket:
                throw failure(.emptyArgument, at: start, emptyArgumentMessage(at: start))
            case Byte.openParen:
                throw failure(.invalidName, at: start, "'(' must follow a name, as in Name(argument, ...).")
            default:
                break
            }
            let end = nameEnd(from: start)
            if end > start {
                let next = skipWhitespace(from: end)
                if next < bytes.count, bytes[next] == Byte.openParen {
                    append(start..<end)
                    out.append(Byte.openParen)
                    frames.append(Frame(isList: false, opener: next))
                    pos = next + 1
                    return true
                }
            }
            // The name part has no whitespace; past it, note whitespace that is not a lone space.
            var bareEnd = end
            var previousIsSpace: UInt8 = 0
            var needsCollapsing: UInt8 = 0
            while bareEnd < bytes.count, !Byte.endsBare(bytes[bareEnd]) {
                let byte = bytes[bareEnd]
                let isSpace: UInt8 = byte == Byte.space ? 1 : 0
                let isOtherWhitespace: UInt8 = byte >= 0x09 && byte <= 0x0D ? 1 : 0
                needsCollapsing |= isOtherWhitespace | (isSpace & previousIsSpace)
                previousIsSpace = isSpace
                bareEnd += 1
            }
            if bareEnd < bytes.count {
                try checkBareStop(start: start, nameEnd: end, stop: bareEnd)
            }
            var trimmedEnd = bareEnd
            while trimmedEnd > start, Byte.isWhitespace(bytes[trimmedEnd - 1]) {
                trimmedEnd -= 1
            }
            if needsCollapsing == 0 {
                append(start..<trimmedEnd)
            } else {
                appendCollapsingWhitespace(start..<trimmedEnd)
            }
            pos = bareEnd
            return false
        }

        /// Refuses a bare term that ends in `(` (it is not a name) or in a line break followed by more text.
        func checkBareStop(start: Int, nameEnd: Int, stop: Int) throws(StatementSyntaxError) {
            let byte = bytes[stop]
            if byte == Byte.openParen {
                let offending = nameEnd > start ? skipWhitespace(from: nameEnd) : start
                throw failure(
                    .invalidName, at: offending,
                    "\(quoted(trimmingWhitespace(start..<stop))) is not a name, so it cannot be followed"
                        + " by '('; a name starts with a letter or _ and goes on with letters, digits, _ or -."
                )
            }
            guard Byte.isLineBreak(byte) else { return }
            let next = skipWhitespace(from: stop)
            guard next < bytes.count else { return }
            switch bytes[next] {
            case Byte.comma, Byte.closeParen, Byte.closeBracket:
                return
            default:
                throw failure(.trailingText, at: stop, "An argument cannot contain a line break.")
            }
        }

        /// Reads a quoted term; `""` and `\"` stand for a quote inside it, and both are written `\"`.
        /// Everything else is kept as written.
        mutating func scanQuoted() throws(StatementSyntaxError) {
            let open = pos
            guard let close = closingQuote(after: open) else {
                throw failure(.unbalanced, at: open, "This quote is never closed; end the text with '\"'.")
            }
            // The same walk as `closingQuote`: a quote before `close` is the first of a `""` pair.
            var index = open + 1
            var copied = open
            while index < close {
                let byte = bytes[index]
                if byte == Byte.quote {
                    append(copied..<index)
                    out.append(Byte.backslash)
                    index += 2
                    copied = index - 1
                } else if byte == Byte.backslash && bytes[index + 1] == Byte.quote {
                    index += 2
                } else {
                    index += 1
                }
            }
            append(copied..<(close + 1))
            pos = close + 1
        }

        /// Copies a bare term, writing each run of whitespace inside it as one space.
        mutating func appendCollapsingWhitespace(_ range: Range<Int>) {
            var index = range.lowerBound
            var copied = index
            while index < range.upperBound {
                guard Byte.isWhitespace(bytes[index]) else {
                    index += 1
                    continue
                }
                let runStart = index
                index += 1
                while index < range.upperBound, Byte.isWhitespace(bytes[index]) {
                    index += 1
                }
                if bytes[runStart] == Byte.space && index == runStart + 1 { continue }
                append(copied..<runStart)
                out.append(Byte.space)
                copied = index
            }
            append(copied..<range.upperBound)
        }

        /// Starts a top-level argument, refusing one more than the limit allows.
        mutating func beginArgument() throws(StatementSyntaxError) {
            guard args.count < limits.maxArgs else {
                throw failure(
                    .tooManyArguments, at: pos,
                    "A statement may have at most \(limits.maxArgs) arguments; this is argument \(args.count + 1)."
                )
            }
            argumentStartInput = pos
            argumentStartOutput = out.count
        }

        /// Completes a top-level argument, refusing it when its canonical text is over the limit.
        mutating func endArgument() throws(StatementSyntaxError) {
            let canonical = out[argumentStartOutput...]
            if canonical.count > limits.maxArgLength,
                String(decoding: canonical, as: UTF8.self).count > limits.maxArgLength
            {
                throw failure(
                    .argumentTooLong, at: argumentStartInput,
                    "Argument \(args.count + 1) is longer than \(limits.maxArgLength) characters."
                )
            }
            args.append(String(decoding: canonical, as: UTF8.self))
        }
    }
}
