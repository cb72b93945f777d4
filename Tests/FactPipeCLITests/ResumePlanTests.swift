import Foundation
import Testing

/// Which inputs a `--resume` goes on with, and under which policy the ledger says it did.
@Suite struct ResumePlanTests {
    private static let text = "A(a1).\nA(a2).\nA(a3).\nbad line\nA(a4).\nA(a5).\nbad2\nA(a6).\n"

    @Test func twoCopiesOfAnInterruptedInputGoOnWithItsLoadOnce() throws {
        let work = try CLIWorkspace()
        let original = try work.write("orig.txt", Self.text)
        let copy = try work.write("copy.txt", Self.text)
        let aborted = try Factpipe.run([
            "import", original, "--db", work.database, "--batch-size", "1", "--max-errors", "0", "-q",
        ])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        let rejects = work.path("rejects.ndjson")
        let resumed = try Factpipe.run([
            "import", copy, original, "--db", work.database, "--batch-size", "1", "--resume", "--rejects", rejects,
            "--json", "-q",
        ])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let skipped = try resumed.json()["skipped"] as? [[String: Any]] ?? []
        #expect(skipped.count == 1 && (skipped.first?["reason"] as? String)?.contains("goes on with load 1") == true,
                "\(skipped)")
        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.count == 1)
        #expect(rows.first.map { ($0["status"] as? String, int($0, "records"), int($0, "rejected")) }
            .map { $0 == ("done", 8, 2) } == true, "\(rows)")
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(lines.count == 2 && Set(lines).count == 2, "each reject once: \(lines)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 6)
    }

    @Test func aLoadThatMergedNothingGoesOnUnderTheNewPolicyAndSaysSo() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", Self.text)
        let aborted = try Factpipe.run([
            "import", input, "--db", work.database, "--atomic", "--on-conflict", "update", "--max-errors", "0", "-q",
        ])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        #expect(try SQLiteFile.ledger(work.database).first?["conflict_policy"] as? String == "update")
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--resume", "--batch-size", "1", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let row = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(row["conflict_policy"] as? String == "ignore")
        #expect(row["status"] as? String == "done")
    }
}
