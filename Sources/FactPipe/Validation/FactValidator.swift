/// Turns a record's fields into a `Fact` under the grammar and the limits, or says why it cannot.
///
/// A statement given whole is authoritative. Parts given beside it that disagree with it are kept
/// in `fact_metadata` under `given_parts` and reported as a warning (or refused with `strictParts`).
struct FactValidator: Sendable {
    /// The outcome for one record.
    enum Outcome {
        case fact(Fact, warning: String?)
        case rejected(RecordDiagnostic.Reason, String)
    }

    var limits: FactLimits
    var strictParts: Bool
    /// Refuse a fact PostgreSQL cannot keep (the store is PostgreSQL): `PostgreSQLStorableText.refusal(of:)`.
    var forPostgreSQL: Bool
    /// Keep a statement given whole as written instead of its canonical form (`ImportOptions.keepsStatementsAsWritten`).
    var keepsStatementAsWritten: Bool

    init(
        limits: FactLimits = .default, strictParts: Bool = false, forPostgreSQL: Bool = false,
        keepsStatementAsWritten: Bool = false
    ) {
        self.limits = limits
        self.strictParts = strictParts
        self.forPostgreSQL = forPostgreSQL
        self.keepsStatementAsWritten = keepsStatementAsWritten
    }

    func validate(_ fields: consuming RecordFields) -> Outcome {
        // 1. The statement, whole or assembled from its parts.
        let given = fields.statement
        var assembledArgs: [String]?
        let text: String
        if let statement = given {
            text = statement
        } else if let predicate = fields.predicate {
            var args = fields.args ?? []
            if fields.args == nil {
                // By position: subject, object, arg3, …. One missing or empty before one given would move
                // the later ones into its place (`IsA(b).` for a subject left out before the object `b`).
                let parts = [fields.subject, fields.object] + fields.extraArgs
                let name = { (index: Int) in index == 0 ? "subject" : index == 1 ? "object" : "arg\(index + 1)" }
                if let last = parts.lastIndex(where: { !($0 ?? "").isEmpty }) {
                    for (index, part) in parts[...last].enumerated() {
                        guard let part, !part.isEmpty else {
                            return .rejected(
                                .missingStatement,
                                "\(name(index)) is missing while \(name(last)) is given: arguments must be given "
                                    + "without gaps")
                        }
                        args.append(part)
                    }
                }
            }
            guard !args.isEmpty else {
                return .rejected(.missingStatement, "predicate \(predicate) is given without arguments")
            }
            assembledArgs = args
            text = predicate + "(" + args.joined(separator: ", ") + ")"
        } else {
            return .rejected(.missingStatement, "no statement: expected statement, predicate with args, or predicate with subject")
        }
        let parsed: ParsedStatement
        do {
            parsed = try StatementParser.parse(text, limits: limits)
        } catch {
            let reason: RecordDiagnostic.Reason
            switch error.kind {
            case .tooLong, .tooManyArguments, .predicateTooLong, .argumentTooLong: reason = .limitExceeded
            case .controlCharacter: reason = .controlCharacter
            case .invisibleCharacter: reason = .invisibleCharacter
            default: reason = .syntax
            }
            let assembled = StatementCharacters.printable(String(text.prefix(120)))
            let what = given == nil ? "statement assembled from its parts (\(assembled))" : "statement"
            return .rejected(reason, "\(what): \(error)")
        }
        if let assembledArgs, assembledArgs.count != parsed.args.count {
            return .rejected(.syntax, "each argument must be one term; \(assembledArgs.count) given, \(parsed.args.count) found")
        }

        // 2. Parts given beside a whole statement, or beside `args`, must agree with it (with `args`, a
        // `subject` or `object` that disagreed was dropped without a word, even with --strict-parts).
        var warning: String?
        if given != nil || fields.args != nil {
            var disagreements: [(key: String, json: String)] = []
            func compare(_ key: String, _ value: String?, _ expected: String?) {
                guard let value else { return }
                if !Self.sameTerm(value, expected) { disagreements.append((key, JSONText.quoted(value))) }
            }
            compare("predicate", fields.predicate, parsed.predicate)
            compare("subject", fields.subject, parsed.args.first)
            compare("object", fields.object, parsed.args.count > 1 ? parsed.args[1] : nil)
            for (offset, part) in fields.extraArgs.enumerated() where !(part ?? "").isEmpty {
                let index = offset + 2
                compare("arg\(index + 1)", part, index < parsed.args.count ? parsed.args[index] : nil)
            }
            if given != nil, let args = fields.args,
               args.count != parsed.args.count || zip(args, parsed.args).contains(where: { !Self.sameTerm($0, $1) }) {
                disagreements.append(("args", JSONText.array(args)))
            }
            if !disagreements.isEmpty {
                let names = disagreements.map(\.key).joined(separator: ", ")
                let beside = given != nil ? "the statement disagree with it" : "args disagree with them"
                if strictParts {
                    return .rejected(.partsDisagree, "\(names) given beside \(beside)")
                }
                // Under `given_parts`, or `given_parts_2`, … when the record's metadata already has that key.
                let key = Self.unusedKey("given_parts", metadata: fields.metadata, extras: fields.metadataExtras)
                warning = "\(names) given beside \(beside); kept in fact_metadata.\(key)"
                fields.metadataExtras.append((key, JSONText.object(disagreements)))
            }
        }

        // 3. Side fields.
        var confidence = fields.confidence ?? 1.0
        if fields.confidence == nil, let text = fields.confidenceText {
            guard Self.isDecimal(text), let value = Double(text.trimmingASCIIWhitespace()) else {
                return .rejected(.invalidConfidence, "confidence \(text.prefix(40)) is not a number")
            }
            if let underflow = ConfidenceText.underflow(value, text) { return .rejected(.invalidConfidence, underflow) }
            confidence = value
        }
        guard confidence.isFinite, confidence >= 0, confidence <= 1 else {
            return .rejected(.invalidConfidence, "confidence \(confidence) is outside 0…1")
        }
        // -0 is 0: SQLite stored it as 0.0 and PostgreSQL as -0, so the two stores' exports differed.
        if confidence == 0 { confidence = 0 }
        var createdAt: String?
        if let raw = fields.createdAt {
            guard let normalized = Timestamp.normalize(raw) else {
                return .rejected(.invalidCreatedAt, "created_at \(raw.prefix(40)) is not an ISO 8601 time")
            }
            createdAt = normalized
            // A timestamp beside created_at is kept as it was given.
            if let text = fields.timestampText {
                fields.metadataExtras.append(("timestamp", fields.timestampIsNumber ? text : JSONText.quoted(text)))
            }
        } else if let text = fields.timestampText {
            // Read as a decimal, to the nanosecond: through a double, a fraction's last digits changed.
            guard fields.timestampIsNumber || Self.isDecimal(text), let iso = Timestamp.iso8601(epochText: text) else {
                return .rejected(.invalidCreatedAt, "timestamp \(text.prefix(40)) is not a time in epoch seconds")
            }
            createdAt = iso
        }

        let context: String
        let metadata: String
        do {
            let (text, repeated) = try merged(fields.context, fields.contextExtras)
            if let repeated {
                return .rejected(.invalidContext, "\(repeated) is given twice, as a field and inside context; give it once")
            }
            context = JSONText.withPlainNames(text)
        } catch {
            return .rejected(.invalidContext, "context is not a JSON object")
        }
        do {
            let (text, repeated) = try merged(fields.metadata, fields.metadataExtras)
            if let repeated {
                return .rejected(
                    .invalidMetadata, "\(repeated) is given twice for fact_metadata (as a field and inside "
                        + "fact_metadata, or in both metadata and fact_metadata); give it once")
            }
            metadata = JSONText.withPlainNames(text)
        } catch {
            return .rejected(.invalidMetadata, "fact_metadata is not a JSON object")
        }

        let args = parsed.args
        var fact = Fact(
            statement: storedStatement(given, parsed), predicate: parsed.predicate, subject: args.first ?? "",
            object: args.count > 1 ? args[1] : nil, argsJSON: JSONText.array(args), arity: args.count,
            confidence: confidence, source: fields.source, context: context, metadata: metadata, createdAt: createdAt)
        fact.isConfidenceGiven = fields.confidence != nil || fields.confidenceText != nil
        if forPostgreSQL,
            let refusal = PostgreSQLStorableText.refusal(of: fact, maxRecordBytes: limits.maxRecordBytes)
        {
            return .rejected(refusal.reason, refusal.message)
        }
        return .fact(fact, warning: warning)
    }

    /// The statement a fact stores: its canonical form, or the statement as written for a restore of a version-1
    /// snapshot, and for a statement only the restore's rule takes (a control or invisible character an earlier
    /// release stored, kept as stored by the migration: its spaces and spelling are kept too).
    private func storedStatement(_ given: String?, _ parsed: ParsedStatement) -> String {
        guard let given, keepsStatementAsWritten || limits.keepsControlAndInvisibleCharacters else {
            return parsed.canonical
        }
        return keepsStatementAsWritten || ForeignFactRow.onlyRestoreTakes(given) ? given : parsed.canonical
    }

    /// True when `given` is the argument `expected` up to insignificant whitespace (DESIGN 1.3).
    private static func sameTerm(_ given: String, _ expected: String?) -> Bool {
        guard let expected else { return false }
        let trimmed = given.trimmingASCIIWhitespace()
        if trimmed == expected { return true }
        guard let canonical = try? StatementParser.parse("P(" + trimmed + ")"), canonical.args.count == 1 else {
            return false
        }
        return canonical.args[0] == expected
    }

    /// True for a plain decimal number (digits, sign, point, exponent): no hex floats, inf or nan.
    private static func isDecimal(_ text: String) -> Bool {
        let trimmed = text.trimmingASCIIWhitespace()
        return !trimmed.isEmpty && trimmed.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2D || byte == 0x2E || byte == 0x65 || byte == 0x45
        }
    }

    /// An object's text with extra members merged in; the text itself when there are none. `repeated`
    /// names a key that the object and an extra, or two extras, both give: merged, one value would be
    /// lost without a word.
    private func merged(
        _ base: String?, _ extras: [(key: String, json: String)]
    ) throws(JSONSyntaxError) -> (text: String, repeated: String?) {
        guard !extras.isEmpty else { return (base ?? "{}", nil) }
        let members = try base.map { text throws(JSONSyntaxError) in try JSONText.members(ofObject: text) } ?? []
        if members.count + extras.count <= 16 {
            for (index, extra) in extras.enumerated()
            where members.contains(where: { $0.key == extra.key })
                || extras[..<index].contains(where: { $0.key == extra.key }) {
                return ("", extra.key)
            }
        } else {
            // A CSV row of 30,000 columns compared every pair of names: 1.3 s a row.
            var seen = Set(members.map(\.key))
            for extra in extras where !seen.insert(extra.key).inserted { return ("", extra.key) }
        }
        return (JSONText.object(members + extras), nil)
    }

    /// `key`, or the first of `key_2`, `key_3`, … that neither the metadata object nor the extras use.
    private static func unusedKey(_ key: String, metadata: String?, extras: [(key: String, json: String)]) -> String {
        let members = metadata.flatMap { try? JSONText.members(ofObject: $0) } ?? []
        func isUsed(_ candidate: String) -> Bool {
            members.contains { $0.key == candidate } || extras.contains { $0.key == candidate }
        }
        var candidate = key
        var suffix = 1
        while isUsed(candidate) {
            suffix += 1
            candidate = "\(key)_\(suffix)"
        }
        return candidate
    }
}

/// A confidence too small for a double: `1e-400` reads as 0, and was stored as 0 without a word.
enum ConfidenceText {
    /// Why `value`, read from `text`, is refused: nil unless `value` is 0 while `text` has a digit other than 0
    /// before its exponent.
    static func underflow(_ value: Double, _ text: String) -> String? {
        guard value == 0 else { return nil }
        let mantissa = text.prefix { $0 != "e" && $0 != "E" }
        guard mantissa.contains(where: { $0 >= "1" && $0 <= "9" }) else { return nil }
        return "confidence \(text.trimmingASCIIWhitespace().prefix(40)) is below the smallest number a double holds "
            + "(about 4.9e-324): it would be stored as 0"
    }
}
