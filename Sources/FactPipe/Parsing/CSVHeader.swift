/// The meaning of each column of a CSV/TSV input, from its header row (DESIGN 2).
///
/// Columns are matched by name, case-insensitively: `statement` (or `s`, `fact`), or `predicate`,
/// `subject`, `object`, `arg3`…`arg64` (a column named as a later argument is refused); `args` (a JSON
/// array); `confidence`, `source`, `created_at`, `timestamp`, `context`, `fact_metadata`/`metadata`,
/// `tags`, `certainty`. Other columns go to
/// `fact_metadata` as strings. An empty field counts as absent. A header naming one field twice is refused.
struct CSVHeader: Sendable {
    enum Column: Sendable, Hashable {
        case statement, predicate, subject, object, extraArg(Int), args
        case confidence, source, createdAt, timestamp, context, metadata, contextExtra(String)
        case other(String)
    }

    let columns: [Column]

    /// The columns of factpipe's own CSV snapshot (`FactRowEncoder.csvHeader`): alone in a file, that header is
    /// the export of a database with no fact, not a misread input (its import failed, "no record found").
    static let snapshotColumns: [Column] = [.statement, .confidence, .source, .context, .metadata, .createdAt]

    /// Header names that say where a fact is: one of them makes a header row.
    static let factColumnNames: Set<String> = ["statement", "s", "fact", "predicate"]

    /// Maps header names to columns; `mapping` renames input columns to factpipe's names first.
    /// - Throws: `FieldError` when the header names neither a statement nor a predicate column, names a
    ///   column twice (`confidence,confidence`, `statement,fact`, `subject,arg1`, `foo,foo`: one of the two
    ///   values would be lost) or has a column without a name.
    init(names: [String], mapping: [String: String] = [:]) throws(FieldError) {
        var columns: [Column] = []
        // Where each column is, to find one named twice without comparing every pair (100,000 columns).
        var positions: [Column: Int] = [:]
        for (index, raw) in names.enumerated() {
            let given = raw.trimmingASCIIWhitespace()
            guard !given.isEmpty else {
                throw FieldError(reason: .invalidCSV, message: "column \(index + 1) has no name; name it or remove it")
            }
            // Columns are matched case-insensitively, and so are the mapping's names for them.
            let name = mapping[given] ?? mapping.first { $0.key.lowercased() == given.lowercased() }?.value ?? given
            let lower = name.lowercased()
            let column: Column
            switch lower {
            case "statement", "s", "fact": column = .statement
            case "predicate": column = .predicate
            case "subject", "arg1": column = .subject
            case "object", "arg2": column = .object
            case "args": column = .args
            case "confidence": column = .confidence
            case "source": column = .source
            case "created_at": column = .createdAt
            case "timestamp": column = .timestamp
            case "context": column = .context
            case "fact_metadata", "metadata": column = .metadata
            case "tags", "certainty": column = .contextExtra(lower)
            default:
                if let position = RecordFields.argumentPosition(lower) {
                    // `arg01` is the subject as `arg1` is, and `arg03` the third argument.
                    column = position == 1 ? .subject : position == 2 ? .object : .extraArg(position - 3)
                } else if RecordFields.argumentNumber(lower) != nil {
                    // Kept in fact_metadata, the argument would be missing from a fact that looked whole.
                    throw FieldError(
                        reason: .invalidCSV,
                        message: "column \(index + 1) (\(given)) gives an argument past "
                            + "arg\(RecordFields.lastArgumentPosition), the last a column can give by position; give "
                            + "such a fact as a statement, or its arguments as an args column (a JSON array)")
                } else {
                    column = .other(name)
                }
            }
            if let earlier = positions[column] {
                throw FieldError(
                    reason: .invalidCSV,
                    message: "column \(index + 1) (\(given)) names the same field as column \(earlier + 1) "
                        + "(\(names[earlier].trimmingASCIIWhitespace())); one of their values would be lost")
            }
            positions[column] = columns.count
            columns.append(column)
        }
        guard columns.contains(.statement) || columns.contains(.predicate) else {
            throw FieldError(
                reason: .invalidCSV,
                message: "the header row names no statement column and no predicate column (found: "
                    + names.prefix(12).joined(separator: ", ") + ")")
        }
        self.columns = columns
    }

    /// The fields of one data record.
    /// - Throws: `FieldError` when the record's field count differs from the header's, or a JSON column is invalid.
    /// `keepsRepeatedNames` keeps a context or metadata object that gives a name twice (a restore).
    func fields(from values: [String], keepsRepeatedNames: Bool = false) throws(FieldError) -> RecordFields {
        guard values.count == columns.count else {
            throw FieldError(
                reason: .invalidCSV,
                message: "expected \(columns.count) fields as in the header, found \(values.count)")
        }
        var fields = RecordFields()
        for (column, value) in zip(columns, values) where !value.isEmpty {
            switch column {
            case .statement: fields.statement = value
            case .predicate: fields.predicate = value
            case .subject: fields.subject = value
            case .object: fields.object = value
            case .extraArg(let index): fields.setArgument(value, at: index + 3)
            case .args:
                var utf8 = Array(value.utf8)
                let items: [String]? = utf8.withUnsafeMutableBufferPointer { buffer in
                    var scanner = JSONScanner(UnsafeBufferPointer(buffer))
                    return try? scanner.scanScalarArray()
                }
                guard let items else {
                    throw FieldError(reason: .invalidField, message: "args must be a JSON array of strings")
                }
                fields.args = items
            case .confidence: if !Self.isNull(value) { fields.confidenceText = value }
            case .source: fields.source = value
            case .createdAt: fields.createdAt = value
            case .timestamp: fields.timestampText = value
            case .context:
                fields.context = try Self.objectText(value, "context", .invalidContext, keepsRepeatedNames)
            case .metadata:
                fields.metadata = try Self.objectText(value, "fact_metadata", .invalidMetadata, keepsRepeatedNames)
            case .contextExtra(let key):
                if !Self.isNull(value) { fields.contextExtras.append((key, Self.jsonOrString(value))) }
            case .other(let key): fields.metadataExtras.append((key, JSONText.quoted(value)))
            }
        }
        return fields
    }

    /// A cell `null` gives nothing, as `null` in NDJSON does (docs/formats.md): in `tags` or `certainty` it was
    /// JSON's null, stored on insert, and under `update` it deleted the stored member; as a confidence it was
    /// refused ("not a number").
    private static func isNull(_ value: String) -> Bool {
        value.trimmingASCIIWhitespace() == "null"
    }

    private static func objectText(
        _ value: String, _ key: String, _ reason: RecordDiagnostic.Reason, _ keepsRepeatedNames: Bool
    ) throws(FieldError) -> String {
        let trimmed = value.trimmingASCIIWhitespace()
        var utf8 = Array(trimmed.utf8)
        // Checked as an NDJSON record's object value is: a name given twice, at any depth, refuses it.
        let problem = utf8.withUnsafeMutableBufferPointer { buffer -> String? in
            var scanner = JSONScanner(UnsafeBufferPointer(buffer))
            scanner.refusesRepeatedNames = !keepsRepeatedNames
            return scanner.objectAloneProblem()
        }
        if let problem { throw FieldError(reason: reason, message: "\(key) is not one JSON object: \(problem)") }
        return trimmed
    }

    /// The value itself when it is JSON (a tag list such as `["a","b"]`), else the value as a JSON string.
    private static func jsonOrString(_ value: String) -> String {
        var utf8 = Array(value.utf8)
        let isJSON = utf8.withUnsafeMutableBufferPointer { buffer -> Bool in
            var scanner = JSONScanner(UnsafeBufferPointer(buffer))
            guard (try? scanner.scanValue(depth: 1)) != nil else { return false }
            return scanner.index == buffer.count
        }
        return isJSON ? value : JSONText.quoted(value)
    }
}
