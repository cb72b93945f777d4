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
}
