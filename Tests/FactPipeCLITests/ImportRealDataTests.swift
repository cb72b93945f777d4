import Foundation
import Testing

/// The knowledge base's real dumps in `Fixtures/hakgal/`, loaded through the built binary.
///
/// Every expected count was worked out independently of factpipe: a Python implementation of the
/// grammar (DESIGN 1.2) and canonical form (1.3) over the same files, then checked row by row against
/// the database with sqlite3. The refused rows are free text, unbalanced brackets, quantified formulas
/// (`all x (...)`), a negation (`-Pred(...)`), an empty argument list and conjunctions (`A(x) & B(x).`).
@Suite struct ImportRealDataTests {
    struct Expected {
        var records, inserted, duplicates, rejected, warnings: Int
    }

    /// A load of one fixture, with its JSON summary, rejects and database.
    struct Load {
        let work: CLIWorkspace
        let input: String
        let run: FactpipeRun
        let json: [String: Any]
        let rejects: [[String: Any]]

        var database: String { work.database }

        func rejectedLines() -> [Int] { rejects.compactMap { int($0, "line") } }
        func rejectedRecords() -> [String] { rejects.compactMap { $0["record"] as? String } }
    }

    private func load(_ fixture: String, _ extra: [String] = []) throws -> Load {
        let work = try CLIWorkspace()
        let input = fixturePath("hakgal/\(fixture)")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--json", "-q"] + extra)
        let json = try run.json()
        let lines = FileManager.default.fileExists(atPath: rejects)
            ? try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            : []
        return Load(work: work, input: input, run: run, json: json, rejects: lines)
    }

    private func expect(
        _ load: Load, _ expected: Expected, format: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let json = load.json
        #expect(load.run.status == (expected.rejected > 0 ? 2 : 0), "\(load.run.stderr)", sourceLocation: sourceLocation)
        #expect(json["status"] as? String == "done", sourceLocation: sourceLocation)
        #expect(int(json, "records") == expected.records, sourceLocation: sourceLocation)
        #expect(int(json, "inserted") == expected.inserted, sourceLocation: sourceLocation)
        #expect(int(json, "updated") == 0, sourceLocation: sourceLocation)
        #expect(int(json, "duplicates") == expected.duplicates, sourceLocation: sourceLocation)
        #expect(int(json, "rejected") == expected.rejected, sourceLocation: sourceLocation)
        #expect(int(json, "warnings") == expected.warnings, sourceLocation: sourceLocation)
        expectCountsAddUp(json, sourceLocation: sourceLocation)
        #expect(load.rejects.count == expected.rejected, sourceLocation: sourceLocation)
        #expect(
            try SQLiteFile.int(load.database, "SELECT count(*) FROM facts") == expected.inserted, sourceLocation: sourceLocation)
        let ledger = try #require(try SQLiteFile.ledger(load.database).first, sourceLocation: sourceLocation)
        expectCountsAddUp(ledger, sourceLocation: sourceLocation)
        #expect(ledger["status"] as? String == "done", sourceLocation: sourceLocation)
        #expect(ledger["format"] as? String == format, sourceLocation: sourceLocation)
        #expect(int(ledger, "records") == expected.records, sourceLocation: sourceLocation)
        #expect(int(ledger, "warnings") == expected.warnings, sourceLocation: sourceLocation)
        let size = try load.work.size(load.input)
        #expect(int(ledger, "checkpoint_offset") == size, sourceLocation: sourceLocation)
        #expect(int(ledger, "source_size") == size, sourceLocation: sourceLocation)
        #expect(load.rejects.allSatisfy { $0["reason"] as? String == "syntax_error" }, sourceLocation: sourceLocation)
    }

    static let unbalanced = ["LocatedIn(Corsica, France, Period(1769).", "CausedBy(MeijiRestoration, CapitalShift(Kyoto, Tokyo)."]
    static let freeText = [
        "HAK_GAL_HEXAGONAL performance optimization completed on 2025-01-11",
        "External verification by Claude Opus confirms HAK_GAL_HEXAGONAL",
        "Database size discrepancy noted in verification: actual 2.72 MB",
    ]

    @Test func knowledgeBaseNDJSONDump() throws {
        let load = try load("kb_facts.ndjson")
        try expect(load, Expected(records: 4_244, inserted: 4_237, duplicates: 2, rejected: 5, warnings: 41), format: "ndjson")
        #expect(load.rejectedLines() == [3_745, 3_776, 4_235, 4_236, 4_237])
        let statements = load.rejects.compactMap { object -> String? in
            guard let record = object["record"] as? String,
                let decoded = try? JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any]
            else { return nil }
            return decoded["statement"] as? String
        }
        #expect(Array(statements.prefix(2)) == Self.unbalanced)
        for (statement, prefix) in zip(statements.suffix(3), Self.freeText) {
            #expect(statement.hasPrefix(prefix))
        }
        let messages = load.rejects.compactMap { $0["message"] as? String }
        #expect(messages[0].contains("'(' is never closed"))
        #expect(messages[1].contains("'(' is never closed"))
        #expect(messages[2].contains("not free text"))
        // Stale parts of the dump are kept in given_parts.
        let dna = try #require(try SQLiteFile.rows(load.database, """
            SELECT subject, json_extract(fact_metadata, '$.given_parts.subject') AS given,
            json_extract(fact_metadata, '$.rowid') AS rowid, context, source
            FROM facts WHERE statement = 'HasPurpose(DNA, CarriesGeneticInformation).'
            """).first)
        #expect(dna["subject"] as? String == "DNA")
        #expect(dna["given"] as? String == "Dna")
        #expect(int(dna, "rowid") == 334)
        #expect(dna["source"] as? String == "system")
        #expect(try SQLiteFile.int(load.database, "SELECT count(*) FROM facts WHERE fact_metadata LIKE '%given_parts%'") == 41)
        #expect(try SQLiteFile.strings(load.database, """
            SELECT json_extract(fact_metadata, '$.given_parts.predicate') FROM facts
            WHERE statement = 'IsTypeOf(Convergent, ConvergentBoundaries).'
            """) == ["PotentiallyRelatedTo"])
        // The two duplicates differ from their first spelling only in the space after the comma.
        #expect(try SQLiteFile.strings(load.database, """
            SELECT json_extract(fact_metadata, '$.rowid') || '' FROM facts
            WHERE statement IN ('IsDefinedAs(CopernicanRevolution, ObjectsConformToHumanCognition).',
            'WasDevelopedBy(CategoricalImperative, ImmanuelKant).') ORDER BY id
            """).count == 2)
        #expect(try SQLiteFile.int(load.database, "SELECT count(*) FROM facts WHERE json_extract(context, '$.source') = 'Aethelred'") == 376)
    }

    @Test func knowledgeBaseCSVDump() throws {
        let load = try load("kb_facts.csv")
        try expect(load, Expected(records: 4_244, inserted: 4_237, duplicates: 2, rejected: 5, warnings: 41), format: "csv")
        // The header is line 1, so data row n is on line n + 1.
        #expect(load.rejectedLines() == [3_746, 3_777, 4_236, 4_237, 4_238])
        let records = load.rejectedRecords()
        #expect(records[0].contains("LocatedIn(Corsica, France, Period(1769).\""))
        #expect(records[1].contains("CausedBy(MeijiRestoration, CapitalShift(Kyoto, Tokyo).\""))
    }

    @Test func ndjsonAndCSVOfTheSameTableGiveTheSameStatementsAndContexts() throws {
        let ndjson = try load("kb_facts.ndjson")
        let csv = try load("kb_facts.csv")
        let query = "SELECT statement, context, predicate, subject, object, arity, confidence, source FROM facts ORDER BY statement"
        let left = try SQLiteFile.rows(ndjson.database, query)
        let right = try SQLiteFile.rows(csv.database, query)
        #expect(left.count == 4_237)
        #expect(left.count == right.count)
        var differences = 0
        for (a, b) in zip(left, right) where !(a as NSDictionary).isEqual(to: b) {
            differences += 1
            if differences <= 3 { Issue.record("NDJSON \(a) differs from CSV \(b)") }
        }
        #expect(differences == 0)
        // The dumps' statement_hash is NULL: an empty CSV field and a null NDJSON field give nothing alike,
        // so only rowid remains.
        let first = "SELECT fact_metadata FROM facts WHERE statement = 'Uses(NeuralReasoning, DistributedRepresentation).'"
        let metadata = try SQLiteFile.strings(csv.database, first)
        #expect(metadata == [#"{"rowid":"1"}"#])
        let ndjsonMetadata = try SQLiteFile.strings(ndjson.database, first)
        #expect(ndjsonMetadata == [#"{"rowid":1}"#])
    }

    @Test func knowledgeBaseStatementExport() throws {
        let load = try load("kb_statements.txt")
        try expect(load, Expected(records: 18_160, inserted: 18_152, duplicates: 3, rejected: 5, warnings: 0), format: "text")
        #expect(load.rejectedLines() == [1_412, 3_467, 5_701, 7_414, 11_080])
        let records = load.rejectedRecords()
        #expect(records[0] == Self.unbalanced[1])
        #expect(records[4] == Self.unbalanced[0])
        #expect(records[1].hasPrefix(Self.freeText[2]))
        #expect(records[2].hasPrefix(Self.freeText[1]))
        #expect(records[3].hasPrefix(Self.freeText[0]))
        // Duplicates: lines 2463, 10408 and 17716 repeat the line before them.
        #expect(try SQLiteFile.int(load.database, "SELECT count(*) FROM facts WHERE statement = 'Composition(Symphony, Beethoven, 9th, Ode, Joy).'") == 1)
        #expect(try SQLiteFile.int(load.database, "SELECT max(arity) FROM facts") == 6)
        #expect(try SQLiteFile.int(load.database, "SELECT checkpoint_line FROM factpipe_loads") == 18_161)
    }

    @Test func toolSyncFactsWithComments() throws {
        let load = try load("tool_sync_facts.txt")
        try expect(load, Expected(records: 30, inserted: 30, duplicates: 0, rejected: 0, warnings: 0), format: "text")
        #expect(load.rejects.isEmpty)
        let statements = try SQLiteFile.strings(load.database, "SELECT statement FROM facts ORDER BY statement")
        #expect(statements.contains("ToolCount(HAK_GAL_Frontend, 115)."))
        #expect(statements.allSatisfy { !$0.hasPrefix("#") })
        #expect(try SQLiteFile.int(load.database, "SELECT checkpoint_line FROM factpipe_loads") == 35)
    }

    static let assistantExpected = Expected(records: 583, inserted: 435, duplicates: 24, rejected: 124, warnings: 0)

    @Test func assistantFactsNDJSON() throws {
        let load = try load("k_assistant_facts.ndjson")
        try expect(load, Self.assistantExpected, format: "ndjson")
        try expectAssistantRefusals(load)
        #expect(try SQLiteFile.strings(load.database, """
            SELECT fact_metadata FROM facts WHERE statement IN ('LäuftAuf(Windows).', 'VerwendetShell(wsl).')
            ORDER BY statement
            """) == [#"{"index":0}"#, #"{"index":1}"#])
    }

    @Test func assistantFactsText() throws {
        let text = try load("k_assistant_facts.txt")
        try expect(text, Self.assistantExpected, format: "text")
        try expectAssistantRefusals(text)
        let statements = try SQLiteFile.strings(text.database, "SELECT statement FROM facts ORDER BY statement")
        #expect(statements.contains("LäuftAuf(Windows).") && statements.contains("VerwendetShell(wsl)."))
        #expect(statements.contains("Hauptstadt(Österreich, Wien)."))
        #expect(statements.contains("Einwohner(Berlin, 3669491)."))
        // The NDJSON and the text export of the same facts agree.
        let ndjson = try load("k_assistant_facts.ndjson")
        #expect(try SQLiteFile.strings(ndjson.database, "SELECT statement FROM facts ORDER BY statement") == statements)
    }

    /// 116 quantified formulas, one negation, one empty argument list and six conjunctions or implications.
    private func expectAssistantRefusals(_ load: Load, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let statements: [String] = load.rejects.compactMap { object in
            guard let record = object["record"] as? String else { return nil }
            if let decoded = try? JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any] {
                return decoded["statement"] as? String
            }
            return record
        }
        #expect(statements.count == 124, sourceLocation: sourceLocation)
        #expect(statements.filter { $0.hasPrefix("all x ") }.count == 116, sourceLocation: sourceLocation)
        let others = statements.filter { !$0.hasPrefix("all x ") }
        #expect(others == [
            "-MussÜberwachtWerden(KnowledgeGraph).",
            "HauptstadtvonDeutschlandistBerlin().",
            "IstFlexibel(System) & IstPräzise(System).",
            "IstHauptkomponente(LLMIntegration) & IstFuerNatuerlicheSprachverarbeitung(LLMIntegration).",
            "IstHauptkomponente(Z3SMTSolver) & IstFuerFormaleBeweise(Z3SMTSolver).",
            "IstHauptkomponente(RAGPipeline) & IstFuerDokumentenindizierung(RAGPipeline).",
            "IstHauptkomponente(Wissensbasis) & IstFuerFaktenspeicherung(Wissensbasis).",
            "Nutzung(BuildKb, HAK_GAL_WissensfaktenTxt) -> Learn.",
        ], sourceLocation: sourceLocation)
        let lines = load.rejectedLines()
        #expect(lines.prefix(4) == [22, 23, 41, 55], sourceLocation: sourceLocation)
        #expect(lines.contains(186) && lines.contains(387) && lines.contains(532), sourceLocation: sourceLocation)
    }
}
