/// A run of consecutive input records sharing one byte buffer: what the reader hands the parsers.
///
/// Chunks are numbered in input order; parsers may finish them out of order and the batcher puts
/// them back in sequence.
public struct RecordChunk: Sendable {
    /// Position of this chunk in its input, from 0.
    public var sequence: Int
    /// The name of the input (path or `-`).
    public var source: String
    /// Storage for every record of the chunk.
    public var bytes: [UInt8]
    /// The records, in input order, as ranges of `bytes`.
    public var records: [RawRecord]
    /// Byte offset (in the decoded stream) just after the last record of this chunk.
    public var endOffset: Int64
    /// 1-based number of the line that follows the last record of this chunk.
    public var endLine: Int

    public init(sequence: Int, source: String, bytes: [UInt8], records: [RawRecord], endOffset: Int64, endLine: Int) {
        self.sequence = sequence
        self.source = source
        self.bytes = bytes
        self.records = records
        self.endOffset = endOffset
        self.endLine = endLine
    }
}

/// One record (a line, or a CSV record that may span lines) located in its chunk's buffer.
public struct RawRecord: Sendable, Hashable {
    /// The record's bytes in `RecordChunk.bytes`, without its line terminator (LF or CRLF).
    public var range: Range<Int>
    /// 1-based line where the record starts.
    public var line: Int
    /// 0-based byte offset in the decoded stream where the record starts.
    public var offset: Int64
    /// True when the record was longer than the limit: `range` then holds only its first bytes.
    public var isOversized: Bool

    public init(range: Range<Int>, line: Int, offset: Int64, isOversized: Bool = false) {
        self.range = range
        self.line = line
        self.offset = offset
        self.isOversized = isOversized
    }
}
