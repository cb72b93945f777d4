import Foundation
import Testing

@testable import FactPipe

/// The PostgreSQL writer's side of `LateInterruptTests`: an interrupt that comes once the last input was
/// merged and recorded done lets the load finish and say so.
@Suite(.enabled(if: PostgreSQLTestAddress.isEnabled, PostgreSQLTestAddress.skipReason))
struct PostgreSQLLateInterruptTests {
    /// Runs the writer on one input of two facts into the database at `address`, with an interrupt that turns
    /// on at the writer's `look`-th look once the ledger, read through `reader` (a connection of its own), has
    /// a load that is done; `watch` sees the reader at every look.
    private func load(
        _ address: PostgreSQLAddress, reader: PostgreSQLConnection, interruptAtLook look: Int,
        watch: @escaping (PostgreSQLConnection) -> Void = { _ in }
    ) throws -> ImportSummary {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(11).\nP(12).\n")
        let options = ImportOptions(inputs: [input], databasePath: address.connectionString)
        var looksAfterDone = 0
        let store = try PostgreSQLFactStore(
            address: address, options: options, startedAt: Timestamp.now(), progress: nil
        ) {
            watch(reader)
            let done = try? reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
            if (done ?? nil ?? 0) > 0 { looksAfterDone += 1 }
            return looksAfterDone >= look
        }
        let plans = try store.plan([input])
        return store.run(
            LateInterruptTests.messages([input]), estimatedRecords: 2, sourcesToRead: plans.filter(\.isRead).count)
    }

    @Test func anInterruptAfterTheLastInputWasMergedFinishesTheLoad() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_late_")
        defer { scratch.drop() }
        let reader = try PostgreSQLConnection(address: scratch.address)
        let summary = try load(scratch.address, reader: reader, interruptAtLook: 1)
        #expect(summary.status == .done, "\(summary)")
        #expect(!summary.wasInterrupted)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
        #expect(try reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'") == 1)
    }

    /// An interrupt while the load builds the secondary indexes it dropped (on connections of their own, after
    /// its commit) also finds it finished: it says so. The writer's first look once the load is done comes as
    /// the messages end, the second after the builds it started at the end of the input.
    @Test func anInterruptWhileTheIndexesAreBuiltFinishesTheLoadAndSaysSo() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_late_")
        defer { scratch.drop() }
        let reader = try PostgreSQLConnection(address: scratch.address)
        let index = "SELECT count(*) FROM pg_catalog.pg_indexes WHERE indexname = 'facts_predicate_subject'"
        var dropped = false
        let summary = try load(scratch.address, reader: reader, interruptAtLook: 2) { reader in
            if (try? reader.scalarInt(index)) == 0 { dropped = true }
        }
        #expect(dropped, "the load dropped the indexes it builds again")
        #expect(summary.status == .done, "\(summary)")
        #expect(try reader.scalarInt(index) == 1)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
    }
}
