import Foundation
import Testing

/// `factpipe run --json` names every input, those it never tried after a failure included.
@Suite struct RunUntriedInputsTests {
    @Test func aFailedRunListsEveryInputWithItsStatus() throws {
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "Good(a).\n")
        let failing = try work.write("b.txt", "Good(b).\nbad one\nbad two\n")
        let untried = [try work.write("c.txt", "Good(c).\n"), try work.write("d.txt", "Good(d).\n")]
        let file = try work.write("job.toml", """
            name = "stops"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt"]
            [load]
            max_errors = 1
            """)
        let run = try Factpipe.run(["run", file, "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "aborted")
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["source"] as? String } == [first, failing] + untried)
        #expect(inputs.map { $0["status"] as? String } == ["done", "aborted", "not_tried", "not_tried"])
        try #require(inputs.count == 4)
        #expect(inputs[2]["reason"] as? String == "the run stopped at \(failing)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_loads") == 2)
    }
}
