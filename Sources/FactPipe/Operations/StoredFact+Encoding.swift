/// Stored facts written back out in the shapes `factpipe import` reads.
extension StoredFact {
    /// The CSV header of `csvRow`: the columns the importer matches by name.
    public static let csvHeader = "statement,confidence,source,context,fact_metadata,created_at"

    /// One NDJSON line (without its line feed): `statement`, then `confidence`, `source`, `context`,
    /// `fact_metadata` and `created_at` when present. `context` and `fact_metadata` are objects when
    /// the stored text is a JSON object, strings otherwise.
    public var ndjsonLine: String {
        var members: [JSONDocument.Member] = [.init("statement", .string(statement))]
        if let confidence { members.append(.init("confidence", .number(confidence))) }
        if let source { members.append(.init("source", .string(source))) }
        var out = Array(JSONDocument.object(members).text.utf8.dropLast())
        for (key, text) in [("context", context), ("fact_metadata", metadata)] {
            guard let text else { continue }
            out.append(UInt8(ascii: ","))
            JSONText.appendQuoted(key, to: &out)
            out.append(UInt8(ascii: ":"))
            if Self.isJSONObject(text) {
                out.append(contentsOf: text.utf8)
            } else {
                JSONText.appendQuoted(text, to: &out)
            }
        }
        if let createdAt {
            out.append(contentsOf: ",\"created_at\":".utf8)
            JSONText.appendQuoted(createdAt, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// One RFC 4180 row (without its line end) under `csvHeader`; an absent field is empty.
    public var csvRow: String {
        let fields = [statement, confidence.map { String($0) }, source, context, metadata, createdAt]
        return fields.map { Self.csvField($0 ?? "") }.joined(separator: ",")
    }

    /// `text` quoted when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = "\""
        for character in text.unicodeScalars {
            if character == "\"" { out += "\"" }
            out.unicodeScalars.append(character)
        }
        return out + "\""
    }

    /// Why `import` would refuse this row's NDJSON or CSV although its values read as what they are (the
    /// store's own check, `unloadable`, comes first), or nil: a confidence outside 0…1, a `created_at` that
    /// is no time import reads, a `context` or `fact_metadata` that is not one JSON object. Only plain SQL
    /// writes such values; `export` refuses them, and so does `query` in those formats.
    public var importRefusal: String? {
        if confidenceText == nil, let confidence, confidence.isFinite, !(0...1).contains(confidence) {
            return "its confidence is \(confidence), outside 0…1"
        }
        // The stored form is checked in place; only another form is parsed.
        if let createdAt, !createdAt.isEmpty,
           createdAt.utf8.withContiguousStorageIfAvailable(Timestamp.isNormalized) != true,
           Timestamp.normalize(createdAt) == nil {
            return "its created_at \(String(createdAt.prefix(40)).debugDescription) is not a time import reads"
        }
        for (name, text) in [("context", context), ("fact_metadata", metadata)] {
            if let text, !Self.isJSONObject(text) { return "its \(name) is not a JSON object" }
        }
        return nil
    }

    /// True when `text` is exactly one well-formed JSON object.
    static func isJSONObject(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { bytes in
            var scanner = JSONScanner(bytes)
            do {
                try scanner.scanObject { _, _ in }
                return true
            } catch {
                return false
            }
        }
    }
}
