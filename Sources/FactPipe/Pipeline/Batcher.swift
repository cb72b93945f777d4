/// The batcher stage: puts parsed chunks back in input order and cuts them into batches.
///
/// Takes `Sequenced<PipelineItem>` in any order, hands `WriterMessage`s on in input order. It owns
/// the error budget: past `maxErrors` refusals it stops the load, dropping the batch it was building.
final class Batcher {
    private let batchSize: Int
    private let maxErrors: Int?
    private let sortsBatches: Bool
    private let emit: (WriterMessage) -> Bool

    private var nextSequence = 0
    private var waiting: [Int: PipelineItem] = [:]
    private var batch = FactBatch(facts: [], rejects: [])
    private var totalRejected = 0
    private(set) var isStopped = false

    /// - Parameters:
    ///   - emit: hands a message to the writer; returns false when the load was cancelled.
    init(batchSize: Int, maxErrors: Int?, sortsBatches: Bool, emit: @escaping (WriterMessage) -> Bool) {
        precondition(batchSize > 0, "batch size must be positive")
        self.batchSize = batchSize
        self.maxErrors = maxErrors
        self.sortsBatches = sortsBatches
        self.emit = emit
    }

    /// Accepts one item; items are processed as soon as every earlier one has arrived.
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
            send(.begin(descriptor))
        case .parsed(let chunk):
            add(chunk)
        case .sourceEnd:
            flush()
            send(.end)
        case .readFailed(let message):
            isStopped = true
            _ = emit(.stop(.failed, message))
        case .chunk:
            preconditionFailure("a chunk reached the batcher without being parsed")
        }
    }

    private func add(_ chunk: ParsedChunk) {
        for (index, item) in chunk.items.enumerated() {
            batch.records += 1
            switch item {
            case .fact(let fact, let warning):
                batch.facts.append(fact)
                if warning != nil { batch.warnings += 1 }
            case .rejected(let diagnostic):
                batch.rejects.append(diagnostic)
                totalRejected += 1
                if let maxErrors, totalRejected > maxErrors {
                    isStopped = true
                    _ = emit(.stop(.aborted, "more than \(maxErrors) records rejected (--max-errors \(maxErrors)); "
                        + "the last: \(diagnostic.location): \(diagnostic.reason.rawValue): \(diagnostic.message)"))
                    return
                }
            }
            if batch.records >= batchSize {
                let next = index + 1
                if next < chunk.items.count {
                    batch.checkpointOffset = chunk.items[next].offset
                    batch.checkpointLine = chunk.items[next].line
                } else {
                    batch.checkpointOffset = chunk.endOffset
                    batch.checkpointLine = chunk.endLine
                }
                flush()
            }
        }
        batch.checkpointOffset = chunk.endOffset
        batch.checkpointLine = chunk.endLine
    }

    /// Sends the batch being built, if it holds anything (or moved the checkpoint).
    private func flush() {
        guard batch.records > 0 || batch.checkpointOffset > 0 else { return }
        var full = batch
        if sortsBatches {
            // Sorted by statement, the inserts walk the unique index in order; stable, so the first wins.
            full.facts = full.facts.enumerated().sorted { lhs, rhs in
                if Fact.statementPrecedes(lhs.element, rhs.element) { return true }
                if Fact.statementPrecedes(rhs.element, lhs.element) { return false }
                return lhs.offset < rhs.offset
            }.map(\.element)
        }
        send(.batch(full))
        batch = FactBatch(facts: [], rejects: [])
        batch.facts.reserveCapacity(min(batchSize, 65_536))
    }

    private func send(_ message: WriterMessage) {
        if !emit(message) { isStopped = true }
    }
}
