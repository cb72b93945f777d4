import Foundation
import Testing

/// A value another program wrote that import would refuse is refused by export, naming the fact, so that
/// no archive verifies that cannot be restored.
@Suite struct ExportUnrestorableTests {
    @Test(arguments: ["ndjson", "csv"])
    func aConfidenceImportRefusesIsRefusedByExport(format: String) throws {
        for value in ["1e400", "-1e400", "1.5", "-0.25"] {
            let work = try CLIWorkspace()
            try work.loadFacts()
            let id = try SQLiteFile.int(work.database, "SELECT min(id) FROM facts")
            let update = "UPDATE facts SET confidence = \(value) WHERE id = \(id)"
            _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, update])
            let output = work.path("s.\(format).zst")
            let run = try Factpipe.run(["export", "--db", work.database, "-o", output, "--format", format])
            #expect(run.status == 1, "\(value): \(run.stderr)")
            #expect(run.stderr.contains("fact \(id) has a confidence of"), "\(value): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(value): no archive is left")
        }
    }
}

/// `export --predicate` takes a predicate as `query --predicate` does.
@Suite struct ExportPredicateTests {
    @Test func aPredicateWithSpaceAroundItSelectsWhatQueryFinds() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "HasPart(a, b).\nHasPart(c, d).\nIsA(a, thing).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        let query = try Factpipe.run(["query", "--db", work.database, "--predicate", " HasPart ", "--format", "ndjson"])
        #expect(query.stdoutText.split(separator: "\n").count == 2, "\(query.stdoutText)")
        let run = try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("p.ndjson"), "--predicate", " HasPart ", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "facts") == 2)
    }
}
