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
    /// The day of the last `created_at` found valid (`Timestamp.isNormalized`).
    private var knownDate = Timestamp.KnownDate()
    /// The canonical forms of statements written elsewhere in another spelling, with their fact's id.
    private var respelled: [String: Int64] = [:]

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
        // Each column is read from SQLite once (a read takes its mutex and checks the value's type).
        let statement = cursor.text(.statement) ?? UnsafeBufferPointer(start: nil, count: 0)
        // A version-1 database's statements are in the canonical form of then, which import may not give
        // back byte for byte: read every row as one written elsewhere.
        let writtenElsewhere = cursor.isWrittenElsewhere || cursor.holdsOldCanonicalForm
        if writtenElsewhere { try checkStatementWrittenElsewhere(statement, cursor) }
        guard format == .ndjson || format == .csv else {
            try Self.checkUTF8(statement, "statement", cursor)
            if statement.contains(0x0A) || statement.contains(0x0D) {
                throw SnapshotError(
                    .unencodable, path: cursor.path,
                    "fact \(cursor.id) has a line break in its statement and cannot be written as text; "
                        + "export it as ndjson or csv")
            }
            out.append(statement)
            out.append(0x0A)
            return
        }
        let source = cursor.text(.source)
        let context = try Self.object(cursor.text(.context), "context", cursor)
        let metadata = try Self.object(cursor.text(.metadata), "fact_metadata", cursor)
        let createdAt = cursor.text(.createdAt) ?? UnsafeBufferPointer(start: nil, count: 0)
        try checkImportable(cursor, context: context, metadata: metadata, createdAt: createdAt)
        if writtenElsewhere {
            try Self.checkObject(context, "context", cursor)
            try Self.checkObject(metadata, "fact_metadata", cursor)
        }
        if format == .ndjson {
            // The quoting pass over the statement and the source sees whether they hold anything but
            // ASCII; only such text is decoded (a failed export leaves no archive).
            out.append("{\"statement\":")
            if Self.appendJSONString(statement, to: out) { try Self.checkUTF8(statement, "statement", cursor) }
            out.append(",\"confidence\":")
            try appendConfidence(cursor, to: out)
            out.append(",\"source\":")
            if let source {
                if Self.appendJSONString(source, to: out) { try Self.checkUTF8(source, "source", cursor) }
            } else {
                out.append("null")
            }
            out.append(",\"context\":")
            out.append(context)
            out.append(",\"fact_metadata\":")
            out.append(metadata)
            out.append(",\"created_at\":")
            Self.appendJSONString(createdAt, to: out)
            out.append(UInt8(ascii: "}"))
        } else {
            try Self.checkUTF8(statement, "statement", cursor)
            if let source { try Self.checkUTF8(source, "source", cursor) }
            Self.appendCSVField(statement, to: out)
            out.append(UInt8(ascii: ","))
            try appendConfidence(cursor, to: out)
            out.append(UInt8(ascii: ","))
            if let source { Self.appendCSVField(source, to: out) }
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(context, to: out)
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(metadata, to: out)
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(createdAt, to: out)
        }
        out.append(0x0A)
    }

    /// A stored JSON object column, checked to look like one so every written line stays JSON.
    private static func object(
        _ text: UnsafeBufferPointer<UInt8>?, _ name: String, _ cursor: some FactRowSource
    ) throws(SnapshotError) -> UnsafeBufferPointer<UInt8> {
        guard let text, let first = text.first, let last = text.last, first == UInt8(ascii: "{"),
            last == UInt8(ascii: "}")
        else {
            throw SnapshotError(.unencodable, path: cursor.path, "fact \(cursor.id) has a \(name) that is not a JSON object")
        }
        return text
    }

    /// Refuses a fact whose stored text import would refuse, written into the database by another
    /// program: text that is not UTF-8 (no JSON, and no statement), or a `created_at` that is not an ISO 8601
    /// time. Such an archive would verify, and then not restore that fact. ASCII text, and a time in the
    /// form factpipe stores, are checked eight bytes at a time without allocating.
    /// The statement and the source are checked by `checkUTF8` where they are written.
    private mutating func checkImportable(
        _ cursor: some FactRowSource, context: UnsafeBufferPointer<UInt8>, metadata: UnsafeBufferPointer<UInt8>,
        createdAt: UnsafeBufferPointer<UInt8>
    ) throws(SnapshotError) {
        if !Self.isUTF8(context) { throw Self.unimportable(cursor, "context", "text that is not UTF-8") }
        if !Self.isUTF8(metadata) { throw Self.unimportable(cursor, "fact_metadata", "text that is not UTF-8") }
        // A time in the stored form is ASCII; an empty one import reads as none given (the load's time).
        if createdAt.isEmpty || Timestamp.isNormalized(createdAt, knownDate: &knownDate) { return }
        if !Self.isUTF8(createdAt) { throw Self.unimportable(cursor, "created_at", "text that is not UTF-8") }
        if Timestamp.normalize(String(decoding: createdAt, as: UTF8.self)) == nil {
            let shown = String(decoding: createdAt.prefix(40), as: UTF8.self)
            throw Self.unimportable(cursor, "created_at", "\"\(shown)\", which is not an ISO 8601 time")
        }
    }

    /// A statement no factpipe load wrote, read as restore will read it: the grammar must take it, and,
    /// when its canonical form is another text, that form must be no other fact's, or the restore would
    /// keep one fact for two and fail. Parsing costs: only such rows (`load_id` NULL) are checked. Two
    /// kinds are restored as written, so need no such care: a version-1 database's (the restore migrates
    /// them as a writer migrates that database, merging look-alikes), and one with a control or invisible
    /// character, which only the restore's rule takes.
    private mutating func checkStatementWrittenElsewhere(
        _ statement: UnsafeBufferPointer<UInt8>, _ cursor: some FactRowSource
    ) throws(SnapshotError) {
        try Self.checkUTF8(statement, "statement", cursor)
        let text = String(decoding: statement, as: UTF8.self)
        let parsed: ParsedStatement
        do {
            parsed = try StatementParser.parse(text, limits: ForeignFactRow.restoreLimits)
        } catch {
            throw Self.refused(cursor, "statement", "\(error)")
        }
        guard !parsed.canonical.utf8.elementsEqual(statement), !cursor.holdsOldCanonicalForm,
              !ForeignFactRow.onlyRestoreTakes(text)
        else { return }
        let other = respelled[parsed.canonical]
        var stored = false
        if other == nil { stored = try cursor.holds(statement: parsed.canonical) }
        if other != nil || stored {
            let which = other.map { "fact \($0), also spelled another way" } ?? "the fact stored as \(parsed.canonical)"
            throw SnapshotError(
                .unencodable, path: cursor.path,
                "fact \(cursor.id), \(JSONText.quoted(String(text.prefix(100)))), is \(which): import reads both as one, so the "
                    + "archive would not restore it; delete one of them (DELETE FROM facts WHERE id = …) and export "
                    + "again")
        }
        respelled[parsed.canonical] = cursor.id
    }

    /// A JSON object column no factpipe load wrote, scanned as import will scan it (escapes, depth).
    private static func checkObject(
        _ text: UnsafeBufferPointer<UInt8>, _ column: String, _ cursor: some FactRowSource
    ) throws(SnapshotError) {
        var scanner = JSONScanner(text)
        do {
            try scanner.scanObject { _, _ in }
        } catch {
            throw refused(cursor, column, error.message)
        }
    }

    private static func refused(_ cursor: some FactRowSource, _ column: String, _ why: String) -> SnapshotError {
        SnapshotError(
            .unencodable, path: cursor.path,
            "fact \(cursor.id) has a \(column) import refuses (\(why)): the archive would not restore it; correct it "
                + "(UPDATE facts SET \(column) = … WHERE id = \(cursor.id)) and export again")
    }

    private static func checkUTF8(
        _ text: UnsafeBufferPointer<UInt8>, _ column: String, _ cursor: some FactRowSource
    ) throws(SnapshotError) {
        if !isUTF8(text) { throw unimportable(cursor, column, "text that is not UTF-8") }
    }

    private static func unimportable(_ cursor: some FactRowSource, _ column: String, _ what: String) -> SnapshotError {
        SnapshotError(
            .unencodable, path: cursor.path,
            "fact \(cursor.id) has a \(column) of \(what), which import refuses: the archive would not restore "
                + "it; correct it (UPDATE facts SET \(column) = … WHERE id = \(cursor.id)) and export again")
    }

    /// True when `text` is UTF-8 (shortest forms, no surrogates, nothing past U+10FFFF): ASCII is passed
    /// 32 and then 8 bytes at a time, and the rest decoded in place, without allocating.
    static func isUTF8(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let start = text.baseAddress else { return true }
        let count = text.count
        var index = 0
        let raw = UnsafeRawPointer(start)
        while index < count {
            while index + 32 <= count {
                let words = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
                if words & 0x8080_8080_8080_8080 != 0 { break }
                index += 32
            }
            while index + 8 <= count, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            // Fewer than 8 bytes left: read as the last word, which overlaps bytes already passed.
            if index < count, index + 8 > count, count >= 8,
                raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                return true
            }
            guard index < count else { return true }
            let lead = start[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let (length, smallest, bits): (Int, UInt32, UInt8) =
                lead & 0xE0 == 0xC0 ? (2, 0x80, 0x1F) : lead & 0xF0 == 0xE0 ? (3, 0x800, 0x0F)
                : lead & 0xF8 == 0xF0 ? (4, 0x1_0000, 0x07) : (0, 0, 0)
            guard length > 0, index + length <= count else { return false }
            var scalar = UInt32(lead & bits)
            for offset in 1..<length {
                let next = start[index + offset]
                guard next & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            guard scalar >= smallest, scalar <= 0x10_FFFF, scalar & 0xFFFF_F800 != 0xD800 else { return false }
            index += length
        }
        return true
    }

    /// Appends the confidence of the cursor's fact; one import would refuse (not a finite number from 0
    /// to 1, written into the database by another program) is refused, as `inf` is no JSON and such an
    /// archive would verify but not restore.
    private mutating func appendConfidence(_ cursor: some FactRowSource, to out: OutputBytes) throws(SnapshotError) {
        var value = cursor.confidence
        // -0 as 0, as import takes it: a PostgreSQL database loaded before then may hold -0.
        if value == 0 { value = 0 }
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

    /// Appends `text` as a JSON string, quoted by `JSONText.appendQuoted`; returns whether it holds
    /// anything but ASCII.
    @inline(__always) @discardableResult
    static func appendJSONString(_ text: UnsafeBufferPointer<UInt8>, to out: OutputBytes) -> Bool {
        var sink = out
        return JSONText.appendQuoted(text, to: &sink)
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
