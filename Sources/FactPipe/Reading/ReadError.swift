/// A failure to read an input: it cannot be opened, a read failed, or its compressed data is damaged.
///
/// `description` is one line naming the source, e.g.
/// `input.ndjson.zst: zstd stream ends mid-frame after 1234 decoded bytes`.
public struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that react differently to each case.
    public enum Kind: Sendable, Hashable {
        /// The path could not be opened (missing, unreadable, a directory).
        case cannotOpen
        /// A read system call failed.
        case io
        /// A compressed stream ended before its last frame or member was complete.
        case truncatedCompressedStream
        /// A compressed stream holds data the decoder rejects (bad header, checksum, block).
        case corruptCompressedStream
        /// A decoder could not be set up (out of memory).
        case decoderSetup
        /// A resume point does not fit the input (beyond its end, or not at a record boundary).
        case invalidResumePoint
        /// The input is of a kind this command does not read (a SQLite database given to import).
        case unsupportedFormat
    }

    /// The input's name: the path as given, or `-` for standard input.
    public var source: String
    /// Byte offset in the decoded stream where the problem showed, when known.
    public var offset: Int64?
    /// The category of the failure.
    public var kind: Kind
    /// A human-readable explanation, without the source name.
    public var message: String

    /// Creates an error for `source`; `message` should not repeat the source name.
    public init(source: String, offset: Int64? = nil, kind: Kind, message: String) {
        self.source = source
        self.offset = offset
        self.kind = kind
        self.message = message
    }

    /// `source: message`, a single line.
    public var description: String { "\(source): \(message)" }
}
