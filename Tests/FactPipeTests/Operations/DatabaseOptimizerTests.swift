import Foundation
import Testing

@testable import FactPipe

/// `DatabaseOptimizer`: what it runs, what VACUUM reclaims, and when it refuses.
@Suite struct DatabaseOptimizerTests {
    @Test func vacuumAfterDeletingHalfTheFactsShrinksTheFileAndKeepsEveryOtherFact() throws {
        let work = try LoadWorkspace()
        let summary = work.load(fixtureURL("hakgal/kb_statements.txt").path)
        #expect(summary.inserted > 10_000)
        let remaining: [FactRow]
        do {
            let db = try work.database()
            try db.execute("DELETE FROM facts WHERE id % 2 = 0")
            remaining = try db.facts()
        }
        #expect(remaining.count > 5_000)
        let report = try DatabaseOptimizer.run(path: work.databasePath, options: OptimizeOptions(vacuum: true))
        #expect(
            report.steps.map(\.name) == [
                "PRAGMA optimize", "ANALYZE", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA integrity_check",
            ])
        #expect(report.isIntact)
        #expect(report.before.freePages > 0)
        #expect(report.after.freePages == 0)
        #expect(report.after.fileBytes < report.before.fileBytes * 3 / 4, "\(report.before) → \(report.after)")
        #expect(report.after.walBytes == 0)
        #expect(report.after.fileBytes == Int64(try fileContents(work.databasePath).count))
        let db = try work.database()
        #expect(try db.facts() == remaining)
        #expect(try db.column("PRAGMA integrity_check") == ["ok"])
    }

    @Test func withoutVacuumItAnalysesAndKeepsTheFreePages() throws {
        let work = try loadedKnowledgeBase()
        try work.database().execute("DELETE FROM facts WHERE id % 2 = 0")
        let report = try DatabaseOptimizer.run(path: work.databasePath, options: OptimizeOptions(reindex: true))
        #expect(report.steps.map(\.name).contains("REINDEX") && !report.steps.map(\.name).contains("VACUUM"))
        #expect(report.isIntact)
        #expect(report.after.freePages >= report.before.freePages && report.after.freePages > 0)
        let statistics = try work.database().rows("SELECT idx FROM sqlite_stat1 WHERE tbl = 'facts' ORDER BY idx")
        #expect(statistics.compactMap { $0.first ?? nil }.contains("facts_subject_predicate"), "ANALYZE wrote planner statistics")
        #expect(try work.database().int("PRAGMA user_version") == FactSchema.version)
    }

    @Test func theCheckpointEmptiesTheLog() throws {
        let work = try loadedKnowledgeBase()
        let holder = try work.database()  // keeps the log from being removed on close
        try holder.execute("UPDATE facts SET confidence = 0.5 WHERE id <= 500")
        let walBefore = try #require(FileSize.bytes(work.databasePath + "-wal"))
        #expect(walBefore > 0)
        let report = try DatabaseOptimizer.run(path: work.databasePath)
        #expect(report.before.walBytes == walBefore)
        #expect(report.checkpointCompleted)
        #expect(report.after.walBytes == 0)
        #expect(try holder.int("SELECT count(*) FROM facts WHERE confidence = 0.5") >= 500)
    }

    @Test func itRefusesAtOnceWhileALoadHoldsTheWriterLock() throws {
        let work = try loadedKnowledgeBase()
        var lock: WriterLock? = try WriterLock(
            databasePath: work.databasePath, timeoutSeconds: 0, description: "import of big.ndjson")
        let before = try fileContents(work.databasePath)
        let start = ContinuousClock.now
        #expect {
            try DatabaseOptimizer.run(path: work.databasePath, options: OptimizeOptions(vacuum: true))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.kind == .busy
                && error.message.hasPrefix("refusing to optimize: another load is writing to this database (pid ")
                && error.message.contains("import of big.ndjson")
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(try fileContents(work.databasePath) == before)
        #expect(lock != nil)
        lock = nil
        // Once the load is gone, it runs.
        #expect(try DatabaseOptimizer.run(path: work.databasePath).isIntact)
    }

    @Test func itRefusesWithinTheBusyTimeoutWhileAnotherProgramWrites() throws {
        let work = try loadedKnowledgeBase()
        let other = try work.database()
        try other.execute("BEGIN IMMEDIATE; DELETE FROM facts WHERE id = 1;")
        let start = ContinuousClock.now
        #expect {
            try DatabaseOptimizer.run(path: work.databasePath)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.kind == .busy && error.message.contains("another program holds the database's lock")
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        try other.execute("ROLLBACK")
    }

    @Test func itRefusesADatabaseFactpipeDidNotCreateAndLeavesItAlone() throws {
        let work = try LoadWorkspace()
        let path = try copyOfHexagonalKB(in: work)
        let before = try fileContents(path)
        #expect {
            try DatabaseOptimizer.run(path: path, options: OptimizeOptions(vacuum: true))
        } throws: { error in
            (error as? StoreError)?.kind == .foreignDatabase
        }
        #expect(try fileContents(path) == before)
        #expect(try folderListing(work.path("hexagonal")) == ["hexagonal_kb.db"], "not even a lock file")
    }

    @Test func aMissingDatabaseIsNamedAndNotCreated() throws {
        let work = try LoadWorkspace()
        #expect {
            try DatabaseOptimizer.run(path: work.databasePath)
        } throws: { error in
            "\(error)".contains("no such file")
        }
        #expect(try folderListing(work.directory.url.path).isEmpty)
    }
}
