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
        /// The input has bytes but not one record: a format misread, not an empty input.
        case noRecords
        /// One record longer than the limit took most of the input.
        case recordTooLong
        /// The CSV or TSV header row cannot be read.
        case invalidHeader
        /// A SQLite input read without locks (a WAL database without its log) was written while it was read:
        /// the rows read may mix two states of it.
        case changedWhileRead
        /// Compressed data where records should be, after records: a part of the input compressed twice (a
        /// later gzip member or zstd frame), or a compressed file appended to a plain one.
        case compressedDataInside
        /// Bytes after the last whole gzip member or zstd frame that start no member or frame (trailing garbage:
        /// a byte appended by a transfer, an editor's newline). What came before decoded whole and passed its
        /// checks, so it is a true part of the input, not damage: a one-byte tail read as a stream cut short,
        /// and a longer one as damage that took the load back.
        case trailingData
    }

    /// The input's name: the path as given, or `-` for standard input.
    public var source: String
    /// Byte offset in the decoded stream where the problem showed, when known.
    public var offset: Int64?
    /// The category of the failure.
    public var kind: Kind
    /// A human-readable explanation, without the source name.
    public var message: String
    /// The failure underneath, when there was one (the database error of a SQLite input, say); its
    /// words are in `message` already. Left out of `==` and `hash`.
    public var underlying: (any Error)?

    /// Creates an error for `source`; `message` should not repeat the source name.
    public init(source: String, offset: Int64? = nil, kind: Kind, message: String, underlying: (any Error)? = nil) {
        self.source = source
        self.offset = offset
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// `source: message`, a single line.
    public var description: String { "\(source): \(message)" }

    public static func == (lhs: ReadError, rhs: ReadError) -> Bool {
        lhs.source == rhs.source && lhs.offset == rhs.offset && lhs.kind == rhs.kind && lhs.message == rhs.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(offset)
        hasher.combine(kind)
        hasher.combine(message)
    }
}

extension ReadError {
    /// Bytes after the last whole member or frame (`format`, e.g. "gzip member") that start none, the first of them
    /// `first`, after `at` decoded bytes.
    static func trailingData(_ source: String, at: Int64, first: UInt8, format: String) -> ReadError {
        let hex = String(first, radix: 16)
        return ReadError(
            source: source, offset: at, kind: .trailingData,
            message: "bytes that start no \(format) follow the last whole one (trailing data, starting 0x"
                + (hex.count == 1 ? "0" : "") + hex + "), after \(at) decoded bytes: what came before them decoded whole "
                + "and passed its checks; remove them to load the rest")
    }
}
