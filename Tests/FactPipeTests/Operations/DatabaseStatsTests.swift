import Foundation
import Testing

@testable import FactPipe

/// `DatabaseStats` on a loaded factpipe database and on the knowledge base's own database; every
/// figure is checked against SQL run separately through the C API.
@Suite struct DatabaseStatsTests {
    /// Read while a load commits, the figures were of different moments (75,410 facts beside 86,210 by
    /// arity and a ledger saying 89,155 inserted): they are read in one read transaction now. Here a load
    /// commits between the count and the rest.
    @Test func theFiguresAreOfOneMomentWhileALoadCommits() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("a.txt", "P(a).\nP(b).\nQ(c, d).\n"))
        var inspector = DatabaseInspector(database: try ReadableFactDatabase(path: work.databasePath))
        let more = try work.write("b.txt", "P(e).\nR(f).\n")
        inspector.betweenReads = { _ = work.load(more) }
        let stats = try inspector.collect(top: 10, loads: 10)
        #expect(stats.facts == 3)
        #expect(stats.arities.reduce(0) { $0 + $1.facts } == 3)
        #expect(stats.topPredicates.reduce(0) { $0 + $1.facts } == 3)
        #expect(stats.recentLoads.count == 1 && stats.recentLoads.first?.inserted == 3, "\(stats.recentLoads)")
        #expect(try work.database().int("SELECT count(*) FROM facts") == 5, "the load committed meanwhile")
    }

    @Test func aLoadedDatabaseReportsItsFactsPredicatesAritiesSourcesIndexesAndLoads() throws {
        let work = try loadedKnowledgeBase()
        let db = try work.database()
        let stats = try DatabaseStats.collect(path: work.databasePath, top: 5)
        #expect(stats.kind == .factpipe)
        #expect(stats.schemaVersion == FactSchema.version)
        #expect(stats.journalMode == "wal")
        #expect(stats.facts == (try db.int("SELECT count(*) FROM facts")))
        #expect(stats.distinctPredicates == (try db.int("SELECT count(DISTINCT predicate) FROM facts")))
        #expect(stats.distinctSubjects == (try db.int("SELECT count(DISTINCT subject) FROM facts")))
        let top = try db.rows("SELECT predicate, count(*) n FROM facts GROUP BY 1 ORDER BY n DESC, predicate LIMIT 5")
        #expect(stats.topPredicates.map(\.name) == top.map { $0[0] })
        #expect(stats.topPredicates.map { String($0.facts) } == top.map { $0[1] ?? "" })
        #expect(stats.topPredicates.first?.name == "HasPart")
        #expect(stats.arities.reduce(0) { $0 + $1.facts } == stats.facts)
        #expect(stats.arities.map(\.arity) == [2, 3])
        #expect(stats.sources.map(\.name) == ["system", "v6_autopilot_contextual", "v6_autopilot_ekr"])
        #expect(stats.sources.reduce(0) { $0 + $1.facts } == stats.facts)
        #expect(stats.indexes.map(\.name) == ["facts_statement", "facts_subject_predicate"])
        #expect(stats.indexes.map(\.columns) == [["statement"], ["subject", "predicate"]])
        #expect(stats.indexes.map(\.isUnique) == [true, false])
        #expect(stats.columns.first == "id" && stats.columns.contains("arity"))
        let ledger = try db.ledger()
        #expect(stats.recentLoads.count == 1)
        #expect(stats.recentLoads.first?.id == Int64(ledger[0].id))
        #expect(stats.recentLoads.first?.status == "done")
        #expect(stats.recentLoads.first?.inserted == ledger[0].inserted)
        #expect(stats.recentLoads.first?.rejected == ledger[0].rejected)
        #expect(stats.fileBytes == Int64(try fileContents(work.databasePath).count))
        #expect(stats.pageSize == 16_384)
        #expect(Int64(stats.pageCount) * Int64(stats.pageSize) <= stats.fileBytes + stats.walBytes)
        #expect(stats.freePages == (try db.int("PRAGMA freelist_count")))
    }

    @Test func recentLoadsAreNewestFirstAndBounded() throws {
        let work = try loadedKnowledgeBase()
        _ = work.load(fixtureURL("hakgal/tool_sync_facts.txt").path)
        _ = work.load(fixtureURL("hakgal/k_assistant_facts.txt").path)
        let stats = try DatabaseStats.collect(path: work.databasePath, loads: 2)
        #expect(stats.recentLoads.map(\.id) == [3, 2])
        #expect(stats.recentLoads.first?.source.hasSuffix("k_assistant_facts.txt") == true)
    }

    @Test func theKnowledgeBasesOwnDatabaseIsReadFromItsColumnsAndStatementsAndLeftUnchanged() throws {
        let work = try LoadWorkspace()
        let path = try copyOfHexagonalKB(in: work)
        let before = try fileContents(path)
        let stats = try DatabaseStats.collect(path: path, top: 3)
        #expect(stats.kind == .foreign)
        #expect(stats.schemaVersion == 0)
        #expect(stats.facts == 4_244)
        #expect(stats.columns.contains("statement_hash") && !stats.columns.contains("arity"))
        // 655 rows have an empty predicate column: their predicate comes from the statement.
        // (Checked through a second copy: this connection may write, the one under test must not.)
        let rawCopy = work.path("raw-copy.db")
        try copyKnowledgeBaseDatabase(to: rawCopy)
        let raw = try RawDatabase(rawCopy)
        #expect(try raw.int("SELECT count(*) FROM facts WHERE coalesce(predicate, '') = ''") == 655)
        // Free text without a "(" has no predicate at all.
        let derived = "nullif(coalesce(nullif(predicate, ''), substr(statement, 1, instr(statement, '(') - 1)), '')"
        #expect(stats.distinctPredicates == (try raw.int("SELECT count(DISTINCT \(derived)) FROM facts")))
        let top = try raw.rows(
            "SELECT \(derived) p, count(*) n FROM facts WHERE p IS NOT NULL GROUP BY p ORDER BY n DESC, p LIMIT 3")
        #expect(stats.topPredicates.map(\.name) == top.map { $0[0] })
        #expect(stats.topPredicates.map { String($0.facts) } == top.map { $0[1] ?? "" })
        #expect(stats.arities.reduce(0) { $0 + $1.facts } + stats.unparsedStatements == 4_244)
        #expect(stats.arities.first { $0.arity == 2 }.map { $0.facts > 4_000 } == true)
        #expect(stats.sources.map(\.facts) == [4_162, 57, 25])
        #expect(stats.distinctSubjects > 900)
        #expect(stats.recentLoads.isEmpty)
        #expect(stats.indexes.contains { $0.name == "idx_facts_subject" && $0.columns == ["subject"] })
        #expect(stats.fileBytes == 3_395_584)
        #expect(stats.pageSize == 4_096)
        // The file says WAL (header bytes 18 and 19 are 2), though read `immutable` SQLite says `delete`.
        #expect(stats.journalMode == "wal")
        #expect(try fileContents(path) == before)
        #expect(try folderListing(work.path("hexagonal")) == ["hexagonal_kb.db"])
    }
}
