#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits one CSV record (without its line terminator) into field strings, following RFC 4180.
///
/// Quoted fields may hold delimiters, line breaks and `""` (one quote). A quote inside an unquoted field,
/// text after a closing quote, an unterminated quote and ill-formed UTF-8 are errors.
public enum CSVFieldSplitter {
    private static let quote: UInt8 = 0x22

    /// Returns the fields of `record`, unquoted.
    ///
    /// Throws `CSVFieldError` with the 1-based byte column of the first problem.
    public static func fields(_ record: UnsafeRawBufferPointer, delimiter: UInt8) throws(CSVFieldError) -> [String] {
        precondition(delimiter != quote, "the CSV delimiter cannot be the quote character")
        if let bad = UTF8Validation.firstInvalidOffset(record) {
            throw CSVFieldError(kind: .invalidUTF8, column: bad + 1, message: "invalid UTF-8 at byte \(bad + 1)")
        }
        guard let base = record.baseAddress else {
            return [""]
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let count = record.count
        var fields: [String] = []
        var unescaped: [UInt8] = []
        var i = 0
        while true {
            if i < count && p[i] == quote {
                let opening = i
                i += 1
                var segmentStart = i
                var hadEscapes = false
                unescaped.removeAll(keepingCapacity: true)
                while true {
                    guard let q = find(quote, in: p, from: i, to: count) else {
                        throw CSVFieldError(
                            kind: .unterminatedQuote, column: opening + 1,
                            message: "quoted field starting here is not closed")
                    }
                    if q + 1 < count && p[q + 1] == quote {
                        hadEscapes = true
                        append(p, segmentStart, q + 1, to: &unescaped)
                        i = q + 2
                        segmentStart = i
                        continue
                    }
                    if hadEscapes {
                        append(p, segmentStart, q, to: &unescaped)
                        fields.append(String(decoding: unescaped, as: UTF8.self))
                    } else {
                        fields.append(string(p, opening + 1, q))
                    }
                    i = q + 1
                    break
                }
                if i == count {
                    return fields
                }
                guard p[i] == delimiter else {
                    throw CSVFieldError(
                        kind: .textAfterClosingQuote, column: i + 1,
                        message: "unexpected text after a closing quote")
                }
                i += 1
            } else {
                let end = find(delimiter, in: p, from: i, to: count) ?? count
                if let stray = find(quote, in: p, from: i, to: end) {
                    throw CSVFieldError(
                        kind: .quoteInUnquotedField, column: stray + 1,
                        message: "quote inside an unquoted field")
                }
                fields.append(string(p, i, end))
                if end == count {
                    return fields
                }
                i = end + 1
            }
        }
    }

    /// Returns the fields of `record`, unquoted.
    ///
    /// Throws `CSVFieldError` with the 1-based byte column (from the slice's start) of the first problem.
    public static func fields(_ record: ArraySlice<UInt8>, delimiter: UInt8) throws(CSVFieldError) -> [String] {
        let result = record.withUnsafeBytes { raw in
            Result { () throws(CSVFieldError) -> [String] in try fields(raw, delimiter: delimiter) }
        }
        return try result.get()
    }

    private static func find(_ byte: UInt8, in p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, let hit = memchr(p + start, Int32(byte), end - start) else {
            return nil
        }
        return UnsafeRawPointer(p).distance(to: UnsafeRawPointer(hit))
    }

    private static func append(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: p + start, count: end - start))
    }

    private static func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
    }
}
