/// A source as the reader opened it: the ledger needs all of this before the first batch.
struct SourceDescriptor: Sendable {
    var path: String
    var format: InputFormat
    var compression: InputCompression
    var size: Int64?
    /// SHA-256 of the input when it was known before reading (regular files).
    var sha256: String?
    /// The ledger row this source continues, when it resumes an interrupted load.
    var resumeLoadID: Int64?
    /// Where reading starts: 0 and line 1, or the checkpoint of the load it resumes.
    var startOffset: Int64 = 0
    var startLine = 1
    /// Records of the resumed load refused before its checkpoint: the `--max-errors` budget starts spent
    /// by them, so a resume stops where the load would have stopped had it never been interrupted.
    var rejectedBefore = 0
}

/// What a parser worker needs to know about the source of a chunk.
struct SourceContext: Sendable {
    var path: String
    var format: InputFormat
    var csvHeader: CSVHeader?
    /// Input names to read as factpipe's field names.
    var fieldMapping: [String: String] = [:]
    /// Keep an object that gives a name twice (a restore: `ImportOptions.keepsRepeatedNames`).
    var keepsRepeatedNames = false
}

/// One parsed record: a fact (perhaps with a warning) or a refusal, in input order.
enum ParsedItem: Sendable {
    case fact(Fact, warning: RecordDiagnostic?)
    case rejected(RecordDiagnostic)

    var line: Int {
        switch self {
        case .fact(let fact, _): return fact.line
        case .rejected(let diagnostic): return diagnostic.location.line
        }
    }

    var offset: Int64 {
        switch self {
        case .fact(let fact, _): return fact.offset
        case .rejected(let diagnostic): return diagnostic.location.offset
        }
    }
}

/// A chunk after parsing and validation.
struct ParsedChunk: Sendable {
    var items: [ParsedItem]
    var endOffset: Int64
    var endLine: Int
}

/// What travels from the reader through the workers to the batcher, numbered in input order.
enum PipelineItem: Sendable {
    case sourceStart(SourceDescriptor)
    case chunk(RecordChunk, SourceContext)
    case parsed(ParsedChunk)
    /// The source was read to its end; its raw bytes hash to `sha256`.
    case sourceEnd(sha256: String?)
    /// The reader could not go on: the load fails after the batches before this point.
    case readFailed(ReadError)
}

struct Sequenced<Value: Sendable>: Sendable {
    var sequence: Int
    var value: Value
}

/// A run of consecutive records for the writer: part of one transaction, or its end.
///
/// Segments are small (about one chunk), so memory does not grow with the batch size: a batch of
/// `batchSize` records is written segment by segment and committed after the one that ends it.
struct FactSegment: Sendable {
    var facts: [Fact] = []
    var rejects: [RecordDiagnostic] = []
    var records = 0
    var warnings = 0
    /// Where the input continues after this segment: the checkpoint when it ends a transaction.
    var checkpointOffset: Int64 = 0
    var checkpointLine = 1
    /// Commit after this segment.
    var endsBatch = false
}

/// What the batcher hands the writer, in input order.
enum WriterMessage: Sendable {
    case begin(SourceDescriptor)
    case segment(FactSegment)
    /// The source was read to its end: merge it and record it as done, with its hash.
    case end(sha256: String?)
    /// Stop: roll back the open batch and record the load with `status` and why.
    case stop(ImportSummary.Status, StopReason)
}
