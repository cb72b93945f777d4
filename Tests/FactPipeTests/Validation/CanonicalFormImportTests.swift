import Foundation
import Testing

@testable import FactPipe

/// The canonical form's character rules applied wherever a statement is compared: the import of every
/// format, the SQLite input, lookups, and the refusal of control and invisible characters.
@Suite struct CanonicalFormImportTests {
    static let lookAlikes = [
        "P(a b).", "P(a  b).", "P(a\tb).", "P(a\u{00A0}b).", "P(\"a\\\"b\").", "P(\"a\"\"b\").",
        "LäuftAuf(Server, Linux).", "La\u{0308}uftAuf(Server, Linux).",
    ]

    @Test func lookAlikeSpellingsInATextFileAreOneFactEach() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.txt", Self.lookAlikes.joined(separator: "\n") + "\n")
        let summary = work.load(input)
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.duplicates) == (8, 3, 5))
        #expect(try work.database().statements().sorted() == ["LäuftAuf(Server, Linux).", "P(\"a\\\"b\").", "P(a b)."])
    }

    @Test func lookAlikeSpellingsAreOneFactInNDJSONCSVAndSQLiteInputs() throws {
        let work = try LoadWorkspace()
        let ndjson = Self.lookAlikes.map { "{\"statement\":\(JSONText.quoted($0))}" }.joined(separator: "\n")
        let csv = "statement\n" + Self.lookAlikes.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            .joined(separator: "\n")
        let source = work.path("other.sqlite")
        let other = try RawDatabase(source, create: true)
        try other.execute("CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL)")
        for statement in Self.lookAlikes {
            let literal = statement.replacingOccurrences(of: "'", with: "''")
            try other.execute("INSERT INTO facts(statement) VALUES ('\(literal)')")
        }
        for (name, text) in [("a.ndjson", ndjson + "\n"), ("b.csv", csv + "\n")] {
            let summary = work.load(try work.write(name, text))
            #expect(summary.records == 8, "\(name)")
        }
        let summary = work.load(source)
        #expect(summary.records == 8)
        #expect(summary.inserted == 0)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 3)
    }

    @Test func aByteOrderMarkStartingASecondConcatenatedFileIsNotPartOfThePredicate() throws {
        let work = try LoadWorkspace()
        let first = "\u{FEFF}IsA(Dog, Animal).\n"
        let second = "\u{FEFF}IsA(Cat, Animal).\n"
        let input = try work.write("both.txt", first + second)
        let summary = work.load(input)
        #expect((summary.inserted, summary.rejected) == (2, 0))
        #expect(try work.database().int("SELECT count(*) FROM facts WHERE predicate = 'IsA'") == 2)
        var found: [String] = []
        try FactQuery(predicate: "IsA").run(databasePath: work.databasePath) { found.append($0.statement) }
        #expect(found.sorted() == ["IsA(Cat, Animal).", "IsA(Dog, Animal)."])
    }

    @Test func controlAndInvisibleCharactersAreRefusedWithReasonAndColumn() throws {
        let work = try LoadWorkspace()
        let records = [
            "{\"statement\":\"IsA(Z\\u001bc, Y).\"}",
            "{\"statement\":\"IsA(Dog\\u0000X, Animal).\"}",
            "{\"statement\":\"IsA(Dog\\u200bX, Animal).\"}",
            "{\"predicate\":\"IsA\",\"subject\":\"Bell\\u0007\",\"object\":\"Animal\"}",
            "{\"statement\":\"IsA(Dog, Animal).\"}",
        ]
        let input = try work.write("in.ndjson", records.joined(separator: "\n") + "\n")
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) { $0.rejectsPath = rejects }
        #expect((summary.inserted, summary.rejected) == (1, 4))
        let lines = try rejectLines(rejects)
        #expect(lines.compactMap { $0["reason"] as? String } == [
            "control_character", "control_character", "invisible_character", "control_character",
        ])
        let messages = lines.compactMap { $0["message"] as? String }
        try #require(messages.count == 4)
        #expect(messages[0].contains("column 6") && messages[0].contains("U+001B"))
        #expect(messages[1].contains("column 8") && messages[1].contains("U+0000"))
        #expect(messages[2].contains("column 8") && messages[2].contains("U+200B"))
        #expect(try work.database().statements() == ["IsA(Dog, Animal)."])
    }

    @Test func lookupsPutPredicateSubjectAndObjectInCanonicalForm() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "Says(big  city, \"a\"\"b\").\nLäuftAuf(Server, Linux).\n")
        #expect(work.load(input).inserted == 2)
        func statements(_ query: FactQuery) throws -> [String] {
            var found: [String] = []
            try query.run(databasePath: work.databasePath) { found.append($0.statement) }
            return found
        }
        #expect(try statements(FactQuery(subject: "big\tcity")) == ["Says(big city, \"a\\\"b\")."])
        #expect(try statements(FactQuery(subject: "big\u{00A0}\u{00A0}city", object: "\"a\"\"b\"")).count == 1)
        #expect(try statements(FactQuery(predicate: "La\u{0308}uftAuf")) == ["LäuftAuf(Server, Linux)."])
        #expect(try statements(FactQuery(statement: "La\u{0308}uftAuf(Server,\u{00A0}Linux)")).count == 1)
    }

    @Test func theWritersBloomFilterHashesTheCanonicalStatement() throws {
        // A second load of NFD and doubled-space spellings finds every fact already stored, through the
        // filter and the unique index alike.
        let work = try LoadWorkspace()
        let nfc = (0..<300).map { "LäuftAuf(Server \($0), Linux)." }
        let loose = (0..<300).map { "La\u{0308}uftAuf(Server\t \($0),\u{00A0}Linux)" }
        #expect(work.load(try work.write("a.txt", nfc.joined(separator: "\n") + "\n")).inserted == 300)
        let again = work.load(try work.write("b.txt", loose.joined(separator: "\n") + "\n"))
        #expect((again.inserted, again.duplicates) == (0, 300))
        let first = Fact(
            statement: try StatementParser.parse(loose[0]).canonical, predicate: "", subject: "", object: nil,
            argsJSON: "[]", arity: 0, confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
        let stored = Fact(
            statement: nfc[0], predicate: "", subject: "", object: nil,
            argsJSON: "[]", arity: 0, confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
        #expect(first.statementHash == stored.statementHash)
    }
}
