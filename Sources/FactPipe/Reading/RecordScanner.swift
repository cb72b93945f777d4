#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds where records end in decoded bytes, keeping its state between blocks so a record can span reads.
///
/// For `.lines` a record ends at the next LF (found with `memchr`). For CSV a record ends at an LF outside quotes;
/// a quote opens a quoted field only at the start of a field, as in RFC 4180.
struct RecordScanner {
    private enum CSVState {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    private static let lineFeed: UInt8 = 0x0A
    private static let quote: UInt8 = 0x22
    private static let carriageReturn: UInt8 = 0x0D

    /// The CSV delimiter, or nil for `.lines`.
    private let delimiter: UInt8?
    private var state = CSVState.fieldStart
    /// Line feeds inside quoted fields of the record being scanned.
    private(set) var embeddedLineFeeds = 0
    /// While a quoted field is open across a line end: the decoded offset of the first LF after its opening
    /// quote, and how many line feeds of the record came before that quote. Nil while no quote is open or
    /// the open one has not reached a line end yet.
    var openQuote: (lineEnd: Int64, lineFeedsBefore: Int)? { state == .quoted ? quoteLineEnd : nil }
    private var quoteLineEnd: (lineEnd: Int64, lineFeedsBefore: Int)?
    /// The first quoted field of the record that ran over a line end and then "closed" on a quote followed
    /// by text (`"a⏎"b",…`): its quote was most likely never closed, and the quote that seemed to close it
    /// opened a field of a later line. Same shape as `openQuote`.
    private(set) var brokenQuote: (lineEnd: Int64, lineFeedsBefore: Int)?
    private var lineFeedsBeforeQuote = 0

    init(framing: RecordFraming) {
        switch framing {
        case .lines:
            delimiter = nil
        case .csv(let delimiter):
            precondition(delimiter != Self.quote && delimiter != Self.lineFeed, "invalid CSV delimiter")
            self.delimiter = delimiter
        }
    }

    /// Forgets the record just finished; call after each record end.
    mutating func reset() {
        state = .fieldStart
        embeddedLineFeeds = 0
        quoteLineEnd = nil
        brokenQuote = nil
    }

    /// The index of the LF ending the current record in `p[start..<end]`, or nil when it is not there yet.
    /// `base` is the decoded offset of `p[0]`, for `openQuote`.
    mutating func findEnd(in p: UnsafePointer<UInt8>, from start: Int, to end: Int, base: Int64 = 0) -> Int? {
        guard let delimiter else {
            guard start < end, let hit = memchr(p + start, Int32(Self.lineFeed), end - start) else {
                return nil
            }
            return UnsafeRawPointer(p).distance(to: UnsafeRawPointer(hit))
        }
        var i = start
        var state = self.state
        defer { self.state = state }
        while i < end {
            let byte = p[i]
            switch state {
            case .unquoted:
                if byte == delimiter {
                    state = .fieldStart
                } else if byte == Self.lineFeed {
                    return i
                }
            case .quoted:
                if byte == Self.quote {
                    state = .quoteInQuoted
                } else if byte == Self.lineFeed {
                    if quoteLineEnd == nil { quoteLineEnd = (base + Int64(i), lineFeedsBeforeQuote) }
                    embeddedLineFeeds += 1
                }
            case .fieldStart:
                if byte == Self.quote {
                    state = .quoted
                    lineFeedsBeforeQuote = embeddedLineFeeds
                } else if byte == Self.lineFeed {
                    return i
                } else if byte != delimiter {
                    state = .unquoted
                }
            case .quoteInQuoted:
                if byte == Self.quote {
                    state = .quoted
                    i += 1
                    continue
                }
                let spannedLines = quoteLineEnd
                quoteLineEnd = nil  // the field is closed
                if byte == delimiter {
                    state = .fieldStart
                } else if byte == Self.lineFeed {
                    return i
                } else {
                    state = .unquoted  // malformed; the field splitter reports it
                    if byte != Self.carriageReturn, brokenQuote == nil, let spannedLines { brokenQuote = spannedLines }
                }
            }
            i += 1
        }
        return nil
    }
}
