/// Writes the current row of a `FactCursor` as one record of a snapshot, in exactly the shape
/// `import` reads back into the same columns.
///
/// - NDJSON: `{"statement":…,"confidence":…,"source":…|null,"context":{…},"fact_metadata":{…},`
///   `"created_at":…}`; `context` and `fact_metadata` are the stored object text, verbatim, so a re-import stores the
///   same text.
/// - CSV: the same six columns under a header row, RFC 4180 quoting where a field needs it; a NULL
///   source is an empty field.
/// - text: the statement alone, one a line.
///
/// A confidence is written with Swift's shortest representation that reads back as the same double.
struct FactRowEncoder {
    let format: SnapshotManifest.Format
    /// Texts of confidences seen, by their bits: a handful of values repeat across millions of rows.
    private var confidenceTexts: [UInt64: [UInt8]] = [:]

    /// The CSV header row.
    static let csvHeader = Array("statement,confidence,source,context,fact_metadata,created_at\n".utf8)

    init(format: SnapshotManifest.Format) {
        precondition(format != .sqlite, "a SQLite database is not written row by row")
        self.format = format
    }

    /// What comes before the first record (the CSV header row).
    var header: [UInt8] { format == .csv ? Self.csvHeader : [] }

    /// Appends the cursor's current row to `out`.
    /// - Throws: `SnapshotError` `.unencodable` for a fact the format cannot carry (a line break in a
    ///   statement written as text, a stored context that is not a JSON object).
    mutating func append(_ cursor: FactCursor, to out: inout [UInt8]) throws(SnapshotError) {
        let statement = cursor.text(.statement) ?? UnsafeBufferPointer(start: nil, count: 0)
        switch format {
        case .ndjson:
            let context = try object(cursor, .context)
            let metadata = try object(cursor, .metadata)
            out.append(contentsOf: Self.statementKey)
            Self.appendJSONString(statement, to: &out)
            out.append(contentsOf: Self.confidenceKey)
            appendConfidence(cursor.confidence, to: &out)
            out.append(contentsOf: Self.sourceKey)
            if let source = cursor.text(.source) {
                Self.appendJSONString(source, to: &out)
            } else {
                out.append(contentsOf: Self.null)
            }
            out.append(contentsOf: Self.contextKey)
            out.append(contentsOf: context)
            out.append(contentsOf: Self.metadataKey)
            out.append(contentsOf: metadata)
            out.append(contentsOf: Self.createdAtKey)
            Self.appendJSONString(cursor.text(.createdAt) ?? UnsafeBufferPointer(start: nil, count: 0), to: &out)
            out.append(UInt8(ascii: "}"))
        case .csv:
            Self.appendCSVField(statement, to: &out)
            out.append(UInt8(ascii: ","))
            appendConfidence(cursor.confidence, to: &out)
            out.append(UInt8(ascii: ","))
            if let source = cursor.text(.source) { Self.appendCSVField(source, to: &out) }
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(try object(cursor, .context), to: &out)
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(try object(cursor, .metadata), to: &out)
            out.append(UInt8(ascii: ","))
            if let createdAt = cursor.text(.createdAt) { Self.appendCSVField(createdAt, to: &out) }
        case .text, .sqlite:
            if statement.contains(0x0A) || statement.contains(0x0D) {
                throw SnapshotError(
                    .unencodable, path: cursor.path,
                    "fact \(cursor.id) has a line break in its statement and cannot be written as text; "
                        + "export it as ndjson or csv")
            }
            out.append(contentsOf: statement)
        }
        out.append(0x0A)
    }

    /// A stored JSON object column, checked to look like one so every written line stays JSON.
    private func object(_ cursor: FactCursor, _ column: FactCursor.Column) throws(SnapshotError)
        -> UnsafeBufferPointer<UInt8>
    {
        guard let text = cursor.text(column), let first = text.first, let last = text.last,
            first == UInt8(ascii: "{"), last == UInt8(ascii: "}")
        else {
            let name = column == .context ? "context" : "fact_metadata"
            throw SnapshotError(
                .unencodable, path: cursor.path, "fact \(cursor.id) has a \(name) that is not a JSON object")
        }
        return text
    }

    private mutating func appendConfidence(_ value: Double, to out: inout [UInt8]) {
        if let text = confidenceTexts[value.bitPattern] {
            out.append(contentsOf: text)
            return
        }
        let text = Array(value.description.utf8)
        if confidenceTexts.count < 4096 { confidenceTexts[value.bitPattern] = text }
        out.append(contentsOf: text)
    }

    private static let statementKey = Array("{\"statement\":".utf8)
    private static let confidenceKey = Array(",\"confidence\":".utf8)
    private static let sourceKey = Array(",\"source\":".utf8)
    private static let contextKey = Array(",\"context\":".utf8)
    private static let metadataKey = Array(",\"fact_metadata\":".utf8)
    private static let createdAtKey = Array(",\"created_at\":".utf8)
    private static let null = Array("null".utf8)
    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\r`, `\t`
    /// or `\u00XX`, everything else (UTF-8 included) as it is.
    static func appendJSONString(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<text.count {
            let byte = text[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
            if index > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index])) }
            runStart = index + 1
            out.append(0x5C)
            switch byte {
            case 0x22, 0x5C: out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        if runStart < text.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...])) }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `text` as a CSV field, quoted (with `""` for a quote) only when it holds a comma, a
    /// quote or a line break.
    static func appendCSVField(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let needsQuotes = text.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            out.append(contentsOf: text)
            return
        }
        out.append(0x22)
        var runStart = 0
        for index in 0..<text.count where text[index] == 0x22 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...index]))
            out.append(0x22)
            runStart = index + 1
        }
        if runStart < text.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...])) }
        out.append(0x22)
    }
}
