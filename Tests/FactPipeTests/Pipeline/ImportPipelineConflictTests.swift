import Foundation
import Testing

@testable import FactPipe

/// What each conflict policy does when a canonical statement is already stored.
@Suite struct ImportPipelineConflictTests {
    static let firstLoad = #"""
        {"statement":"P(a).","confidence":0.5,"source":"one","context":{"x":1,"y":1},"fact_metadata":{"m":1,"keep":true},"created_at":"2020-01-01T00:00:00Z"}
        {"statement":"Other(z).","source":"one"}

        """#
    /// The same statement in another spelling, with every side field different.
    static let secondLoad = #"""
        {"statement":"P( a )","confidence":0.9,"source":"two","context":{"y":2,"z":2},"fact_metadata":{"n":2},"created_at":"2021-06-01T12:00:00Z"}
        {"statement":"Q(b)."}

        """#

    /// Loads `firstLoad`, then `secondLoad` under `policy`; returns the second summary, the workspace and the
    /// id `P(a).` got from the first load.
    private func twoLoads(_ policy: ConflictPolicy) throws -> (ImportSummary, LoadWorkspace, firstID: Int) {
        let work = try LoadWorkspace()
        let first = try work.write("first.ndjson", Self.firstLoad)
        let second = try work.write("second.ndjson", Self.secondLoad)
        let initial = work.load(first)
        #expect(initial.status == .done)
        #expect(initial.inserted == 2)
        let firstID = try #require(try work.database().fact("P(a).")).id
        let summary = work.load(second) { $0.conflictPolicy = policy }
        return (summary, work, firstID)
    }

    @Test func ignoreKeepsTheFirstFactAndCountsADuplicate() throws {
        let (summary, work, firstID) = try twoLoads(.ignore)
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.updated, summary.duplicates) == (2, 1, 0, 1))
        let db = try work.database()
        let fact = try #require(try db.fact("P(a)."))
        #expect(fact.id == firstID)
        #expect(fact.confidence == 0.5)
        #expect(fact.source == "one")
        #expect(try jsonObject(fact.context) == ["x": 1, "y": 1])
        #expect(fact.createdAt == "2020-01-01T00:00:00Z")
        #expect(fact.loadID == 1)
        #expect(try db.ledger().map(\.conflictPolicy) == ["ignore", "ignore"])
    }

    @Test func ignoreKeepsTheFirstOfTwoInTheSameLoad() throws {
        let work = try LoadWorkspace()
        let input = try work.write("dups.txt", "Hauptstadt(Deutschland,Berlin).\nHauptstadt( Deutschland , Berlin )\n")
        let summary = work.load(input)
        #expect((summary.records, summary.inserted, summary.duplicates) == (2, 1, 1))
        #expect(try work.database().statements() == ["Hauptstadt(Deutschland, Berlin)."])
    }

    /// A merge under `ignore` skips repeated statements with `INSERT OR IGNORE` only while
    /// `facts_statement` is the table's one unique index: a unique index of the user's own still fails
    /// the load, instead of its violations being skipped and counted as duplicates.
    @Test func ignoreStillFailsOnAUniqueIndexOfTheUsersOwn() throws {
        let work = try LoadWorkspace()
        let table = try work.write("table.txt", (0..<50).map { "Owns(person\($0), thing\($0))." }.joined(separator: "\n"))
        #expect(work.load(table).inserted == 50)
        let more = try work.write("more.txt", "Owns(person3, thing3).\nOwns(someoneElse, thing7).\nOwns(new, newThing).\n")
        try work.database().execute("CREATE UNIQUE INDEX users_one_owner ON facts(object)")
        // A failed merge counts nothing, so the workspace's counts-add-up check does not apply.
        let summary = ImportPipeline(options: ImportOptions(inputs: [more], databasePath: work.databasePath)).run()
        #expect(summary.status == .failed)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 50)
        #expect(try work.database().int("SELECT count(*) FROM facts WHERE subject = 'someoneElse'") == 0)

        // Without it, the same load merges: one repeat, two new facts.
        try work.database().execute("DROP INDEX users_one_owner")
        let again = work.load(more) { $0.resume = true }
        #expect(again.status == .done)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 52)
    }

    /// The same for a CHECK of the user's own (SQLite adds one to a table with a new column).
    @Test func ignoreStillFailsOnACheckOfTheUsersOwn() throws {
        let work = try LoadWorkspace()
        let table = try work.write("table.txt", (0..<50).map { "Owns(person\($0), thing\($0))." }.joined(separator: "\n"))
        #expect(work.load(table).inserted == 50)
        try work.database().execute("ALTER TABLE facts ADD COLUMN reviewed INTEGER CHECK (subject <> 'banned')")
        let more = try work.write("more.txt", "Owns(person3, thing3).\nOwns(banned, thing7).\nOwns(new, newThing).\n")
        let summary = ImportPipeline(options: ImportOptions(inputs: [more], databasePath: work.databasePath)).run()
        #expect(summary.status == .failed)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 50)
    }

    @Test func replaceOverwritesEveryColumnAndKeepsTheID() throws {
        let (summary, work, firstID) = try twoLoads(.replace)
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.updated, summary.duplicates) == (2, 1, 1, 0))
        let db = try work.database()
        let fact = try #require(try db.fact("P(a)."))
        #expect(fact.id == firstID)
        #expect(fact.confidence == 0.9)
        #expect(fact.source == "two")
        #expect(try jsonObject(fact.context) == ["y": 2, "z": 2])
        #expect(try jsonObject(fact.metadata) == ["n": 2])
        #expect(fact.createdAt == "2021-06-01T12:00:00Z")
        // The fact stays the first load's; the second is recorded as the one that changed it.
        #expect(fact.loadID == 1)
        #expect(try db.int("SELECT updated_load_id FROM facts WHERE statement = 'P(a).'") == 2)
        #expect(try db.facts().count == 3)
        #expect(try db.ledger().last?.updated == 1)
    }

    @Test func updateKeepsTheRowAndCreationTimeAndMergesContextAndMetadata() throws {
        let (summary, work, firstID) = try twoLoads(.update)
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.updated, summary.duplicates) == (2, 1, 1, 0))
        let db = try work.database()
        let fact = try #require(try db.fact("P(a)."))
        #expect(fact.id == firstID)
        #expect(fact.confidence == 0.9)
        #expect(fact.source == "two")
        #expect(try jsonObject(fact.context) == ["x": 1, "y": 2, "z": 2])
        #expect(try jsonObject(fact.metadata) == ["m": 1, "keep": true, "n": 2])
        #expect(fact.createdAt == "2020-01-01T00:00:00Z")
        #expect(fact.loadID == 1)
        #expect(try db.fact("Q(b).")?.loadID == 2)
    }

    @Test func updateOfAFactSeenTwiceInOneLoadCountsOneInsertAndOneUpdate() throws {
        let work = try LoadWorkspace()
        let input = try work.write("twice.ndjson", #"""
            {"statement":"P(a).","confidence":0.1,"context":{"a":1}}
            {"statement":"P(a).","confidence":0.2,"context":{"b":2}}

            """#)
        let summary = work.load(input) { $0.conflictPolicy = .update }
        #expect((summary.records, summary.inserted, summary.updated) == (2, 1, 1))
        let fact = try #require(try work.database().fact("P(a)."))
        #expect(fact.confidence == 0.2)
        #expect(try jsonObject(fact.context) == ["a": 1, "b": 2])
    }

    @Test func failAbortsAtTheFirstConflictAndKeepsTheBatchesCommittedBeforeIt() throws {
        let work = try LoadWorkspace()
        let first = try work.write("first.txt", "P(a).\n")
        let second = try work.write("second.txt", "Q(1).\nQ(2).\nP( a ).\nQ(3).\nQ(4).\n")
        #expect(work.load(first).inserted == 1)
        let summary = work.load(second) {
            $0.conflictPolicy = .fail
            $0.batchSize = 2
        }
        #expect(summary.status == .aborted)
        #expect(summary.wasInterrupted == false)
        let message = try #require(summary.message)
        #expect(message.contains("\(second):3"))
        #expect(message.contains("P(a). is already in the database (--on-conflict fail)"))
        // The batch [Q(1), Q(2)] was committed; [P(a), Q(3)] was rolled back.
        #expect((summary.records, summary.inserted, summary.duplicates) == (2, 2, 0))
        let db = try work.database()
        #expect(try db.statements() == ["P(a).", "Q(1).", "Q(2)."])
        let row = try #require(try db.ledger().last)
        expectLedgerAddsUp(row)
        #expect(row.status == "aborted")
        #expect(row.conflictPolicy == "fail")
        #expect((row.records, row.inserted) == (2, 2))
        #expect(row.checkpointOffset == 12)
        #expect(row.checkpointLine == 3)
        #expect(row.message == message)
        #expect(row.finishedAt != nil)
    }

    @Test func failAbortsOnADuplicateWithinTheSameLoad() throws {
        let work = try LoadWorkspace()
        let input = try work.write("dup.txt", "R(1).\nR(2).\nR(1)\n")
        let summary = work.load(input) { $0.conflictPolicy = .fail }
        #expect(summary.status == .aborted)
        #expect(summary.records == 0)
        #expect(try work.database().facts().isEmpty)
        #expect(try work.database().ledger().first?.status == "aborted")
    }

    @Test func failWithoutConflictsLoadsEverything() throws {
        let work = try LoadWorkspace()
        let input = try work.write("clean.txt", "R(1).\nR(2).\n")
        let summary = work.load(input) { $0.conflictPolicy = .fail }
        #expect(summary.status == .done)
        #expect(summary.inserted == 2)
    }
}
