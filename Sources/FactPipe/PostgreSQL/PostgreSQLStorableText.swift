/// What SQLite stores and PostgreSQL cannot: a NUL (a `text` value refuses a 0x00 byte and a `jsonb` value
/// the escape `\u0000`), a JSON number past `numeric`, a predicate and subject too long for a B-tree entry.
/// A fact holding one would fail its whole batch at the server, and every `--resume` after it at the same
/// place. The validator refuses such a record instead (a reject like any other, `refusal(of:)`) when the
/// load goes into PostgreSQL.
enum PostgreSQLStorableText {
    /// Why PostgreSQL cannot store `fact` (a reject's reason and message), or nil when it can: a NUL, a JSON
    /// number past `numeric`, numbers that PostgreSQL writes out longer than `maxRecordBytes` allows a record,
    /// or a predicate and subject too long for their indexes.
    static func refusal(of fact: Fact, maxRecordBytes: Int) -> (reason: RecordDiagnostic.Reason, message: String)? {
        if let field = fieldHoldingNUL(fact) {
            return (.controlCharacter, "\(columnName(field)): a NUL character (\\u0000) cannot be stored in PostgreSQL")
        }
        var growth = 0
        for field in [Fact.Field.context, .metadata] {
            guard let range = fact.range(of: field) else { continue }
            let numbers = numbers(in: fact.bytes[range])
            if numbers.unstorable {
                return (field == .context ? .invalidContext : .invalidMetadata,
                        "\(columnName(field)): a number beyond PostgreSQL's numeric range "
                            + "(131,072 digits before the point, 16,383 after) cannot be stored in PostgreSQL")
            }
            growth += numbers.growth
        }
        // `numeric` keeps `1e131071` in a few bytes and writes it out as its 131,072 digits: a record of 75 KB
        // made every export of the database, and every query that found it, fail with "out of memory" (1 GB of
        // text), and smaller ones made exports whose lines no import with the same limits could read.
        if growth > 0, fact.bytes.count + growth > maxRecordBytes {
            return (.recordTooLong, "its JSON numbers, written out in full as PostgreSQL writes them (1e131071 as "
                + "131,072 digits), make it \(fact.bytes.count + growth) bytes, over --max-record-bytes "
                + "\(maxRecordBytes): no export of it could be read again; write such numbers as strings")
        }
        for field in [Fact.Field.context, .metadata] {
            if let range = fact.range(of: field), range.count > jsonbBytes {
                return (field == .context ? .invalidContext : .invalidMetadata,
                        "\(columnName(field)): \(range.count) bytes, over the \(jsonbBytes) a PostgreSQL jsonb value "
                            + "(or one string in it) can hold")
            }
        }
        if let range = fact.range(of: .createdAt), roundsPastYear9999(fact.bytes[range]) {
            return (.invalidCreatedAt, "created_at: PostgreSQL keeps microseconds, and this time rounds to "
                + "10000-01-01T00:00:00Z, past the years an ISO 8601 time can name")
        }
        let indexed = fact.predicate.utf8.count + fact.subject.utf8.count
        if indexed > indexedBytes {
            return (.limitExceeded, "predicate and subject: \(indexed) bytes together, over the \(indexedBytes) "
                + "PostgreSQL's index on them can hold")
        }
        return nil
    }

    /// The most bytes a `jsonb` value, and any string in it, may hold (PostgreSQL refuses a longer string
    /// with "string too long to represent as jsonb string").
    static let jsonbBytes = 268_435_455

    /// True for a stored time from 9999-12-31T23:59:59.9999995Z on: rounded to the microseconds a
    /// `timestamptz` keeps, it is 10000-01-01, which no export can write as an ISO 8601 time.
    static func roundsPastYear9999(_ time: ArraySlice<UInt8>) -> Bool {
        let last = Array("9999-12-31T23:59:59.999999".utf8)
        guard time.count > last.count, time.starts(with: last) else { return false }
        let seventh = time[time.startIndex + last.count]
        return seventh >= UInt8(ascii: "5") && seventh <= UInt8(ascii: "9")
    }

    /// The first field of `fact` that holds a NUL character, or nil when PostgreSQL can store them all.
    static func fieldHoldingNUL(_ fact: Fact) -> Fact.Field? {
        for field in Fact.Field.allCases {
            guard let range = fact.range(of: field) else { continue }
            let isJSON = field == .args || field == .context || field == .metadata
            if holdsNUL(fact.bytes[range], isJSON: isJSON) { return field }
        }
        return nil
    }

    /// True when `bytes` hold a 0x00 byte or, for JSON text, the escape `\u0000` (an escaped backslash
    /// followed by `u0000`, `\\u0000`, is text and not a NUL).
    static func holdsNUL(_ bytes: ArraySlice<UInt8>, isJSON: Bool) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0 { return true }
            if isJSON && byte == UInt8(ascii: "\\") {
                let escape = index + 1
                if escape < bytes.endIndex, bytes[escape] == UInt8(ascii: "u"), escape + 4 < bytes.endIndex,
                   bytes[(escape + 1)...(escape + 4)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                    return true
                }
                index += 2
            } else {
                index += 1
            }
        }
        return false
    }

    /// The most bytes a predicate and a subject may hold together in PostgreSQL. `facts_predicate_subject`
    /// and `facts_subject` hold them in B-tree entries, which PostgreSQL refuses past 2,704 bytes (8 KiB
    /// pages) with their headers; a longer pair would fail its whole batch, or an index build after a
    /// direct load, and every later load until that fact is gone. The default limits (100 characters of
    /// predicate, 500 of argument: at most 2,400 bytes) never reach it; raised ones may.
    static let indexedBytes = 2_600


    /// Digits `numeric` keeps before the decimal point (a weight of 32,767 base-10,000 digits) and after it
    /// (its display scale), as PostgreSQL 15 checks them: `1e131071` is stored, `1e131072` and
    /// `1e-16384` overflow. A zero's scale counts too (`0.0e-16383`).
    static let numericIntegerDigits = 131_072
    static let numericScale = 16_383
    /// An exponent `numeric` refuses outright (`INT_MAX / 2`).
    static let numericExponentLimit = 1_073_741_823

    /// What `numeric` makes of the numbers in the JSON text `bytes`, outside its strings: whether one is past its
    /// limits (the scan stops there), and how many bytes longer than as given they are once PostgreSQL writes
    /// them out (plain digits, no exponent: `1e3` as `1000`, `1e-3` as `0.001`; shorter ones count less).
    static func numbers(in bytes: ArraySlice<UInt8>) -> (unstorable: Bool, growth: Int) {
        var growth = 0
        var index = bytes.startIndex
        var inString = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                index += 1
            } else if byte == UInt8(ascii: "-") || isDigit(byte) {
                var number = JSONNumberShape()
                let start = index
                index = number.read(bytes, from: index)
                if number.overflowsNumeric { return (true, growth) }
                growth += number.writtenLength - (index - start)
            } else {
                index += 1
            }
        }
        return (false, growth)
    }

    fileprivate static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The column a field is stored in, as messages name it.
    static func columnName(_ field: Fact.Field) -> String {
        switch field {
        case .statement: "statement"
        case .predicate: "predicate"
        case .subject: "subject"
        case .object: "object"
        case .args: "args"
        case .source: "source"
        case .context: "context"
        case .metadata: "fact_metadata"
        case .createdAt: "created_at"
        }
    }
}

/// What decides whether a JSON number fits `numeric`: where its first significant digit sits and how many
/// digits its fraction has, once the exponent is applied. The exponent saturates, so no text overflows it.
private struct JSONNumberShape {
    private var integerDigits = 0
    private var fractionDigits = 0
    /// The first non-zero digit's index among all the digits, integer part first.
    private var firstSignificant: Int?
    private var exponent = 0
    private var isNegative = false

    /// Reads the number starting at `start`; returns the index after it.
    mutating func read(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") {
            isNegative = true
            index += 1
        }
        while index < bytes.endIndex, PostgreSQLStorableText.isDigit(bytes[index]) {
            note(bytes[index], at: integerDigits)
            integerDigits += 1
            index += 1
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.endIndex, PostgreSQLStorableText.isDigit(bytes[index]) {
                note(bytes[index], at: integerDigits + fractionDigits)
                fractionDigits += 1
                index += 1
            }
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var sign = 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                if bytes[index] == UInt8(ascii: "-") { sign = -1 }
                index += 1
            }
            var magnitude = 0
            while index < bytes.endIndex, PostgreSQLStorableText.isDigit(bytes[index]) {
                magnitude = min(magnitude * 10 + Int(bytes[index] - UInt8(ascii: "0")), 4_000_000_000)
                index += 1
            }
            exponent = sign * magnitude
        }
        return max(index, start + 1)
    }

    private mutating func note(_ digit: UInt8, at position: Int) {
        if firstSignificant == nil && digit != UInt8(ascii: "0") { firstSignificant = position }
    }

    /// Bytes of the number as `numeric` writes it: its integer part without leading zeros (at least `0`), and
    /// its display scale's digits after a point; a minus unless it is zero. Only for a number that does not
    /// overflow (its digits then number at most 131,072 + 16,383).
    var writtenLength: Int {
        let scale = max(0, fractionDigits - exponent)
        let integerPart: Int
        if let firstSignificant {
            let power = integerDigits - 1 - firstSignificant + exponent
            integerPart = max(power + 1, 1)
        } else {
            integerPart = 1
        }
        return (isNegative && firstSignificant != nil ? 1 : 0) + integerPart + (scale > 0 ? scale + 1 : 0)
    }

    var overflowsNumeric: Bool {
        // numeric_in refuses such an exponent whatever the digits, also a zero's (`0e1073741823`).
        if abs(exponent) >= PostgreSQLStorableText.numericExponentLimit { return true }
        if fractionDigits - exponent > PostgreSQLStorableText.numericScale { return true }
        guard let firstSignificant else { return false }
        // The power of ten of the first significant digit: 0 for 1, 131,071 for 1e131071.
        let power = integerDigits - 1 - firstSignificant + exponent
        return power >= PostgreSQLStorableText.numericIntegerDigits
    }
}
