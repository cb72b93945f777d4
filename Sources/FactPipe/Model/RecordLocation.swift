/// Where a record starts in its input: the source's name, the 1-based line and the byte offset.
///
/// Offsets count bytes of the decoded (decompressed) stream, so they are the same whether the
/// input arrived as plain text, gzip or zstd.
public struct RecordLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path as given on the command line, or `-` for standard input.
    public var source: String
    /// 1-based line number where the record starts.
    public var line: Int
    /// 0-based byte offset where the record starts.
    public var offset: Int64

    public init(source: String, line: Int, offset: Int64) {
        self.source = source
        self.line = line
        self.offset = offset
    }

    public var description: String { "\(source):\(line)" }
}
