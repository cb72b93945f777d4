import Foundation
import Testing

@testable import FactPipe

/// A fact for record `n` at `line`, starting at byte `offset`.
private func fact(_ n: Int, line: Int, offset: Int64, warning: Bool = false) -> ParsedItem {
    var fact = Fact(
        statement: "P(\(n)).", predicate: "P", subject: "\(n)", object: nil, argsJSON: "[\"\(n)\"]", arity: 1,
        confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
    fact.line = line
    fact.offset = offset
    let diagnostic = warning
        ? RecordDiagnostic(
            location: RecordLocation(source: "src", line: line, offset: offset), reason: .partsDisagree,
            message: "subject disagrees", record: "")
        : nil
    return .fact(fact, warning: diagnostic)
}

private func reject(line: Int, offset: Int64) -> ParsedItem {
    .rejected(RecordDiagnostic(
        location: RecordLocation(source: "src", line: line, offset: offset), reason: .syntax, message: "bad",
        record: "bad \(line)"))
}

/// Records `first...last`, one a line of 10 bytes; odd-numbered ones in `rejected` are refusals.
private func chunk(_ lines: ClosedRange<Int>, rejected: Set<Int> = [], warned: Set<Int> = []) -> PipelineItem {
    let items = lines.map { line -> ParsedItem in
        let offset = Int64((line - 1) * 10)
        return rejected.contains(line) ? reject(line: line, offset: offset) : fact(line, line: line, offset: offset, warning: warned.contains(line))
    }
    return .parsed(ParsedChunk(items: items, endOffset: Int64(lines.upperBound * 10), endLine: lines.upperBound + 1))
}

private let descriptor = SourceDescriptor(path: "src", format: .text, compression: .none, size: nil)

/// What the writer was sent, one line a message.
private func describe(_ message: WriterMessage) -> String {
    switch message {
    case .begin(let descriptor):
        return "begin \(descriptor.path)"
    case .segment(let segment):
        let facts = segment.facts.map { String($0.line) }.joined(separator: ",")
        let rejects = segment.rejects.map { String($0.location.line) }.joined(separator: ",")
        var text = "records \(segment.records) facts [\(facts)] rejects [\(rejects)]"
        if segment.warnings > 0 { text += " warnings \(segment.warnings)" }
        text += " at \(segment.checkpointOffset)/\(segment.checkpointLine)"
        if segment.endsBatch { text += " commit" }
        return text
    case .end:
        return "end"
    case .stop(let status, let message):
        return "stop \(status.rawValue): \(message)"
    }
}

/// A batcher whose messages are collected as text.
private final class BatcherProbe {
    var messages: [String] = []
    var accepting = true
    private(set) var batcher: Batcher!

    init(batchSize: Int, maxErrors: Int? = nil) {
        batcher = Batcher(batchSize: batchSize, maxErrors: maxErrors) { [unowned self] message in
            self.messages.append(describe(message))
            return self.accepting
        }
    }

    func feed(_ items: [(Int, PipelineItem)]) {
        for (sequence, value) in items { batcher.accept(Sequenced(sequence: sequence, value: value)) }
    }
}

@Suite struct BatcherTests {
    @Test func cutsABatchEveryNRecordsWithTheCheckpointOfTheNextRecord() {
        let probe = BatcherProbe(batchSize: 2)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...5)), (2, .sourceEnd(sha256: nil))])
        #expect(probe.messages == [
            "begin src",
            "records 2 facts [1,2] rejects [] at 20/3 commit",
            "records 2 facts [3,4] rejects [] at 40/5 commit",
            "records 1 facts [5] rejects [] at 50/6",
            "records 0 facts [] rejects [] at 50/6 commit",
            "end",
        ])
    }

    @Test func aBatchEndingWithAChunkTakesTheChunksEndAsCheckpoint() {
        let probe = BatcherProbe(batchSize: 3)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...3)), (2, chunk(4...6)), (3, .sourceEnd(sha256: nil))])
        #expect(probe.messages == [
            "begin src",
            "records 3 facts [1,2,3] rejects [] at 30/4 commit",
            "records 3 facts [4,5,6] rejects [] at 60/7 commit",
            "records 0 facts [] rejects [] at 60/7 commit",
            "end",
        ])
    }

    @Test func aBatchMaySpanChunks() {
        let probe = BatcherProbe(batchSize: 4)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...3)), (2, chunk(4...6)), (3, .sourceEnd(sha256: nil))])
        #expect(probe.messages == [
            "begin src",
            "records 3 facts [1,2,3] rejects [] at 30/4",
            "records 1 facts [4] rejects [] at 40/5 commit",
            "records 2 facts [5,6] rejects [] at 60/7",
            "records 0 facts [] rejects [] at 60/7 commit",
            "end",
        ])
    }

    @Test func refusalsAndWarningsCountAsRecordsOfTheirBatch() {
        let probe = BatcherProbe(batchSize: 3)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...4, rejected: [2], warned: [3, 4])), (2, .sourceEnd(sha256: nil))])
        #expect(probe.messages == [
            "begin src",
            "records 3 facts [1,3] rejects [2] warnings 1 at 30/4 commit",
            "records 1 facts [4] rejects [] warnings 1 at 40/5",
            "records 0 facts [] rejects [] at 40/5 commit",
            "end",
        ])
    }

    @Test func restoresInputOrderWhenItemsArriveOutOfOrder() {
        let probe = BatcherProbe(batchSize: 2)
        probe.feed([(3, .sourceEnd(sha256: nil)), (2, chunk(4...5)), (1, chunk(1...3))])
        #expect(probe.messages.isEmpty, "nothing may be handed on before item 0")
        probe.feed([(0, .sourceStart(descriptor))])
        #expect(probe.messages == [
            "begin src",
            "records 2 facts [1,2] rejects [] at 20/3 commit",
            "records 1 facts [3] rejects [] at 30/4",
            "records 1 facts [4] rejects [] at 40/5 commit",
            "records 1 facts [5] rejects [] at 50/6",
            "records 0 facts [] rejects [] at 50/6 commit",
            "end",
        ])
    }

    @Test func everyOrderOfArrivalGivesTheSameMessages() {
        let items: [(Int, PipelineItem)] = [
            (0, .sourceStart(descriptor)), (1, chunk(1...3, rejected: [2])), (2, chunk(4...7, warned: [5])),
            (3, chunk(8...8)), (4, .sourceEnd(sha256: nil)),
        ]
        let reference = BatcherProbe(batchSize: 3)
        reference.feed(items)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let probe = BatcherProbe(batchSize: 3)
            probe.feed(items.shuffled(using: &generator))
            #expect(probe.messages == reference.messages)
        }
    }

    @Test func theBatchCountStartsAgainWithEachSource() {
        let second = SourceDescriptor(path: "second", format: .ndjson, compression: .gzip, size: 7)
        let probe = BatcherProbe(batchSize: 2)
        probe.feed([
            (0, .sourceStart(descriptor)), (1, chunk(1...3)), (2, .sourceEnd(sha256: nil)),
            (3, .sourceStart(second)), (4, chunk(1...2)), (5, .sourceEnd(sha256: nil)),
        ])
        #expect(probe.messages == [
            "begin src",
            "records 2 facts [1,2] rejects [] at 20/3 commit",
            "records 1 facts [3] rejects [] at 30/4",
            "records 0 facts [] rejects [] at 30/4 commit",
            "end",
            "begin second",
            "records 2 facts [1,2] rejects [] at 20/3 commit",
            "records 0 facts [] rejects [] at 20/3 commit",
            "end",
        ])
    }

    /// A source without records ends at its own start (offset 0, line 1), not where the previous source ended.
    @Test func checkpointOfAnEmptySourceIsItsStart() {
        let empty = SourceDescriptor(path: "empty", format: .text, compression: .none, size: 0)
        let probe = BatcherProbe(batchSize: 2)
        probe.feed([
            (0, .sourceStart(descriptor)), (1, chunk(1...3)), (2, .sourceEnd(sha256: nil)),
            (3, .sourceStart(empty)), (4, .sourceEnd(sha256: nil)),
        ])
        #expect(probe.messages.suffix(3) == ["begin empty", "records 0 facts [] rejects [] at 0/1 commit", "end"])
    }

    @Test func stopsPastTheErrorBudgetWithoutHandingOnTheOpenBatch() {
        let probe = BatcherProbe(batchSize: 2, maxErrors: 1)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...6, rejected: [2, 4, 6])), (2, .sourceEnd(sha256: nil))])
        #expect(probe.messages == [
            "begin src",
            "records 2 facts [1] rejects [2] at 20/3 commit",
            "stop aborted: more than 1 records rejected (--max-errors 1); the last: src:4: syntax_error: bad",
        ])
        #expect(probe.batcher.isStopped)
    }

    @Test func maxErrorsZeroStopsAtTheFirstRefusal() {
        let probe = BatcherProbe(batchSize: 100, maxErrors: 0)
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...3, rejected: [3]))])
        #expect(probe.messages == [
            "begin src",
            "stop aborted: more than 0 records rejected (--max-errors 0); the last: src:3: syntax_error: bad",
        ])
        // Nothing is handed on once stopped.
        probe.feed([(2, chunk(4...5)), (3, .sourceEnd(sha256: nil))])
        #expect(probe.messages.count == 2)
    }

    @Test func theErrorBudgetCountsAcrossSources() {
        let probe = BatcherProbe(batchSize: 10, maxErrors: 1)
        probe.feed([
            (0, .sourceStart(descriptor)), (1, chunk(1...2, rejected: [2])), (2, .sourceEnd(sha256: nil)),
            (3, .sourceStart(descriptor)), (4, chunk(1...2, rejected: [1])), (5, .sourceEnd(sha256: nil)),
        ])
        #expect(probe.messages.last?.hasPrefix("stop aborted: more than 1 records rejected") == true)
        #expect(probe.messages.filter { $0 == "end" }.count == 1)
    }

    @Test func aReadFailureStopsTheLoadAsFailed() {
        let probe = BatcherProbe(batchSize: 2)
        let failure = ReadError(source: "src", kind: .truncatedCompressedStream, message: "gzip stream ends mid-member")
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...3)), (2, .readFailed(failure))])
        #expect(probe.messages == [
            "begin src",
            "records 2 facts [1,2] rejects [] at 20/3 commit",
            "records 1 facts [3] rejects [] at 30/4",
            "stop failed: src: gzip stream ends mid-member",
        ])
        #expect(probe.batcher.isStopped)
    }

    @Test func stopsWhenTheWriterNoLongerAccepts() {
        let probe = BatcherProbe(batchSize: 2)
        probe.accepting = false
        probe.feed([(0, .sourceStart(descriptor)), (1, chunk(1...3))])
        #expect(probe.batcher.isStopped)
        #expect(probe.messages == ["begin src"])
    }
}
