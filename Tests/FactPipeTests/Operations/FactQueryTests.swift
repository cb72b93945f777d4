import Foundation
import Testing

@testable import FactPipe

private func facts(_ query: FactQuery, _ path: String) throws -> [StoredFact] {
    var found: [StoredFact] = []
    try query.run(databasePath: path) { found.append($0) }
    return found
}

/// `FactQuery` on a loaded factpipe database and on the knowledge base's own database.
@Suite struct FactQueryTests {
    /// A caller whose output went away (`query … | head`) stops the lookup: it read every row before.
    @Test func aLookupStopsWhenItsCallerSaysSo() throws {
        let work = try loadedKnowledgeBase()
        let all = try facts(FactQuery(limit: nil), work.databasePath).count
        #expect(all > 10)
        var handed = 0
        let count = try FactQuery(limit: nil).run(databasePath: work.databasePath, stopWhen: { handed >= 3 }) { _ in
            handed += 1
        }
        #expect(count == 3 && handed == 3)
    }

    @Test func predicateAndSubjectFindExactlyTheStoredRows() throws {
        let work = try loadedKnowledgeBase()
        let db = try work.database()
        let found = try facts(FactQuery(predicate: "HasPart", subject: "Computer", limit: nil), work.databasePath)
        let expected = try db.column(
            "SELECT statement FROM facts WHERE predicate = 'HasPart' AND subject = 'Computer' ORDER BY statement")
        #expect(!expected.isEmpty)
        #expect(found.map(\.statement).sorted() == expected.compactMap { $0 })
        let cpu = try #require(found.first { $0.statement == "HasPart(Computer, CPU)." })
        let row = try #require(try db.fact("HasPart(Computer, CPU)."))
        #expect(cpu.id == Int64(row.id))
        #expect(cpu.object == "CPU" && cpu.confidence == row.confidence && cpu.source == row.source)
        #expect(cpu.context == row.context && cpu.metadata == row.metadata && cpu.createdAt == row.createdAt)
    }

    @Test func aStatementIsCanonicalisedBeforeTheLookup() throws {
        let work = try loadedKnowledgeBase()
        let found = try facts(FactQuery(statement: "  HasPart( Computer ,CPU )"), work.databasePath)
        #expect(found.map(\.statement) == ["HasPart(Computer, CPU)."])
        #expect(try facts(FactQuery(statement: "HasPart(Computer, Nothing)"), work.databasePath).isEmpty)
        #expect {
            try FactQuery(statement: "free text").run(databasePath: work.databasePath) { _ in }
        } throws: { error in
            guard case .invalidStatement(let text, _) = error as? FactQueryError else { return false }
            return text == "free text"
        }
    }

    /// A fact loaded under raised limits is found by its statement: the query is read as any stored
    /// statement is, not under the default load limits (which refused it, exit 64).
    @Test func aStatementLoadedUnderRaisedLimitsIsFound() throws {
        let work = try LoadWorkspace()
        let long = "P(\(String(repeating: "b", count: 600)), c)."
        let wide = "R(a, b, c, d, e, f, g, h, i, j, k, l)."
        let input = try work.write("in.txt", long + "\n" + wide + "\n")
        let summary = work.load(input) {
            $0.limits.maxArgLength = 1_000
            $0.limits.maxArgs = 20
        }
        #expect(summary.inserted == 2)
        #expect(try facts(FactQuery(statement: long), work.databasePath).map(\.statement) == [long])
        #expect(try facts(FactQuery(statement: wide), work.databasePath).map(\.statement) == [wide])
    }

    @Test func subjectObjectAndLimitCombine() throws {
        let work = try loadedKnowledgeBase()
        let db = try work.database()
        let byObject = try facts(FactQuery(object: "CPU", limit: nil), work.databasePath)
        #expect(byObject.count == (try db.int("SELECT count(*) FROM facts WHERE object = 'CPU'")))
        #expect(byObject.allSatisfy { $0.object == "CPU" })
        let both = try facts(FactQuery(subject: "Computer", object: "CPU", limit: nil), work.databasePath)
        #expect(Set(both.map(\.statement)) == ["HasPart(Computer, CPU).", "Requires(Computer, CPU)."])
        let limited = try facts(FactQuery(predicate: "HasPart", limit: 7), work.databasePath)
        #expect(limited.count == 7 && limited.allSatisfy { $0.predicate == "HasPart" })
        let firstOnes = try facts(FactQuery(limit: 3), work.databasePath)
        #expect(firstOnes.map(\.id) == [1, 2, 3])
    }

    @Test func factpipeLookupsSearchAnIndexExceptObjectAlone() throws {
        let work = try loadedKnowledgeBase()
        let connection = try FactDatabase.openForReading(path: work.databasePath)
        func plan(_ query: FactQuery) throws -> String {
            let canonical = try query.canonicalStatement()
            let sql = FactLookup.factpipeSQL(query, canonicalStatement: canonical).sql
            return try PatternQueries.queryPlan(sql, connection).joined(separator: "; ")
        }
        #expect(try plan(FactQuery(predicate: "P", subject: "S")).contains("INDEX facts_subject_predicate"))
        #expect(try plan(FactQuery(predicate: "P")).contains("INDEX facts_statement (statement>? AND statement<?)"))
        #expect(try plan(FactQuery(subject: "S")).contains("INDEX facts_subject_predicate"))
        #expect(try plan(FactQuery(statement: "P(a, b)")).contains("INDEX facts_statement"))
        #expect(try plan(FactQuery(subject: "S", object: "O")).contains("SEARCH facts USING INDEX facts_subject_predicate"))
        #expect(try plan(FactQuery(object: "O")).contains("SCAN facts"))
    }

    @Test func theKnowledgeBasesDatabaseUsesColumnsWhereSetAndStatementsWhereEmpty() throws {
        let work = try LoadWorkspace()
        let path = try copyOfHexagonalKB(in: work)
        let before = try fileContents(path)
        // This row's predicate, subject and object columns are empty.
        let byParts = try facts(FactQuery(predicate: "HasProperty", subject: "BlackHole", limit: nil), path)
        #expect(byParts.map(\.statement).contains("HasProperty(BlackHole, EventHorizon)."))
        #expect(byParts.allSatisfy { $0.predicate == "HasProperty" && $0.subject == "BlackHole" })
        let byObject = try facts(FactQuery(subject: "BlackHole", object: "EventHorizon", limit: nil), path)
        #expect(
            Set(byObject.map(\.statement)) == [
                "HasProperty(BlackHole, EventHorizon).", "HasPart(BlackHole, EventHorizon).",
            ])
        let byStatement = try facts(FactQuery(statement: "IsA( BlackHole ,RegionInSpacetime)"), path)
        #expect(byStatement.map(\.statement) == ["IsA(BlackHole, RegionInSpacetime)."])
        #expect(byStatement.first?.id == nil && byStatement.first?.createdAt == nil)
        #expect(byStatement.first?.confidence == 1.0 && byStatement.first?.source == "system")
        // Every fact of a predicate: as many as stats counts for it.
        let stats = try DatabaseStats.collect(path: path, top: 1)
        let top = try #require(stats.topPredicates.first)
        let all = try facts(FactQuery(predicate: top.name, limit: nil), path)
        #expect(all.count == top.facts)
        #expect(try fileContents(path) == before)
        #expect(try folderListing(work.path("hexagonal")) == ["hexagonal_kb.db"])
    }

    @Test func ndjsonOutputLoadsBackIntoTheSameFacts() throws {
        let work = try loadedKnowledgeBase()
        var lines: [String] = []
        try FactQuery(limit: nil).run(databasePath: work.databasePath) { lines.append($0.ndjsonLine) }
        let export = try work.write("export.ndjson", lines.joined(separator: "\n") + "\n")
        let copy = work.path("copy.sqlite")
        let summary = ImportPipeline(options: ImportOptions(inputs: [export], databasePath: copy)).run()
        #expect(summary.status == .done && summary.rejected == 0 && summary.warnings == 0)
        let strip: (FactRow) -> FactRow = { row in
            var row = row
            row.id = 0
            row.loadID = nil
            return row
        }
        #expect(try RawDatabase(copy).facts().map(strip) == (try work.database().facts().map(strip)))
    }

    @Test func csvRowsQuoteWhatNeedsQuoting() {
        let fact = StoredFact(
            statement: "Says(Anna, \"hi, you\").", predicate: "Says", confidence: 0.5, source: nil,
            context: "{\"a\":1}", metadata: "{}", createdAt: "2025-01-01T00:00:00Z")
        #expect(fact.csvRow == "\"Says(Anna, \"\"hi, you\"\").\",0.5,,\"{\"\"a\"\":1}\",{},2025-01-01T00:00:00Z")
        #expect(
            fact.ndjsonLine == #"{"statement":"Says(Anna, \"hi, you\").","confidence":0.5,"context":{"a":1},"#
                + #""fact_metadata":{},"created_at":"2025-01-01T00:00:00Z"}"#)
        let foreign = StoredFact(statement: "P(a).", predicate: "P", context: "not json")
        #expect(foreign.ndjsonLine == #"{"statement":"P(a).","context":"not json"}"#)
    }
}
