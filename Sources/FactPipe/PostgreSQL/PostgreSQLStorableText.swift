/// The one character SQLite stores and PostgreSQL cannot: NUL. A `text` value refuses a 0x00 byte and a
/// `jsonb` value refuses the escape `\u0000`, so a fact holding one would fail its whole batch at the
/// server, and every `--resume` after it at the same place. The validator refuses such a record instead
/// (a reject like any other) when the load goes into PostgreSQL.
enum PostgreSQLStorableText {
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
