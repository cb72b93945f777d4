import Foundation
import Testing

@testable import FactPipe

/// The PostgreSQL writer's side of `LateInterruptTests`: an interrupt that comes once the last input was
/// merged and recorded done lets the load finish and say so.
@Suite(.enabled(if: PostgreSQLTestAddress.isEnabled, PostgreSQLTestAddress.skipReason))
struct PostgreSQLLateInterruptTests {
    @Test func anInterruptAfterTheLastInputWasMergedFinishesTheLoad() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_late_")
        defer { scratch.drop() }
        let address = scratch.address

        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(11).\nP(12).\n")
        let options = ImportOptions(inputs: [input], databasePath: address.connectionString)
        // Turns on once the ledger, read through a connection of its own, has a load that is done.
        let reader = try PostgreSQLConnection(address: address)
        let summary: ImportSummary
        do {
            let store = try PostgreSQLFactStore(
                address: address, options: options, startedAt: Timestamp.now(), progress: nil
            ) {
                let done = try? reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
                return (done ?? nil ?? 0) > 0
            }
            let plans = try store.plan([input])
            summary = store.run(
                LateInterruptTests.messages([input]), estimatedRecords: 2, sourcesToRead: plans.filter(\.isRead).count)
        }
        #expect(summary.status == .done, "\(summary)")
        #expect(!summary.wasInterrupted)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
        #expect(try reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'") == 1)
    }

    /// An interrupt while the load builds the secondary indexes it dropped (on connections of their own, after
    /// its commit) also finds it finished: it says so.
    @Test func anInterruptWhileTheIndexesAreBuiltFinishesTheLoadAndSaysSo() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_late_")
        defer { scratch.drop() }
        let address = scratch.address

        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(11).\nP(12).\n")
        let options = ImportOptions(inputs: [input], databasePath: address.connectionString)
        // Turns on at the writer's second look once the ledger has a load that is done: the first is its look
        // once the messages end, the second comes after the builds it started at the end of the input.
        let reader = try PostgreSQLConnection(address: address)
        var looksAfterDone = 0
        var dropped = false
        let summary: ImportSummary
        do {
            let store = try PostgreSQLFactStore(
                address: address, options: options, startedAt: Timestamp.now(), progress: nil
            ) {
                let present = try? reader.scalarInt(
                    "SELECT count(*) FROM pg_catalog.pg_indexes WHERE indexname = 'facts_predicate_subject'")
                if present == 0 { dropped = true }
                let done = try? reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
                if (done ?? nil ?? 0) > 0 { looksAfterDone += 1 }
                return looksAfterDone >= 2
            }
            let plans = try store.plan([input])
            summary = store.run(
                LateInterruptTests.messages([input]), estimatedRecords: 2, sourcesToRead: plans.filter(\.isRead).count)
        }
        #expect(dropped, "the load dropped the indexes it builds again")
        #expect(summary.status == .done, "\(summary)")
        #expect(try reader.scalarInt(
            "SELECT count(*) FROM pg_catalog.pg_indexes WHERE indexname = 'facts_predicate_subject'") == 1)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
    }
}
