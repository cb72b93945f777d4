/// What a parser found in one record, before validation: the fact's parts and its side fields.
///
/// Every field is optional; the validator decides what the record means and whether it is valid.
struct RecordFields {
    /// A statement given whole; authoritative when present.
    var statement: String?
    var predicate: String?
    var args: [String]?
    var subject: String?
    var object: String?
    /// Arguments from CSV columns `arg3`, `arg4`, … by position (index 0 is arg3).
    var extraArgs: [String?] = []
    var confidence: Double?
    /// A confidence given as text (CSV, or a JSON string), parsed by the validator.
    var confidenceText: String?
    var source: String?
    var createdAt: String?
    var timestamp: Double?
    var timestampText: String?
    /// The context object's JSON text, already checked to be an object.
    var context: String?
    /// Members to merge into the context (`tags`, `certainty`), values as JSON text.
    var contextExtras: [(key: String, json: String)] = []
    /// The metadata object's JSON text, already checked to be an object.
    var metadata: String?
    /// Every other input field, values as JSON text, kept in `fact_metadata`.
    var metadataExtras: [(key: String, json: String)] = []
}

/// Why a record's fields could not be read.
struct FieldError: Error {
    var reason: RecordDiagnostic.Reason
    var message: String
}
