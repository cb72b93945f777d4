import Foundation
import Testing

/// Facts more than one load brought, and `--on-conflict update`, through the built binary.
@Suite struct SharedFactsCommandTests {
    private func range(_ from: Int, _ to: Int) -> String {
        (from..<to).map { "IsA(x\($0), Thing).\n" }.joined()
    }

    /// Load 1 has x0–x4999, load 2 x2500–x7499: undoing 1 keeps what 2 brought too.
    @Test func undoKeepsTheFactsALiveLoadAlsoBrought() throws {
        let work = try CLIWorkspace()
        let first = try work.write("1.txt", range(0, 5_000))
        let second = try work.write("2.txt", range(2_500, 7_500))
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", second, "--db", work.database, "-q"]).status == 0)

        let undo = try Factpipe.run(["undo", "1", "--db", work.database, "--json"])
        #expect(undo.status == 0, "\(undo.stderr)")
        let json = try undo.json()
        #expect(int(json, "deleted") == 2_500)
        #expect(int(json, "kept_for_other_loads") == 2_500)
        #expect(undo.stderr.contains("2,500 facts deleted, 2,500 kept (another load also brought them)"))
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 5_000)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE load_id = 2") == 5_000)
        // Load 2's file is skipped as loaded, and rightly: every fact it brought is there.
        let again = try Factpipe.run(["import", second, "--db", work.database, "--json", "-q"])
        #expect(int(try again.json(), "inserted") == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 5_000)
    }

    @Test func updateKeepsWhatARecordLeavesOut() throws {
        let work = try CLIWorkspace()
        let first = try work.write("1.ndjson", """
            {"statement":"P(a).","confidence":0.5,"source":"first","context":{"k":1}}

            """)
        let second = try work.write("2.ndjson", """
            {"statement":"P(a).","context":{"j":2}}

            """)
        let third = try work.write("3.csv", "statement,confidence,source\nP(a).,,\n")
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        for input in [second, third] {
            let run = try Factpipe.run(["import", input, "--db", work.database, "--on-conflict", "update", "--json"])
            #expect(int(try run.json(), "updated") == 1, "\(run.stderr)")
            let rows = try SQLiteFile.rows(work.database, "SELECT confidence, source, context FROM facts")
            #expect(rows.count == 1)
            #expect(rows.first?["confidence"] as? Double == 0.5, "\(input)")
            #expect(rows.first?["source"] as? String == "first", "\(input)")
            let context = try JSONSerialization.jsonObject(with: Data((rows.first?["context"] as? String ?? "").utf8))
            #expect((context as? NSDictionary) == ["k": 1, "j": 2] as NSDictionary)
        }
    }
}
