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
