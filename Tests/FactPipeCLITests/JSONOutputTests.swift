import Foundation
import Testing

/// The `--json` outputs of several commands, for an input whose name JSON must escape, are JSON.
@Suite struct JSONOutputTests {
    @Test func importLoadsAndUndoPrintJSONThatParses() throws {
        let work = try CLIWorkspace()
        let name = "we\"ird\\ \u{2028}😀.txt"
        let input = try work.write(name, "P(a).\nP(b).\nnot a fact\n")
        let imported = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(imported.status == 2, "\(imported.stderr)")
        let summary = try imported.json()
        let loads = try #require(summary["loads"] as? [[String: Any]])
        #expect(loads.first?["source"] as? String == input)
        #expect(loads.first?["compression"] as? String == "none")
        #expect(summary["seconds"] is NSNumber)

        let ledger = try Factpipe.run(["loads", "--db", work.database, "--json"])
        #expect(ledger.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: ledger.stdout) as? [[String: Any]])
        #expect(rows.first?["source"] as? String == input)
        #expect(rows.first?["compression"] as? String == "none")
        #expect(rows.first?["size"] as? Int == 23)

        let undone = try Factpipe.run(["undo", "1", "--db", work.database, "--json"])
        #expect(undone.status == 0, "\(undone.stderr)")
        let result = try undone.json()
        #expect(int(result, "load_id") == 1)
        #expect(int(result, "deleted") == 2)
        #expect(result["loads_with_unknown_duplicates"] as? [Int] == [])
    }
}
