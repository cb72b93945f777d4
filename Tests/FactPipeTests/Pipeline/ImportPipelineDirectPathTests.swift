import Foundation
import Testing

@testable import FactPipe

/// When a load may append its first source straight to `facts`, and when it stages it as before.
@Suite struct ImportPipelineDirectPathTests {
    /// Facts renumbered by plain SQL to ids at or below 0 are still the table's: a load that repeats
    /// them records the assertions, so undoing the load that inserted them keeps them.
    @Test func aTableWhoseIdsAreNotPositiveIsNotTakenForEmpty() throws {
        let work = try LoadWorkspace()
        let existing = try work.write("existing.ndjson", ImportPipelineSmallTableTests.existing)
        #expect(work.load(existing).inserted == 3)
        let db = try work.database()
        try db.execute("UPDATE facts SET id = id - 10")
        let summary = work.load(try work.write("load.ndjson", ImportPipelineSmallTableTests.load))
        #expect(summary.status == .done)
        #expect(summary.inserted == 5)
        #expect(try db.column("""
            SELECT DISTINCT f.statement FROM factpipe_assertions AS a JOIN facts AS f ON f.id = a.fact_id
            WHERE a.load_id = 2 ORDER BY 1
            """) == ["A(y).", "B(x)."])
        _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(try db.column("SELECT statement FROM facts WHERE id <= -7 ORDER BY statement") == ["A(y).", "B(x)."])
        #expect(try db.int("SELECT count(*) FROM facts") == 7)
    }

    /// `import small big` into a table larger than `small`: the direct path is for the first source
    /// only, so it is decided on that source's size, and `small` is staged.
    @Test func aFirstSourceSmallerThanTheTableIsStagedWhateverFollowsIt() throws {
        let work = try LoadWorkspace()
        let table = ImportPipelineSmallTableTests.existing + ImportPipelineSmallTableTests.filler
        #expect(work.load(try work.write("existing.ndjson", table)).inserted == 43)
        let small = try work.write("small.ndjson", ImportPipelineSmallTableTests.load)
        let big = try work.write("big.ndjson", (1...200).map {
            #"{"statement":"Big(number\#($0)).","created_at":"2019-01-01T00:00:00Z"}"# + "\n"
        }.joined())
        let summary = work.load([small, big])
        #expect(summary.status == .done)
        #expect(try work.database().column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["C(new).", "D(new).", "M(new).", "Q(new).", "Z(new)."])
    }

    /// A table past the size the statement filter keeps accurate is never appended to directly.
    @Test func aLargeTableIsNotAppendedToDirectly() {
        let cap = DirectAppend.maxTableFacts
        #expect(DirectAppend.suits(sourceRecords: cap * 4, factCount: cap))
        #expect(!DirectAppend.suits(sourceRecords: cap * 4, factCount: cap + 1))
        #expect(DirectAppend.suits(sourceRecords: nil, factCount: 0))
        #expect(!DirectAppend.suits(sourceRecords: 10, factCount: 10))
    }
}
