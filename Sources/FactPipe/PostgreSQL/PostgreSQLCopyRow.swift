/// Rows in `COPY … FROM STDIN` text format: fields separated by tabs, rows ended by a newline, `\\N` for
/// NULL, and backslash, tab, newline and carriage return escaped, so any text is carried as it is.
struct PostgreSQLCopyRow {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Starts a field (a tab before every field but the first of a row).
    private mutating func separate(_ isFirst: Bool) {
        if !isFirst { bytes.append(0x09) }
    }

    /// Appends one field of text bytes, escaped.
    mutating func field<C: Collection>(_ text: C, first: Bool = false) where C.Element == UInt8 {
        separate(first)
        for byte in text {
            switch byte {
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            default: bytes.append(byte)
            }
        }
    }

    /// Appends a field of text, or NULL.
    mutating func field(_ text: String?, first: Bool = false) {
        guard let text else { return null(first: first) }
        field(text.utf8, first: first)
    }

    /// Appends a number (its digits need no escaping).
    mutating func field(_ number: Int64, first: Bool = false) {
        separate(first)
        bytes.append(contentsOf: String(number).utf8)
    }

    mutating func field(_ number: Double) {
        separate(false)
        bytes.append(contentsOf: "\(number)".utf8)
    }

    mutating func null(first: Bool = false) {
        separate(first)
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "N"))
    }

    mutating func endRow() {
        bytes.append(0x0A)
    }
}

extension PostgreSQLCopyRow {
    /// The columns `append(_:…)` writes, in order, for `COPY factpipe_batch (…) FROM STDIN`.
    static let batchColumns = """
        seq, occurrence, load_id, line, "offset", statement, predicate, subject, object, args, arity, confidence,
        source, context, fact_metadata, created_at, given
        """

    /// Appends `fact` as a row of the batch table.
    mutating func append(
        _ fact: Fact, sequence: Int64, occurrence: Int, loadID: Int64, defaultCreatedAt: String
    ) {
        field(sequence, first: true)
        field(Int64(occurrence))
        field(loadID)
        field(Int64(fact.line))
        field(fact.offset)
        for column in [Fact.Field.statement, .predicate, .subject, .object, .args] {
            if let range = fact.range(of: column) { field(fact.bytes[range]) } else { null() }
        }
        field(Int64(fact.arity))
        field(fact.confidence)
        if let range = fact.range(of: .source) { field(fact.bytes[range]) } else { null() }
        if let range = fact.range(of: .context) { field(fact.bytes[range]) } else { field("{}") }
        if let range = fact.range(of: .metadata) { field(fact.bytes[range]) } else { field("{}") }
        if let range = fact.range(of: .createdAt) { field(fact.bytes[range]) } else { field(defaultCreatedAt) }
        field(StagingArea.GivenFields(fact).rawValue)
        endRow()
    }
}
