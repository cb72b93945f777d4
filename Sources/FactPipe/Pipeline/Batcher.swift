/// The batcher stage: puts parsed chunks back in input order and cuts them into batches.
///
/// Takes `Sequenced<PipelineItem>` in any order and hands `WriterMessage`s on in input order: the
/// records of each chunk as a segment, with every `batchSize` records marked as the end of a batch
/// (one transaction). It owns the error budget: past `maxErrors` refusals it stops the load, and the
/// writer rolls back the batch that was open.
final class Batcher {
    private let batchSize: Int
    private let maxErrors: Int?
    private let emit: (WriterMessage) -> Bool

    private var nextSequence = 0
    /// Items handed on in input order so far (the batcher holds the others until their turn).
    var handedOn: Int { nextSequence }
    private var waiting: [Int: PipelineItem] = [:]
    private var segment = FactSegment()
    private var recordsInBatch = 0
    private var totalRejected = 0
    private(set) var isStopped = false

    /// - Parameter emit: hands a message to the writer; returns false when the load was cancelled.
    init(batchSize: Int, maxErrors: Int?, emit: @escaping (WriterMessage) -> Bool) {
        precondition(batchSize > 0, "batch size must be positive")
        self.batchSize = batchSize
        self.maxErrors = maxErrors
        self.emit = emit
    }

    /// Accepts one item; items are handled as soon as every earlier one has arrived.
    func accept(_ item: Sequenced<PipelineItem>) {
        guard !isStopped else { return }
        waiting[item.sequence] = item.value
        while !isStopped, let next = waiting.removeValue(forKey: nextSequence) {
            nextSequence += 1
            handle(next)
        }
    }

    private func handle(_ item: PipelineItem) {
        switch item {
        case .sourceStart(let descriptor):
            recordsInBatch = 0
            segment = FactSegment()
            segment.checkpointOffset = descriptor.startOffset
            segment.checkpointLine = descriptor.startLine
            totalRejected += descriptor.rejectedBefore
            send(.begin(descriptor))
        case .parsed(let chunk):
            add(chunk)
        case .sourceEnd(let sha256):
            segment.endsBatch = true
            sendSegment()
            send(.end(sha256: sha256))
        case .readFailed(let error):
            stop(.failed, .error(error))
        case .chunk:
            preconditionFailure("a chunk reached the batcher without being parsed")
        }
    }

    private func add(_ chunk: ParsedChunk) {
        for (index, item) in chunk.items.enumerated() {
            segment.records += 1
            recordsInBatch += 1
            switch item {
            case .fact(let fact, let warning):
                segment.facts.append(fact)
                if warning != nil { segment.warnings += 1 }
            case .rejected(let diagnostic):
                if let error = Self.compressedData(diagnostic) {
                    stop(.failed, .error(error))
                    return
                }
                segment.rejects.append(diagnostic)
                totalRejected += 1
                if let maxErrors, totalRejected > maxErrors {
                    stop(.aborted, .message("more than \(maxErrors) records rejected (--max-errors \(maxErrors)); the last: "
                        + "\(diagnostic.location): \(diagnostic.reason.rawValue): \(diagnostic.message)"))
                    return
                }
            }
            if recordsInBatch >= batchSize {
                let next = index + 1
                if next < chunk.items.count {
                    segment.checkpointOffset = chunk.items[next].offset
                    segment.checkpointLine = chunk.items[next].line
                } else {
                    segment.checkpointOffset = chunk.endOffset
                    segment.checkpointLine = chunk.endLine
                }
                segment.endsBatch = true
                sendSegment()
                recordsInBatch = 0
            }
        }
        segment.checkpointOffset = chunk.endOffset
        segment.checkpointLine = chunk.endLine
        if segment.records > 0 { sendSegment() }
    }

    /// The error for a refused record that is compressed data, not text: only the start of an input was
    /// looked at for another compression's magic number, so a part compressed twice (`cat day1.gz <(gzip -c
    /// day2.gz)`) or a `.gz` appended to a plain file loaded as a few hundred `invalid_utf8` refusals, the
    /// load `done` without its facts and skipped as loaded by every later run. (Only records that are not
    /// UTF-8 are looked at: the magic numbers of gzip, zstd and xz never are, and compressed data is not.)
    private static func compressedData(_ diagnostic: RecordDiagnostic) -> ReadError? {
        guard let bytes = diagnostic.recordBytes,
            let foreign = InputCompression.unreadCompression(Array(bytes.prefix(InputCompression.foreignMagicLength)))
        else { return nil }
        return ReadError(
            source: diagnostic.location.source, offset: diagnostic.location.offset, kind: .compressedDataInside,
            message: "line \(diagnostic.location.line) starts \(foreign.name)-compressed data, which factpipe does not "
                + "read there (a part of the input compressed twice, or a compressed file appended to it); "
                + "decompress that part and load the input again")
    }

    private func sendSegment() {
        send(.segment(segment))
        let checkpoint = (segment.checkpointOffset, segment.checkpointLine)
        segment = FactSegment()
        (segment.checkpointOffset, segment.checkpointLine) = checkpoint
    }

    private func stop(_ status: ImportSummary.Status, _ reason: StopReason) {
        isStopped = true
        _ = emit(.stop(status, reason))
    }

    private func send(_ message: WriterMessage) {
        if !emit(message) { isStopped = true }
    }
}
