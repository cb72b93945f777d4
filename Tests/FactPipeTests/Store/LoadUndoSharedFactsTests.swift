import Foundation
import Testing

@testable import FactPipe

/// Undo keeps a fact while any live load brought it: the ones that brought it as a duplicate too.
@Suite struct LoadUndoSharedFactsTests {
    /// `x<from>` … `x<to - 1>`, one statement a line.
    private func range(_ from: Int, _ to: Int) -> String {
        (from..<to).map { "IsA(x\($0), Thing).\n" }.joined()
    }

    @Test(arguments: [ConflictPolicy.ignore, .update, .replace])
    func undoKeepsTheFactsAnotherLiveLoadAlsoBrought(_ policy: ConflictPolicy) throws {
        let work = try LoadWorkspace()
        let first = try work.write("1.txt", range(0, 5_000))
        let second = try work.write("2.txt", range(2_500, 7_500))
        #expect(work.load(first).inserted == 5_000)
        let two = work.load(second) { $0.conflictPolicy = policy }
        #expect(two.inserted == 2_500)
        #expect(two.duplicates + two.updated == 2_500)

        let result = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(result.deleted == 2_500)
        #expect(result.keptForOtherLoads == 2_500)
        #expect(result.loadsWithUnknownDuplicates.isEmpty)
        let database = try work.database()
        #expect(try database.int("SELECT count(*) FROM facts") == 5_000)
        #expect(try database.int("SELECT count(*) FROM facts WHERE statement = 'IsA(x2500, Thing).'") == 1)
        #expect(try database.int("SELECT count(*) FROM facts WHERE statement = 'IsA(x2499, Thing).'") == 0)
        // They are load 2's now: undoing it takes them out, and nothing of either load is left.
        #expect(try database.int("SELECT count(*) FROM facts WHERE load_id = 2") == 5_000)
        // Load 2's file is still recognised as loaded, rightly: its facts are all there.
        #expect(work.load(second).skipped.count == 1)
        let undoTwo = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(undoTwo.deleted == 5_000)
        #expect(try database.int("SELECT count(*) FROM facts") == 0)
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions") == 0)
    }

    @Test func aFactStaysWhileAnyOfSeveralLoadsThatBroughtItIsLive() throws {
        let work = try LoadWorkspace()
        let inputs = try (1...3).map { try work.write("\($0).txt", "P(shared).\nP(only\($0)).\n") }
        for input in inputs { _ = work.load(input) }
        _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(try work.database().statements() == ["P(only2).", "P(only3).", "P(shared)."])
        #expect(try work.database().fact("P(shared).")?.loadID == 2)
        _ = try LoadUndo.undo(loadID: 3, databasePath: work.databasePath)
        #expect(try work.database().statements() == ["P(only2).", "P(shared)."])
        _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(try work.database().statements() == [])
    }

    /// A merge records only the facts that were there before it: the newest of them (the highest id
    /// before the merge) included, a fact it inserted and then met again not, and nothing at all when
    /// every staged record inserted.
    @Test(arguments: [ConflictPolicy.ignore, .update, .replace])
    func aMergeAssertsExactlyTheFactsThatWereThereBeforeIt(_ policy: ConflictPolicy) throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("1.txt", "P(a).\n"))
        #expect(work.load(try work.write("2.txt", "P(b).\nP(c).\n")).inserted == 2)
        let database = try work.database()
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions") == 0)
        let newest = try database.int("SELECT max(id) FROM facts")
        let three = work.load(try work.write("3.txt", "P(d).\nP(c).\nP(d).\n")) { $0.conflictPolicy = policy }
        #expect(three.inserted == 1)
        #expect(try database.rows("SELECT load_id, fact_id FROM factpipe_assertions")
            == [["3", String(newest)]])
        #expect(try database.column("SELECT statement FROM facts WHERE id = \(newest)") == ["P(c)."])

        _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(try database.statements() == ["P(a).", "P(c).", "P(d)."])
    }

    /// Plain SQL that deletes the newest facts frees their ids: SQLite gives them to the next rows. An
    /// older load's assertion of such a fact made `undo` of the load that then inserted a new fact under
    /// its id keep that fact, as the older load's. `count` new facts: one is merged from the staging
    /// table, a hundred are appended to `facts` directly.
    /// With `madeBefore`, the database was made before the largest fact id was kept, and the facts were
    /// deleted before it was: the first load looks through the assertions once.
    @Test(arguments: [1, 100], [false, true])
    func anAssertionOfAFactDeletedByHandIsNotTakenForTheNextFactOfItsID(count: Int, madeBefore: Bool) throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("1.txt", range(0, 3))).inserted == 3)
        #expect(work.load(try work.write("2.txt", range(2, 3))).duplicates == 1)
        let database = try work.database()
        let newest = try database.int("SELECT max(id) FROM facts")
        #expect(try database.rows("SELECT load_id, fact_id FROM factpipe_assertions") == [["2", String(newest)]])
        if madeBefore { try database.execute("DROP TABLE factpipe_sequence") }
        try database.execute("DELETE FROM facts WHERE id = \(newest)")

        #expect(work.load(try work.write("3.txt", range(10, 10 + count))).inserted == count)
        // The id came back, as SQLite gives it; load 2's assertion of the deleted fact did not.
        #expect(try database.int("SELECT load_id FROM facts WHERE id = \(newest)") == 3)
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions") == 0)
        let result = try LoadUndo.undo(loadID: 3, databasePath: work.databasePath)
        #expect(result.deleted == count)
        #expect(result.keptForOtherLoads == 0)
        #expect(try database.statements() == ["IsA(x0, Thing).", "IsA(x1, Thing)."])
    }

    /// A database as factpipe made it before loads' assertions were recorded.
    private func strippedToTheEarlierSchema(_ database: RawDatabase) throws {
        try database.execute("""
            DROP TABLE factpipe_assertions;
            DROP TABLE factpipe_sequence;
            ALTER TABLE factpipe_staging DROP COLUMN given;
            ALTER TABLE factpipe_loads DROP COLUMN records_assertions;
            """)
    }

    @Test func undoInADatabaseMadeBeforeAssertionsWereRecorded() throws {
        let work = try LoadWorkspace()
        let first = try work.write("1.txt", "P(a).\nP(b).\nP(c).\n")
        let second = try work.write("2.txt", "P(b).\nP(d).\n")
        let third = try work.write("3.ndjson", "{\"statement\":\"P(c).\",\"confidence\":0.5}\n")
        _ = work.load(first)
        _ = work.load(second)
        _ = work.load(third) { $0.conflictPolicy = .update }
        try strippedToTheEarlierSchema(try work.database())

        let result = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        // Load 3's update left a trace (updated_load_id): P(c) stays. Load 2's duplicate P(b) left none.
        #expect(result.keptForOtherLoads == 1)
        #expect(result.deleted == 2)
        #expect(result.loadsWithUnknownDuplicates == [2])
        #expect(try work.database().statements() == ["P(c).", "P(d)."])
        let message = try #require(try work.database().ledger()[0].message)
        #expect(message.contains("loads 2 were made before factpipe recorded which loads bring a fact"), "\(message)")
        // The database was brought up to date: later loads record what they bring.
        #expect(try work.database().int("SELECT count(*) FROM factpipe_assertions") == 0)
        _ = work.load(try work.write("4.txt", "P(d).\n"))
        #expect(try work.database().int("SELECT count(*) FROM factpipe_assertions WHERE load_id = 4") == 1)
    }
}
