/// Writes the current row of a `FactRowSource` (SQLite or PostgreSQL) as one record of a snapshot, in exactly the shape
/// `import` reads back into the same columns.
///
/// - NDJSON: `{"statement":…,"confidence":…,"source":…|null,"context":{…},"fact_metadata":{…},`
///   `"created_at":…}`; `context` and `fact_metadata` are the stored object text, verbatim, so a
///   re-import stores the same text.
/// - CSV: the same six columns under a header row, RFC 4180 quoting where a field needs it; a NULL
///   source is an empty field.
/// - text: the statement alone, one a line.
///
/// A confidence is written with Swift's shortest representation that reads back as the same double.
struct FactRowEncoder {
    let format: SnapshotManifest.Format
    /// Texts of confidences seen, by their bits (a handful of values repeat across millions of
    /// rows): where each one sits in `confidenceBytes`.
    private var confidenceTexts: [UInt64: (offset: Int, count: Int)] = [:]
    private let confidenceBytes = OutputBytes(capacity: 4096)

    /// The CSV header row.
    static let csvHeader: StaticString = "statement,confidence,source,context,fact_metadata,created_at\n"

    init(format: SnapshotManifest.Format) {
        precondition(format != .sqlite, "a SQLite database is not written row by row")
        self.format = format
    }

    /// Appends what comes before the first record (the CSV header row) to `out`.
    func appendHeader(to out: OutputBytes) {
        if format == .csv { out.append(Self.csvHeader) }
    }

    /// Appends the cursor's current row to `out`.
    /// - Throws: `SnapshotError` `.unencodable` for a fact the format cannot carry (a line break in a
    ///   statement written as text, a stored context that is not a JSON object).
    mutating func append(_ cursor: some FactRowSource, to out: OutputBytes) throws(SnapshotError) {
        let statement = cursor.text(.statement) ?? UnsafeBufferPointer(start: nil, count: 0)
        switch format {
        case .ndjson:
            let context = try object(cursor, .context)
            let metadata = try object(cursor, .metadata)
            out.append("{\"statement\":")
            Self.appendJSONString(statement, to: out)
            out.append(",\"confidence\":")
            try appendConfidence(cursor, to: out)
            out.append(",\"source\":")
            if let source = cursor.text(.source) {
                Self.appendJSONString(source, to: out)
            } else {
                out.append("null")
            }
            out.append(",\"context\":")
            out.append(context)
            out.append(",\"fact_metadata\":")
            out.append(metadata)
            out.append(",\"created_at\":")
            Self.appendJSONString(cursor.text(.createdAt) ?? UnsafeBufferPointer(start: nil, count: 0), to: out)
            out.append(UInt8(ascii: "}"))
        case .csv:
            Self.appendCSVField(statement, to: out)
            out.append(UInt8(ascii: ","))
            try appendConfidence(cursor, to: out)
            out.append(UInt8(ascii: ","))
            if let source = cursor.text(.source) { Self.appendCSVField(source, to: out) }
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(try object(cursor, .context), to: out)
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(try object(cursor, .metadata), to: out)
            out.append(UInt8(ascii: ","))
            if let createdAt = cursor.text(.createdAt) { Self.appendCSVField(createdAt, to: out) }
        case .text, .sqlite:
            if statement.contains(0x0A) || statement.contains(0x0D) {
                throw SnapshotError(
                    .unencodable, path: cursor.path,
                    "fact \(cursor.id) has a line break in its statement and cannot be written as text; "
                        + "export it as ndjson or csv")
            }
            out.append(statement)
        }
        out.append(0x0A)
    }

    /// A stored JSON object column, checked to look like one so every written line stays JSON.
    private func object(_ cursor: some FactRowSource, _ column: FactCursor.Column) throws(SnapshotError)
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

    /// Appends the confidence of the cursor's fact; one import would refuse (not a finite number from 0
    /// to 1, written into the database by another program) is refused, as `inf` is no JSON and such an
    /// archive would verify but not restore.
    private mutating func appendConfidence(_ cursor: some FactRowSource, to out: OutputBytes) throws(SnapshotError) {
        let value = cursor.confidence
        if let known = confidenceTexts[value.bitPattern] {
            out.append(confidenceBytes.base + known.offset, known.count)
            return
        }
        guard value.isFinite, value >= 0, value <= 1 else {
            throw SnapshotError(
                .unencodable, path: cursor.path,
                "fact \(cursor.id) has a confidence of \(value), outside 0…1, which import refuses; correct it "
                    + "(UPDATE facts SET confidence = … WHERE id = \(cursor.id)) and export again")
        }
        var text = value.description
        text.withUTF8 { utf8 in
            out.append(utf8)
            if confidenceTexts.count < 1024 {
                confidenceTexts[value.bitPattern] = (confidenceBytes.count, utf8.count)
                confidenceBytes.append(utf8)
            }
        }
    }

    /// Appends `text` as a JSON string, quoted by `JSONText.appendQuoted`.
    @inline(__always)
    static func appendJSONString(_ text: UnsafeBufferPointer<UInt8>, to out: OutputBytes) {
        var sink = out
        JSONText.appendQuoted(text, to: &sink)
    }

    /// Appends `text` as a CSV field, quoted (with `""` for a quote) only when it holds a comma, a
    /// quote or a line break.
    static func appendCSVField(_ text: UnsafeBufferPointer<UInt8>, to out: OutputBytes) {
        guard let start = text.baseAddress else { return }
        let needsQuotes = text.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            out.append(text)
            return
        }
        out.append(0x22)
        var runStart = 0
        for index in 0..<text.count where text[index] == 0x22 {
            out.append(start + runStart, index + 1 - runStart)
            out.append(0x22)
            runStart = index + 1
        }
        out.append(start + runStart, text.count - runStart)
        out.append(0x22)
    }
}

extension OutputBytes: JSONByteSink {
    func appendJSONBytes(_ bytes: UnsafeBufferPointer<UInt8>) { append(bytes) }
    func appendJSONByte(_ byte: UInt8) { append(byte) }
}
