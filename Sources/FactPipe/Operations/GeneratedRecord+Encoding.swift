/// Turning a generated record into the bytes of one NDJSON line, CSV record or text line.
extension GeneratedRecord {
    /// Appends the record in `format`, ending with a line feed, to `bytes`.
    ///
    /// NDJSON: `{"statement":…,"confidence":0.93,"source":…,"context":{"source":…,"tags":[…]},
    /// "created_at":"2025-09-15T10:00:00Z"}`, with `"`, `\` and control characters escaped.
    /// CSV: the same five fields in that order, quoted as RFC 4180 requires. Text: the statement.
    /// `missingStatement` records leave the statement out (an empty field in CSV), and
    /// `truncatedJSON` records are cut off halfway through the line, before its closing brace.
    public func encode(as format: FactGenerator.Format, into bytes: inout [UInt8]) {
        switch format {
        case .ndjson: encodeNDJSON(into: &bytes)
        case .csv: encodeCSV(into: &bytes)
        case .text: bytes.append(contentsOf: statement.utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// The header line a CSV output starts with.
    public static let csvHeader = "statement,confidence,source,context,created_at\n"

    private func encodeNDJSON(into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(UInt8(ascii: "{"))
        if kind != .invalid(.missingStatement) {
            bytes.append(contentsOf: #""statement":"#.utf8)
            Self.appendJSONString(statement, to: &bytes)
            bytes.append(UInt8(ascii: ","))
        }
        bytes.append(contentsOf: #""confidence":"#.utf8)
        Self.appendHundredths(confidenceHundredths, to: &bytes)
        bytes.append(contentsOf: #","source":"#.utf8)
        Self.appendJSONString(source, to: &bytes)
        bytes.append(contentsOf: #","context":"#.utf8)
        appendContextJSON(to: &bytes)
        bytes.append(contentsOf: #","created_at":""#.utf8)
        Self.appendISO8601(createdAt, to: &bytes)
        bytes.append(contentsOf: #""}"#.utf8)
        if kind == .invalid(.truncatedJSON) {
            // Cut at the middle, never inside a UTF-8 sequence: an opened object that never closes.
            var cut = start + (bytes.count - start) / 2
            while cut > start + 1, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes.removeSubrange(cut...)
        }
    }

    private func encodeCSV(into bytes: inout [UInt8]) {
        if kind != .invalid(.missingStatement) {
            Self.appendCSVField(statement.utf8, to: &bytes)
        }
        bytes.append(UInt8(ascii: ","))
        Self.appendHundredths(confidenceHundredths, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        Self.appendCSVField(source.utf8, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        var context: [UInt8] = []
        context.reserveCapacity(64)
        appendContextJSON(to: &context)
        Self.appendCSVField(context, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        Self.appendISO8601(createdAt, to: &bytes)
    }

    /// `{"source":"synthetic","tags":["t3"]}`
    private func appendContextJSON(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"source":"#.utf8)
        Self.appendJSONString(contextSource, to: &bytes)
        bytes.append(contentsOf: #","tags":["#.utf8)
        for (index, tag) in tags.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendJSONString(tag, to: &bytes)
        }
        bytes.append(contentsOf: "]}".utf8)
    }

    /// Appends `text` as a JSON string, quoted by `JSONText.appendQuoted`.
    static func appendJSONString(_ text: String, to bytes: inout [UInt8]) {
        JSONText.appendQuoted(text, to: &bytes)
    }

    /// Appends a CSV field, quoted (with quotes doubled) when it holds a comma, quote or line break.
    static func appendCSVField<Field: Collection<UInt8>>(_ field: Field, to bytes: inout [UInt8]) {
        let needsQuotes = field.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            bytes.append(contentsOf: field)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in field {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends hundredths as a decimal with two places: 93 → `0.93`, 100 → `1.00`, -5 → `-0.05`.
    static func appendHundredths(_ hundredths: Int, to bytes: inout [UInt8]) {
        if hundredths < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = hundredths.magnitude
        appendDigits(Int(magnitude / 100), width: 1, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(Int(magnitude % 100), width: 2, to: &bytes)
    }

    /// Appends `seconds` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
    static func appendISO8601(_ seconds: Int64, to bytes: inout [UInt8]) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Howard Hinnant's days-to-civil algorithm.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDigits(Int(year), width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(month), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(day), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(Int(secondOfDay / 3_600), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay / 60 % 60), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay % 60), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends a non-negative `value` in decimal, left-padded with zeros to `width` digits.
    private static func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = max(value, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while (rest > 0 || count < width) && count < buffer.count
            for index in (0..<count).reversed() { bytes.append(buffer[index]) }
        }
    }
}
