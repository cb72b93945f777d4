/// One record produced by `FactGenerator`: a fact, a repeat of a recent fact, or a malformed record.
///
/// The record holds the values; `encode(as:into:)` turns it into one NDJSON line, CSV record or
/// text line. Malformed records carry their flaw either in `statement` (unbalanced, empty argument,
/// free text, quantified formula) or in how they are encoded (confidence out of range, truncated
/// JSON, missing statement field).
public struct GeneratedRecord: Sendable, Hashable {
    /// What the record is meant to be for a loader.
    public enum Kind: Sendable, Hashable {
        /// A well-formed fact, new as far as the generator knows.
        case fact
        /// A well-formed fact whose statement repeats one emitted a little earlier.
        case duplicate
        /// A record a loader must reject, and why.
        case invalid(InvalidKind)
    }

    /// The ways a generated record can be malformed.
    public enum InvalidKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// A bracket opened and never closed, e.g. `CausedBy(A, B(C).`.
        case unbalancedParenthesis
        /// Text that has no argument list, e.g. `this is not a fact`.
        case freeText
        /// An empty argument, e.g. `P(a,,b).` or `P().`.
        case emptyArgument
        /// A first-order formula rather than a fact, e.g. `all x (Cell(x) -> HasPart(x, DNA)).`.
        case quantifiedFormula
        /// A well-formed statement whose confidence lies outside `0...1` (NDJSON and CSV only).
        case confidenceOutOfRange
        /// An NDJSON object cut off halfway (NDJSON only).
        case truncatedJSON
        /// An NDJSON object without a `statement` field (NDJSON only).
        case missingStatement

        /// The kinds that can be expressed in `format`.
        public static func applicable(to format: FactGenerator.Format) -> [InvalidKind] {
            switch format {
            case .text: [.unbalancedParenthesis, .freeText, .emptyArgument, .quantifiedFormula]
            case .csv: [.unbalancedParenthesis, .freeText, .emptyArgument, .quantifiedFormula, .confidenceOutOfRange]
            case .ndjson: allCases
            }
        }

        /// A short human-readable name, e.g. `unbalanced parenthesis`.
        public var description: String {
            switch self {
            case .unbalancedParenthesis: "unbalanced parenthesis"
            case .freeText: "free text"
            case .emptyArgument: "empty argument"
            case .quantifiedFormula: "quantified formula"
            case .confidenceOutOfRange: "confidence out of range"
            case .truncatedJSON: "truncated JSON"
            case .missingStatement: "missing statement"
            }
        }
    }

    /// Whether this is a fact, a duplicate or a malformed record.
    public var kind: Kind
    /// The statement text: canonical for facts and duplicates, deliberately broken for some invalid kinds.
    public var statement: String
    /// The confidence in hundredths (93 means 0.93); outside `0...100` only for `confidenceOutOfRange`.
    public var confidenceHundredths: Int
    /// The record's `source` field.
    public var source: String
    /// The `source` inside the record's `context` object.
    public var contextSource: String
    /// The `tags` inside the record's `context` object.
    public var tags: [String]
    /// Creation time in seconds since 1970-01-01T00:00:00Z.
    public var createdAt: Int64
    /// True when the statement is well-formed and was not produced before by this generator.
    public var isNewStatement = false

    /// Creates a record from its parts.
    public init(
        kind: Kind, statement: String, confidenceHundredths: Int, source: String = "generator",
        contextSource: String = "synthetic", tags: [String] = [], createdAt: Int64
    ) {
        self.kind = kind
        self.statement = statement
        self.confidenceHundredths = confidenceHundredths
        self.source = source
        self.contextSource = contextSource
        self.tags = tags
        self.createdAt = createdAt
    }

    /// The confidence as a number, e.g. `0.93`.
    public var confidence: Double { Double(confidenceHundredths) / 100 }

    /// The creation time as ISO 8601 UTC text, e.g. `2025-09-15T10:00:00Z`.
    public var createdAtText: String {
        var bytes: [UInt8] = []
        GeneratedRecord.appendISO8601(createdAt, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for facts and duplicates, false for malformed records.
    public var isValid: Bool {
        if case .invalid = kind { return false }
        return true
    }
}

/// What a generation run produced, by kind of record.
public struct GenerationSummary: Sendable, Hashable, CustomStringConvertible {
    /// Every record produced: facts, duplicates and invalid ones (header and comment lines excluded).
    public var records: Int = 0
    /// Well-formed records with a statement not deliberately repeated (one may still repeat an
    /// earlier statement by chance: `distinctStatements` counts what a database will hold).
    public var facts: Int = 0
    /// Distinct statements among the well-formed records: the facts a load of them inserts (of the
    /// records before `distinctCountStopped`, when it is set).
    public var distinctStatements: Int = 0
    /// True when so many distinct statements were counted that the count stopped (its memory would grow
    /// with the output): `distinctStatements` is then of the records before, `distinctCountedRecords`.
    public var distinctCountStopped = false
    /// Well-formed records among which `distinctStatements` were counted.
    public var distinctCountedRecords = 0
    /// Well-formed records that deliberately repeat a recent statement.
    public var duplicates: Int = 0
    /// Malformed records, all kinds together.
    public var invalid: Int = 0
    /// Malformed records by kind.
    public var invalidByKind: [GeneratedRecord.InvalidKind: Int] = [:]
    /// Bytes written, header included; 0 when the records were only generated.
    public var bytes: Int64 = 0

    /// Creates an empty summary.
    public init() {}

    /// Counts one more record of `kind`.
    mutating func count(_ kind: GeneratedRecord.Kind, isNewStatement: Bool) {
        records += 1
        if isNewStatement { distinctStatements += 1 }
        if !distinctCountStopped, kind == .fact || kind == .duplicate { distinctCountedRecords += 1 }
        switch kind {
        case .fact: facts += 1
        case .duplicate: duplicates += 1
        case .invalid(let invalidKind):
            invalid += 1
            invalidByKind[invalidKind, default: 0] += 1
        }
    }

    /// One line, e.g. `1000 records: 968 distinct statements, 22 repeats of an earlier statement (20 deliberate),
    /// 10 invalid (4 free text, 6 empty argument)`.
    public var description: String {
        var text: String
        if distinctCountStopped {
            text = "\(records) records: \(distinctStatements) distinct statements in the first "
                + "\(distinctCountedRecords) well-formed ones (counted no further, to keep memory flat), "
                + "\(duplicates) deliberate repeats, \(invalid) invalid"
        } else {
            let repeats = facts + duplicates - distinctStatements
            text = "\(records) records: \(distinctStatements) distinct statements, \(repeats) repeats of an earlier "
                + "statement (\(duplicates) deliberate), \(invalid) invalid"
        }
        let kinds = GeneratedRecord.InvalidKind.allCases.compactMap { kind -> String? in
            guard let number = invalidByKind[kind], number > 0 else { return nil }
            return "\(number) \(kind)"
        }
        if !kinds.isEmpty { text += " (" + kinds.joined(separator: ", ") + ")" }
        return text
    }
}
