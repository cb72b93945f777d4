/// A record that was refused or accepted with a warning: where it was, why, and its original text.
public struct RecordDiagnostic: Sendable, Hashable {
    /// Why a record was refused; the raw value is the stable code written to the rejects file.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case invalidUTF8 = "invalid_utf8"
        case recordTooLong = "record_too_long"
        case invalidJSON = "invalid_json"
        case invalidCSV = "invalid_csv"
        case missingStatement = "missing_statement"
        case syntax = "syntax_error"
        case limitExceeded = "limit_exceeded"
        case invalidConfidence = "invalid_confidence"
        case invalidCreatedAt = "invalid_created_at"
        case invalidContext = "invalid_context"
        case invalidMetadata = "invalid_metadata"
        case invalidField = "invalid_field"
        case partsDisagree = "parts_disagree"
        case controlCharacter = "control_character"
        case invisibleCharacter = "invisible_character"
    }

    public var location: RecordLocation
    public var reason: Reason
    /// A sentence saying exactly what is wrong, with the column when there is one.
    public var message: String
    /// The original record text (its first bytes when the record was too long).
    public var record: String
    /// The record's exact bytes when they are not valid UTF-8 (`record` then shows U+FFFD in place of
    /// the invalid ones); nil otherwise.
    public var recordBytes: [UInt8]?

    public init(
        location: RecordLocation, reason: Reason, message: String, record: String, recordBytes: [UInt8]? = nil
    ) {
        self.location = location
        self.reason = reason
        self.message = message
        self.record = record
        self.recordBytes = recordBytes
    }
}
