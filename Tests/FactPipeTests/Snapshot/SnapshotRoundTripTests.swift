import Foundation
import Testing

@testable import FactPipe

@Suite struct SnapshotRoundTripTests {
    @Test(arguments: ["facts.ndjson.zst", "facts.ndjson", "facts.csv.zst", "facts.csv"])
    func importOfAnExportGivesBackEveryFactFieldForField(name: String) throws {
        let work = try loadedWorkspace()
        let original = try storedFacts(work.databasePath)
        try #require(original.count == roundTripFixtureFacts)
        let result = try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        #expect(result.manifest.factCount == Int64(roundTripFixtureFacts))
        let copy = try reimport(work, name, into: "copy.sqlite")
        let restored = try storedFacts(copy)
        #expect(restored.count == original.count)
        for (before, after) in zip(original, restored) {
            #expect(before == after)
        }
    }

    @Test func ndjsonRecordsHaveTheImportShapeWithStoredObjectsVerbatim() throws {
        let work = try loadedWorkspace()
        try export(work, to: "facts.ndjson")
        let lines = try work.lines("facts.ndjson")
        #expect(lines.count == roundTripFixtureFacts)
        #expect(
            lines.contains(
                #"{"statement":"Deep(x).","confidence":1.0,"source":null,"context":{"as": "string"},"#
                    + #""fact_metadata":{"deep":{"deeper":{"deepest":[true,false,null,1.5e300]}}},"#
                    + #""created_at":"# + "\"\(try createdAt(work, "Deep(x)."))\"}"))
        #expect(
            lines.contains {
                $0.hasPrefix(#"{"statement":"Says(Alice, \"Hello, \\\"world\\\"\").","confidence":5e-324,"#)
            })
        // A control character is refused in a statement but kept in a source, and exported escaped.
        #expect(lines.contains { $0.contains(#""statement":"Tab(\"a\tb\", \"bell\").","#) })
        #expect(lines.contains { $0.contains(#""source":"bell\u0007""#) })
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(
                object.keys.sorted() == ["confidence", "context", "created_at", "fact_metadata", "source", "statement"])
        }
    }

    @Test func csvHasTheHeaderAndQuotesOnlyWhereNeeded() throws {
        let work = try loadedWorkspace()
        try export(work, to: "facts.csv") { $0.format = .csv }
        let text = try String(contentsOfFile: work.path("facts.csv"), encoding: .utf8)
        #expect(text.hasPrefix("statement,confidence,source,context,fact_metadata,created_at\n"))
        #expect(text.contains("\nDeep(x).,1.0,,\"{\"\"as\"\": \"\"string\"\"}\","))
        #expect(text.contains("\n\"Note(\"\"line one\nline two\"\").\",1e-05,,{},{},"))
        #expect(text.contains(",\"lab \"\"7\"\", bench 2\","))
    }

    @Test func textIsOneStatementALineAndRefusesALineBreakInAStatement() throws {
        let plain = try loadedWorkspace(text: "HasPart(Computer, CPU).\nP(ä, \"x, y\")\n", name: "p.txt")
        try export(plain, to: "facts.txt") { $0.format = .text }
        #expect(try plain.lines("facts.txt").sorted() == ["HasPart(Computer, CPU).", "P(ä, \"x, y\")."])

        let work = try loadedWorkspace()
        let error = snapshotError { try export(work, to: "facts.txt") { $0.format = .text } }
        #expect(error?.kind == .unencodable)
        #expect(error?.message.contains("line break") == true)
        #expect(!FileManager.default.fileExists(atPath: work.path("facts.txt")))
    }

    /// An export to a path that is a symlink replaces the link: the archive it pointed to keeps its bytes.
    @Test func anExportToASymlinkReplacesTheLinkAndKeepsTheArchiveItPointedTo() throws {
        let work = try loadedWorkspace()
        let yesterday = try work.write("yesterday.ndjson.zst", "yesterday's archive")
        try FileManager.default.createSymbolicLink(
            atPath: work.path("latest.ndjson.zst"), withDestinationPath: "yesterday.ndjson.zst")
        try export(work, to: "latest.ndjson.zst")
        #expect(try String(contentsOfFile: yesterday, encoding: .utf8) == "yesterday's archive")
        let attributes = try FileManager.default.attributesOfItem(atPath: work.path("latest.ndjson.zst"))
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(try storedFacts(try reimport(work, "latest.ndjson.zst", into: "back.sqlite"))
            == (try storedFacts(work.databasePath)))
    }

    @Test func confidencesRoundTripExactly() throws {
        let values: [Double] = [
            0.1, 0.7, 1.0 / 3.0, .leastNonzeroMagnitude, 2.2250738585072014e-308, 0.30000000000000004, 1e-05, 0, 1,
            0.9999999999999999, 0.123456789012345678,
        ]
        let work = try loadedWorkspace(
            text: values.enumerated().map { index, value in
                "{\"statement\":\"C(n\(index))\",\"confidence\":\(value.description)}"
            }.joined(separator: "\n"))
        for format in [SnapshotManifest.Format.ndjson, .csv] {
            let name = "c.\(format.rawValue)"
            try export(work, to: name) { $0.format = format }
            let copy = try reimport(work, name, into: "copy-\(format.rawValue).sqlite")
            let stored = try RawDatabase(copy).column(
                "SELECT printf('%.17g', confidence) FROM facts ORDER BY statement")
            let expected = try RawDatabase(work.databasePath).column(
                "SELECT printf('%.17g', confidence) FROM facts ORDER BY statement")
            #expect(stored == expected)
            #expect(stored.count == values.count)
        }
    }

    @Test func predicateAndSinceFiltersKeepOnlyMatchingFactsAndAreRecorded() throws {
        let work = try loadedWorkspace(
            text: """
                {"statement":"A(x1)","created_at":"2025-01-01T00:00:00Z"}
                {"statement":"A(x2)","created_at":"2025-01-01T00:00:00.5Z"}
                {"statement":"A(x3)","created_at":"2025-01-01T00:00:01Z"}
                {"statement":"B(x4)","created_at":"2025-01-01T00:00:00.25Z"}
                {"statement":"C(x5)","created_at":"2024-12-31T23:59:59.999999Z"}
                """)
        let bySince = try export(work, to: "since.ndjson") {
            $0.filter = FactFilter(predicates: [], since: "2025-01-01T01:00:00.25+01:00") ?? FactFilter()
        }
        #expect(try work.lines("since.ndjson").map(statementOf).sorted() == ["A(x2).", "A(x3).", "B(x4)."])
        #expect(bySince.manifest.filter.since == "2025-01-01T00:00:00.25Z")
        #expect(bySince.manifest.factCount == 3)

        let both = try export(work, to: "both.ndjson") {
            $0.filter = FactFilter(predicates: ["A", "C"], since: "2025-01-01T00:00:00Z") ?? FactFilter()
        }
        #expect(try work.lines("both.ndjson").map(statementOf).sorted() == ["A(x1).", "A(x2).", "A(x3)."])
        #expect(both.manifest.json.contains(#""filters":{"predicates":["A","C"],"since":"2025-01-01T00:00:00Z"}"#))
    }

    @Test func anEmptyDatabaseGivesAnEmptySnapshotThatVerifies() throws {
        let work = try LoadWorkspace()
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        let result = try export(work, to: "empty.ndjson.zst")
        #expect(result.manifest.factCount == 0)
        #expect(result.manifest.contentBytes == 0)
        #expect(ArchiveVerifier(path: work.path("empty.ndjson.zst")).run().isValid)
    }

    @Test func exportRefusesADatabaseFactpipeDidNotCreateAndWritesNothing() throws {
        let work = try LoadWorkspace()
        let db = try RawDatabase(work.databasePath, create: true)
        try db.execute("CREATE TABLE facts(statement TEXT)")
        let error = snapshotError { try export(work, to: "out.ndjson.zst") }
        #expect(error?.kind == .database)
        #expect(error?.message.contains("not a factpipe database") == true)
        #expect(
            try folderContents(work.directory.url.path).filter { $0.hasPrefix("out") || $0.hasPrefix(".out") }.isEmpty)
    }

    private func createdAt(_ work: LoadWorkspace, _ statement: String) throws -> String {
        try #require(try work.database().fact(statement)?.createdAt)
    }

    private func statementOf(_ line: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return try #require(object?["statement"] as? String)
    }
}
