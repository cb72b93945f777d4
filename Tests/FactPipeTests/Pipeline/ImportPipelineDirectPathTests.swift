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

    /// A load counts the table only up to one past its own estimated size; every decision taken on
    /// that count is the one the whole count gives, also for a first source larger than the estimate
    /// (a file that grew since), which has the table counted again.
    @Test func aTableCountedUpToTheLoadsSizeDecidesAsAWholeCount() throws {
        let work = try LoadWorkspace()
        let table = ImportPipelineSmallTableTests.existing + ImportPipelineSmallTableTests.filler
        #expect(work.load(try work.write("existing.ndjson", table)).inserted == 43)
        let connection = try SQLiteConnection(path: work.databasePath, create: false)
        let database = WriterConnection(connection: connection, settings: DatabaseSettings(), isAtomic: false)
        #expect(try database.factCount(stoppingPast: 0) == 1)
        #expect(try database.factCount(stoppingPast: 9) == 10)
        #expect(try database.factCount(stoppingPast: 42) == 43)
        #expect(try database.factCount(stoppingPast: 43) == 43)
        #expect(try database.factCount(stoppingPast: .max) == 43)
        let estimated = IndexStrategy(
            rebuildsSecondaryIndexes: false, mayAppendDirectly: true, existingFacts: 21, countedPast: 20)
        for records in [nil, 0, 20, 21, 42, 43, 44, 500] as [Int64?] {
            #expect(
                try estimated.directAppendSuits(sourceRecords: records, database: database)
                    == DirectAppend.suits(sourceRecords: records, factCount: 43), "\(String(describing: records))")
        }
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
