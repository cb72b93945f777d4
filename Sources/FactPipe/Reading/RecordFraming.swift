/// How an input is cut into records.
public enum RecordFraming: Sendable, Hashable {
    /// One record per line (NDJSON, plain text): a record ends at LF, a CR before it is dropped.
    case lines
    /// RFC 4180 CSV with the given delimiter (`,` or tab): a record ends at an LF outside quotes.
    case csv(delimiter: UInt8)
}
