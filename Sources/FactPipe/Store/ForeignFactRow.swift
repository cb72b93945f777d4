/// A row of another program's `facts` table, with its predicate, subject and object worked out.
///
/// The columns decide where they are set; where they are empty or missing, the statement does:
/// the predicate is the text before its `(`, subject and object its first two arguments as the
/// grammar reads them. A statement the grammar refuses keeps its prefix as predicate (empty for
/// free text without a `(`) and no arguments.
struct ForeignFactRow {
    /// Which of the optional columns the table has, and where each is in the select list.
    struct Layout {
        static let optionalColumns = [
            "predicate", "subject", "object", "confidence", "source", "context", "fact_metadata", "created_at",
        ]
        /// Column index in the select list of each optional column present; `statement` is column 0.
        let index: [String: Int32]
        let selectList: String

        init(_ database: ReadableFactDatabase) {
            var index: [String: Int32] = [:]
            var names = ["statement"]
            for column in Self.optionalColumns where database.hasColumn(column) {
                index[column] = Int32(names.count)
                names.append(column)
            }
            self.index = index
            selectList = names.joined(separator: ", ")
        }

        var hasPredicate: Bool { index["predicate"] != nil }
    }

    /// Limits wide enough for any stored statement: the table's contents are read, not judged.
    static let lenientLimits: FactLimits = {
        var limits = FactLimits()
        limits.maxArgs = Int.max
        limits.maxArgLength = Int.max
        limits.maxPredicateLength = Int.max
        limits.maxStatementBytes = Int.max
        return limits
    }()

    /// What a restore reads a snapshot's statements under: `lenientLimits`, no record length, and control and
    /// invisible characters kept (a statement an earlier release stored with one comes back as it was).
    static let restoreLimits: FactLimits = {
        var limits = lenientLimits
        limits.maxRecordBytes = Int.max
        limits.keepsControlAndInvisibleCharacters = true
        return limits
    }()

    /// True when of the two rules only the restore's takes `statement`: it holds a control or invisible
    /// character, which a load refuses. A restore stores such a statement as written, so an export writes it.
    static func onlyRestoreTakes(_ statement: String) -> Bool {
        let isPlain = statement.utf8.withContiguousStorageIfAvailable { StatementCharacters.isPlain($0) } ?? false
        return !isPlain && (try? StatementParser.parse(statement, limits: lenientLimits)) == nil
    }

    let fact: StoredFact
    /// The statement in canonical form, or the stored text when the grammar refuses it.
    let canonical: String
    /// The number of arguments; nil when the grammar refuses the statement.
    let arity: Int?

    init(_ statement: SQLiteStatement, layout: Layout) {
        func text(_ column: String) -> String? {
            guard let index = layout.index[column], !statement.isNull(index) else { return nil }
            return statement.text(index)
        }
        func nonEmpty(_ column: String) -> String? {
            guard let value = text(column), !value.isEmpty else { return nil }
            return value
        }
        // Before any accessor converts a value: a column's type means nothing after a conversion.
        let texts = ["source", "context", "fact_metadata", "created_at"].compactMap { name in
            layout.index[name].map { (column: $0, name: name) }
        }
        let unloadable = statement.unloadable(confidence: layout.index["confidence"], texts: [(0, "statement")] + texts)
        let stored = statement.text(0) ?? ""
        let parsed = try? StatementParser.parse(stored, limits: Self.lenientLimits)
        canonical = parsed?.canonical ?? stored
        arity = parsed?.args.count
        // Free text (no `(`) has no predicate.
        let prefix = stored.firstIndex(of: "(").map { String(stored[..<$0]) } ?? ""
        let args = parsed?.args ?? []
        var confidence: Double?
        var confidenceText: String?
        if let index = layout.index["confidence"], !statement.isNull(index) {
            confidenceText = statement.storedUnlessNumber(index)
            confidence = statement.double(index)
        }
        // The columns in canonical form, as the statement's parts are: spelled otherwise (decomposed letters,
        // a run of spaces), a lookup missed the row and `stats` counted it apart.
        var read = StoredFact(
            statement: stored,
            predicate: nonEmpty("predicate").map(FactQuery.canonicalPredicate) ?? parsed?.predicate
                ?? prefix.trimmingASCIIWhitespace(),
            subject: nonEmpty("subject").map(FactQuery.canonicalTerm) ?? args.first,
            object: nonEmpty("object").map(FactQuery.canonicalTerm) ?? (args.count > 1 ? args[1] : nil),
            confidence: confidence, source: text("source"), context: text("context"),
            metadata: text("fact_metadata"), createdAt: text("created_at"))
        // What import would refuse or read as something else: no statement, a time it does not read.
        read.confidenceText = confidenceText
        read.unloadable = unloadable ?? (stored.isEmpty ? "it has no statement" : nil)
            ?? read.createdAt.flatMap { time in
                Timestamp.normalize(time) == nil
                    ? "its created_at \(String(time.prefix(40)).debugDescription) is not a time import reads" : nil
            }
        fact = read
    }

    /// True when every criterion of `query` holds for this row.
    func matches(_ query: FactQuery, canonicalStatement: String?) -> Bool {
        if let predicate = query.predicate, fact.predicate != predicate { return false }
        if let subject = query.subject, fact.subject != subject { return false }
        if let object = query.object, fact.object != object { return false }
        if let canonicalStatement, canonical != canonicalStatement { return false }
        return true
    }
}
