import Foundation
import Testing

@testable import FactPipe

/// An interrupt that comes once every input was read, merged and recorded as done (a small nightly load
/// spends most of its time in that last merge) finds a load the ledger already calls done: it finishes
/// and says so, instead of reporting interrupted (exit 130) a load that holds every record.
@Suite struct LateInterruptTests {
    /// What the batcher would send for `inputs`, the i-th (from 1) holding the two lines `P(i1).` and
    /// `P(i2).` (`P(11).`, `P(12).` for the first), each read to its end; the queue is closed.
    static func messages(_ inputs: [String], piped: Bool = false) -> BoundedQueue<WriterMessage> {
        func fact(_ n: Int, line: Int) -> Fact {
            var fact = Fact(
                statement: "P(\(n)).", predicate: "P", subject: "\(n)", object: nil, argsJSON: "[\"\(n)\"]",
                arity: 1, confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
            fact.line = line
            fact.offset = Int64((line - 1) * 7)
            return fact
        }
        let messages = BoundedQueue<WriterMessage>(name: "writer", capacity: 4 * max(1, inputs.count))
        for (index, input) in inputs.enumerated() {
            let n = (index + 1) * 10
            _ = messages.push(
                .begin(SourceDescriptor(path: input, format: .text, compression: .none, size: piped ? nil : 14)))
            _ = messages.push(.segment(FactSegment(
                facts: [fact(n + 1, line: 1), fact(n + 2, line: 2)], records: 2, checkpointOffset: 14,
                checkpointLine: 3, endsBatch: true)))
            _ = messages.push(.end(sha256: nil))
        }
        messages.close()
        return messages
    }

    /// Runs the writer on `sources` inputs of two facts each, of the `planned` inputs, with an interrupt
    /// that turns on as soon as the ledger, read through a connection of its own, has a load that is done:
    /// the writer's first look after the merge that committed it.
    private func load(_ work: LoadWorkspace, sources: Int, planned: Int, piped: Bool = false) throws -> ImportSummary {
        let inputs = try (1...planned).map { try work.write("in\($0).txt", "P(\($0 * 10 + 1)).\nP(\($0 * 10 + 2)).\n") }
        let options = ImportOptions(inputs: inputs, databasePath: work.databasePath)
        let database = work.databasePath
        let store = try FactStore(options: options, startedAt: Timestamp.now(), progress: nil) {
            let done = try? RawDatabase(database).int("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
            return (done ?? 0) > 0
        }
        let plans = try store.plan(inputs)
        #expect(plans.filter(\.isRead).count == planned)
        return store.run(
            Self.messages(Array(inputs.prefix(sources)), piped: piped), estimatedRecords: 2, sourcesToRead: planned)
    }

    @Test func anInterruptAfterTheLastInputWasMergedFinishesTheLoadAndSaysSo() throws {
        let work = try LoadWorkspace()
        let summary = try load(work, sources: 1, planned: 1)
        #expect(summary.status == .done, "\(summary)")
        #expect(!summary.wasInterrupted)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        let db = try work.database()
        #expect(try db.ledger().map(\.status) == ["done"])
        #expect(try db.int("SELECT count(*) FROM facts") == 2)
        // The load finished: the indexes its bulk load dropped were built.
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    /// The same interrupt where the input is a pipe: its end may be its writer stopped by the same signal, so the
    /// load says interrupted; it said "the open batch was rolled back" while its ledger said done and every
    /// record was in. It finishes (the indexes are built) and says what is true.
    @Test func anInterruptAsAPipedInputEndedSaysInterruptedButNothingRolledBack() throws {
        let work = try LoadWorkspace()
        let summary = try load(work, sources: 1, planned: 1, piped: true)
        #expect(summary.status == .interrupted, "\(summary)")
        #expect(summary.wasInterrupted)
        let message = try #require(summary.message)
        #expect(message.hasPrefix("interrupted as its input ended: every record the input gave was committed"))
        #expect(!message.contains("rolled back"))
        #expect(!summary.notes.contains(FinishedSource.lateInterruptNote))
        let db = try work.database()
        #expect(try db.ledger().map(\.status) == ["done"])
        #expect(try db.int("SELECT count(*) FROM facts") == 2)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func anInterruptBeforeAPlannedInputWasReadStillInterrupts() throws {
        let work = try LoadWorkspace()
        let summary = try load(work, sources: 1, planned: 2)
        #expect(summary.status == .interrupted, "\(summary)")
        #expect(summary.wasInterrupted)
        #expect(!summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try work.database().ledger().map(\.status) == ["done"])
    }

    /// Runs the writer on one input of two facts into an empty database (the secondary index is dropped and
    /// built again at the end), with an interrupt that turns on once the writer's own connection, inside
    /// its transaction, sees that index built again: a signal while the load builds its indexes.
    private func loadInterruptedInItsIndexBuild(_ work: LoadWorkspace, atomic: Bool) throws -> ImportSummary {
        let input = try work.write("in1.txt", "P(11).\nP(12).\n")
        var options = ImportOptions(inputs: [input], databasePath: work.databasePath)
        options.isAtomic = atomic
        final class Box { var connection: SQLiteConnection?; var dropped = false }
        let box = Box()
        let store = try FactStore(options: options, startedAt: Timestamp.now(), progress: nil) {
            guard let connection = box.connection else { return false }
            let present = (try? connection.scalarInt(
                "SELECT count(*) FROM sqlite_master WHERE name = 'facts_subject_predicate'")) == 1
            if !present { box.dropped = true }
            return box.dropped && present
        }
        box.connection = store.stage.database.connection
        _ = try store.plan([input])
        let summary = store.run(Self.messages([input]), estimatedRecords: 2, sourcesToRead: 1)
        #expect(box.dropped, "the load dropped the index it builds again")
        return summary
    }

    @Test func anInterruptWhileTheIndexesAreBuiltFinishesTheLoadAndSaysSo() throws {
        let work = try LoadWorkspace()
        let summary = try loadInterruptedInItsIndexBuild(work, atomic: false)
        #expect(summary.status == .done, "\(summary)")
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        let db = try work.database()
        #expect(try db.ledger().map(\.status) == ["done"])
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func anInterruptWhileAnAtomicLoadBuildsItsIndexesTakesTheLoadBack() throws {
        let work = try LoadWorkspace()
        let summary = try loadInterruptedInItsIndexBuild(work, atomic: true)
        #expect(summary.status == .interrupted, "\(summary)")
        let db = try work.database()
        #expect(try db.int("SELECT count(*) FROM facts") == 0)
        #expect(try db.ledger().map(\.status) != ["done"])
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func theRuleNeedsEveryPlannedInputDoneAndNoOpenOneOrAtomicLoad() {
        let done = FinishedSource(
            descriptor: SourceDescriptor(path: "a", format: .text, compression: .none, size: 10), loadID: 1,
            counts: .init(), status: .done, base: .init())
        var failed = done
        failed.status = .failed
        var piped = done
        piped.descriptor.size = nil
        var standardInput = done
        standardInput.descriptor.path = "-"
        #expect(FinishedSource.interruptCameAfterTheEnd([done, done], sourcesToRead: 2, isOpen: false, isAtomic: false))
        #expect(!FinishedSource.interruptCameAfterTheEnd([done], sourcesToRead: 2, isOpen: false, isAtomic: false))
        #expect(!FinishedSource.interruptCameAfterTheEnd([done, done], sourcesToRead: 2, isOpen: true, isAtomic: false))
        #expect(!FinishedSource.interruptCameAfterTheEnd([done, done], sourcesToRead: 2, isOpen: false, isAtomic: true))
        #expect(!FinishedSource.interruptCameAfterTheEnd([done, failed], sourcesToRead: 2, isOpen: false, isAtomic: false))
        #expect(!FinishedSource.interruptCameAfterTheEnd([], sourcesToRead: 0, isOpen: false, isAtomic: false))
        // The end of a pipe may be its writer killed by the same signal.
        #expect(!FinishedSource.interruptCameAfterTheEnd([done, piped], sourcesToRead: 2, isOpen: false, isAtomic: false))
        #expect(!FinishedSource.interruptCameAfterTheEnd([standardInput], sourcesToRead: 1, isOpen: false, isAtomic: false))
        // Recorded done all the same: said interrupted, in other words.
        #expect(FinishedSource.everyInputIsRecordedDone([done, piped], sourcesToRead: 2, isOpen: false, isAtomic: false))
        #expect(!FinishedSource.everyInputIsRecordedDone([done, piped], sourcesToRead: 2, isOpen: true, isAtomic: false))
        #expect(!FinishedSource.everyInputIsRecordedDone([done, failed], sourcesToRead: 2, isOpen: false, isAtomic: false))
    }
}
