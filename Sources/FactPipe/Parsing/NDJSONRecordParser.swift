/// Reads the fields of one NDJSON line (DESIGN 2): the statement or its parts, and the side fields.
///
/// Field names and aliases: `statement`, `s`, `fact`, or `content` when `type` is `"fact"`;
/// `predicate` with `args`, or with `subject` and `object`; `confidence`, `source`, `created_at`,
/// `timestamp` (epoch seconds); `context` and `fact_metadata`/`metadata` as objects or strings holding
/// one; `tags` and `certainty` go into the context; every other field goes to `fact_metadata`. The names
/// in `foldedFieldNames` are also matched case-insensitively, spaces around them ignored. A record
/// that gives a key twice (or the statement under two aliases, or `tags` both beside and inside
/// `context`) is refused: one of the values would be lost.
enum NDJSONRecordParser {
    /// Parses `bytes` (valid UTF-8, one line without its terminator); `mapping` renames input fields
    /// to factpipe's names first (`"text": "statement"`).
    /// - Throws: `FieldError` for invalid JSON or a field of the wrong type.
    ///   `keepsRepeatedNames` keeps a value's object that gives a name twice (a restore), which is refused
    ///   otherwise, at any depth (`JSONScanner.refusesRepeatedNames`).
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, mapping: [String: String] = [:], keepsRepeatedNames: Bool = false
    ) throws(FieldError) -> RecordFields {
        var fields = RecordFields()
        var type: String?
        var content: JSONValue?
        // A byte order mark that starts a line is the start of a second file concatenated onto a first
        // (`cat a.ndjson b.ndjson`): skipped, as the text format skips it, instead of refusing the record.
        let startsWithMark = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        var scanner = JSONScanner(bytes, range: startsWithMark ? 3..<bytes.count : nil)
        scanner.refusesRepeatedNames = !keepsRepeatedNames
        let members: [(key: String, value: JSONValue)]
        do {
            members = try scanner.scanMembers()
        } catch {
            throw FieldError(reason: .invalidJSON, message: "invalid JSON at byte \(error.index + 1): \(error.message)")
        }
        // A record's few keys are compared with the ones before them; a set (hashing every key) only for
        // many keys or renamed ones. Measured: the set took 3 % of a 1M load's processor time.
        let comparesInPlace = mapping.isEmpty && members.count <= 16
        // Keys in another spelling of a field (`Confidence`) as that field, worked out once a record (most
        // records have none: no array).
        let folded: [String]? = members.contains { needsFolding($0.key) } ? members.map { fieldName($0.key) } : nil
        var seen = Set<String>()
        var statementKey: String?
        // The record's own fields named as arguments by position (`arg3`): its arguments when it gives no
        // statement (below), metadata beside one.
        var positional: [(key: String, value: JSONValue)] = []
        for (index, (givenKey, value)) in members.enumerated() {
            let key = mapping.isEmpty
                ? folded?[index] ?? givenKey : mapping[givenKey] ?? mapped(givenKey, mapping) ?? fieldName(givenKey)
            let isRepeat = comparesInPlace
                ? (0..<index).contains { (folded?[$0] ?? members[$0].key) == key } : !seen.insert(key).inserted
            // A key given twice keeps one value and loses the other: refuse the record instead.
            guard !isRepeat else {
                let named = key == givenKey ? "\"\(key)\"" : "\"\(key)\" (from \"\(givenKey)\")"
                throw FieldError(reason: .invalidJSON, message: "the key \(named) appears twice; give it once")
            }
            if ["statement", "s", "fact"].contains(key), value != .null {
                if let statementKey {
                    throw FieldError(
                        reason: .invalidJSON,
                        message: "the statement is given twice, as \"\(statementKey)\" and \"\(key)\"; give it once")
                }
                statementKey = key
            }
            // A field a pipeline's [mapping] names as an argument by position (`arg1` … `arg64`, as CSV
            // columns are named) is that argument; a field of the record itself named so stays metadata.
            if key != givenKey, let position = RecordFields.argumentPosition(key) {
                guard case .string(let text) = value else {
                    if value == .null { continue }
                    throw FieldError(reason: .invalidField, message: "\(key) (from \"\(givenKey)\") must be a string")
                }
                fields.setArgument(text, at: position)
                continue
            }
            // Most keys do not start with `a`: they are passed over without lowering their case.
            if key == givenKey, (key.utf8.first ?? 0) | 0x20 == UInt8(ascii: "a"), RecordFields.argumentNumber(key) != nil,
               !givesNothing(value) {
                positional.append((key, value))
            }
            switch key {
            case "type":
                if givesNothing(value) { continue }
                if case .string(let text) = value { type = text }
                fields.metadataExtras.append((key, JSONText.json(of: value, in: bytes)))
            case "content":
                if givesNothing(value) { continue }
                content = value
            default:
                try assign(key: key, value: value, bytes: bytes, keepsRepeatedNames: keepsRepeatedNames, to: &fields)
            }
        }
        if let content {
            if type == "fact", fields.statement == nil, case .string(let text) = content {
                fields.statement = text
                fields.metadataExtras.removeAll { $0.key == "type" }
            } else {
                fields.metadataExtras.append(("content", JSONText.json(of: content, in: bytes)))
            }
        }
        if fields.statement == nil, fields.args == nil, !positional.isEmpty {
            try takeArguments(positional, into: &fields)
        }
        return fields
    }

    /// A record that gives no statement (nor `args`) is built from its parts, and its fields `arg1` … `arg64`
    /// are parts by position, as CSV columns so named are: kept as metadata, `{"predicate":"Q","subject":"a",
    /// "object":"b","arg3":"c"}` was loaded as `Q(a, b).`, a fact that looked whole. Numbers and booleans are
    /// taken as their text, as `subject` and `object` are; a part given twice otherwise (`subject` "a" and
    /// `arg1` "b"), an object or array, or one past `arg64` refuses the record.
    private static func takeArguments(
        _ positional: [(key: String, value: JSONValue)], into fields: inout RecordFields
    ) throws(FieldError) {
        for (key, value) in positional {
            guard let position = RecordFields.argumentPosition(key) else {
                throw FieldError(
                    reason: .invalidField,
                    message: "\(key) names an argument past the last one a field may give "
                        + "(arg\(RecordFields.lastArgumentPosition)); give the fact as a statement or its arguments as args")
            }
            // Read as `subject` and `object` are: a number or a boolean as its text.
            guard let text = try scalarText(value, key) else { continue }
            if let given = fields.argument(at: position) {
                guard given == text else {
                    throw FieldError(
                        reason: .invalidJSON,
                        message: "argument \(position) is given twice, otherwise (\(key) and another field); give it once")
                }
            }
            fields.setArgument(text, at: position)
            fields.metadataExtras.removeAll { $0.key == key }
        }
    }

    /// True when `key` has a capital letter or whitespace, so that it may name a field in another spelling.
    private static func needsFolding(_ key: String) -> Bool {
        key.utf8.contains { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
    }

    /// The fields matched in another spelling: those a CSV column names, but the one-letter `s`, `fact`
    /// and the JSON objects `context`, `fact_metadata` and `metadata` (a record's own `Context` or `Metadata`
    /// stays its metadata, as before).
    static let foldedFieldNames: Set<String> = [
        "statement", "predicate", "subject", "object", "args", "confidence", "source", "created_at", "timestamp",
        "tags", "certainty",
    ]

    /// The field `key` names, case-insensitively and without the spaces around it (`Confidence`, `source `),
    /// or `key` itself: such a field of a spreadsheet's column turned into JSON went to `fact_metadata`, its
    /// confidence loaded as 1.0 without a word.
    private static func fieldName(_ key: String) -> String {
        guard needsFolding(key) else { return key }
        let folded = key.trimmingASCIIWhitespace().lowercased()
        return foldedFieldNames.contains(folded) ? folded : key
    }

    private static func assign(
        key: String, value: JSONValue, bytes: UnsafeBufferPointer<UInt8>, keepsRepeatedNames: Bool,
        to fields: inout RecordFields
    ) throws(FieldError) {
        switch key {
        case "statement", "s", "fact":
            guard fields.statement == nil else { break }
            guard case .string(let text) = value else {
                if value == .null { return }
                throw FieldError(reason: .invalidField, message: "\(key) must be a string")
            }
            fields.statement = text
            return
        case "predicate":
            fields.predicate = try scalarText(value, key)
            return
        case "subject":
            fields.subject = try scalarText(value, key)
            return
        case "object":
            fields.object = try scalarText(value, key)
            return
        case "args":
            fields.args = try argumentList(value, bytes)
            return
        case "confidence":
            switch value {
            case .number(let number, let text):
                if let underflow = ConfidenceText.underflow(number, text) {
                    throw FieldError(reason: .invalidConfidence, message: underflow)
                }
                fields.confidence = number
            // An empty string gives nothing, as an empty CSV cell does (docs/formats.md).
            case .string(let text): if !text.isEmpty { fields.confidenceText = text }
            case .null: break
            default: throw FieldError(reason: .invalidConfidence, message: "confidence must be a number")
            }
            return
        case "source":
            fields.source = try scalarText(value, key)
            return
        case "created_at":
            switch value {
            case .string(let text): fields.createdAt = text.isEmpty ? nil : text
            case .null: break
            default: throw FieldError(reason: .invalidCreatedAt, message: "created_at must be an ISO 8601 string")
            }
            return
        case "timestamp":
            switch value {
            case .number(_, let raw):
                fields.timestampIsNumber = true
                fields.timestampText = raw
            case .string(let text):
                if !text.isEmpty { fields.timestampText = text }
            case .null: break
            default: throw FieldError(reason: .invalidCreatedAt, message: "timestamp must be epoch seconds")
            }
            return
        case "context":
            fields.context = try objectText(value, bytes, key, reason: .invalidContext, keepsRepeatedNames)
            return
        case "fact_metadata", "metadata":
            if let text = try objectText(value, bytes, key, reason: .invalidMetadata, keepsRepeatedNames) {
                if fields.metadata == nil {
                    fields.metadata = text
                } else {
                    // Both names given: keep the members of both (a key in both is refused by the validator).
                    do {
                        fields.metadataExtras.append(contentsOf: try JSONText.members(ofObject: text))
                    } catch {
                        throw FieldError(reason: .invalidMetadata, message: "\(key) is not a JSON object")
                    }
                }
            }
            return
        case "tags", "certainty":
            if givesNothing(value) { return }
            fields.contextExtras.append((key, JSONText.json(of: value, in: bytes)))
            return
        default:
            break
        }
        if givesNothing(value) { return }
        fields.metadataExtras.append((key, JSONText.json(of: value, in: bytes)))
    }

    /// The target of `key` written in another case than the mapping's names (kept in lower case): looked up
    /// lowered only when it holds a capital or a non-ASCII letter, so a record's other keys cost no copy.
    private static func mapped(_ key: String, _ mapping: [String: String]) -> String? {
        guard key.utf8.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) else { return nil }
        return mapping[key.lowercased()]
    }

    /// A field `null` or `""` gives nothing, as an empty CSV cell does (docs/formats.md): kept as a member of
    /// `context` or `fact_metadata`, its `null` deleted the stored member under `update` (JSON merge patch)
    /// and its `""` replaced it. Inside a `context` or `fact_metadata` object given whole, `null` keeps the
    /// meaning merge patch gives it.
    private static func givesNothing(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .string(let text): return text.isEmpty
        default: return false
        }
    }

    /// A string or number as text; null and "" as absent.
    private static func scalarText(_ value: JSONValue, _ key: String) throws(FieldError) -> String? {
        switch value {
        case .string(let text): return text.isEmpty ? nil : text
        case .number(_, let raw): return raw
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return nil
        case .object, .array: throw FieldError(reason: .invalidField, message: "\(key) must be a string")
        }
    }

    private static func argumentList(_ value: JSONValue, _ bytes: UnsafeBufferPointer<UInt8>) throws(FieldError) -> [String]? {
        switch value {
        case .null: return nil
        case .array(let range):
            var scanner = JSONScanner(bytes, range: range)
            do {
                return try scanner.scanScalarArray()
            } catch {
                throw FieldError(reason: .invalidField, message: "args must be an array of strings or numbers")
            }
        case .string(let text):
            // A string holding a JSON array, as the sqlite3 CLI dumps such a column.
            var utf8 = Array(text.utf8)
            let items: [String]? = utf8.withUnsafeMutableBufferPointer { buffer in
                var scanner = JSONScanner(UnsafeBufferPointer(buffer))
                return try? scanner.scanScalarArray()
            }
            guard let items else {
                throw FieldError(reason: .invalidField, message: "args must be an array, or a string holding one")
            }
            return items
        default:
            throw FieldError(reason: .invalidField, message: "args must be an array")
        }
    }

    /// An object given as an object or as a string holding one, as its JSON text.
    private static func objectText(
        _ value: JSONValue, _ bytes: UnsafeBufferPointer<UInt8>, _ key: String, reason: RecordDiagnostic.Reason,
        _ keepsRepeatedNames: Bool
    ) throws(FieldError) -> String? {
        switch value {
        case .null:
            return nil
        case .object(let range):
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .string(let text):
            let trimmed = text.trimmingASCIIWhitespace()
            if trimmed.isEmpty { return nil }
            var utf8 = Array(trimmed.utf8)
            // Checked as an object inside the record is: a name given twice, at any depth, refuses it.
            let problem = utf8.withUnsafeMutableBufferPointer { buffer -> String? in
                var scanner = JSONScanner(UnsafeBufferPointer(buffer))
                scanner.refusesRepeatedNames = !keepsRepeatedNames
                return scanner.objectAloneProblem()
            }
            if let problem {
                // Why, as for an object inside the record: said only "not an object (or …)", a context nested 65
                // levels deep read as no object at all.
                throw FieldError(reason: reason, message: "\(key) is a string that does not hold one JSON object: \(problem)")
            }
            return trimmed
        default:
            throw FieldError(reason: reason, message: "\(key) must be a JSON object or a string holding one")
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> String {
        let utf8 = self.utf8
        var start = utf8.startIndex, end = utf8.endIndex
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        while start < end, isSpace(utf8[start]) { start = utf8.index(after: start) }
        while end > start, isSpace(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        if start == utf8.startIndex && end == utf8.endIndex { return self }
        return String(self[start..<end])
    }
}
