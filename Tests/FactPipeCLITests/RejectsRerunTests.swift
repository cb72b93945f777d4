import Foundation
import Testing

/// A rerun whose inputs are all skipped (already loaded) reads nothing: it leaves the last run's
/// rejects file as it was, the only record of the refused lines.
@Suite struct RejectsRerunTests {
    /// Loads `bad.txt` twice into `database` with the same rejects file; the second run skips it.
    static func rerun(work: CLIWorkspace, database: String) throws {
        let input = try work.write("bad.txt", "bad(\nOk(A, B).\n")
        let rejects = work.path("rejects.ndjson")
        let first = try Factpipe.run(["import", input, "--db", database, "--rejects", rejects, "-q"])
        #expect(first.status == 2, "\(first.stderr)")  // done, with a reject
        let written = try work.read("rejects.ndjson")
        #expect(written.split(separator: "\n").count == 1)
        let again = try Factpipe.run(["import", input, "--db", database, "--rejects", rejects, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect((try again.json()["skipped"] as? [[String: Any]])?.count == 1)
        #expect(try work.read("rejects.ndjson") == written)
        // A load that reads an input starts the file afresh, as before.
        let other = try work.write("other.txt", "also bad(\n")
        let third = try Factpipe.run(["import", other, "--db", database, "--rejects", rejects, "-q"])
        #expect(third.status == 2, "\(third.stderr)")
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("other.txt") == true, "\(lines)")
    }

    @Test func aRerunThatSkipsItsInputKeepsTheRejectsFile() throws {
        let work = try CLIWorkspace()
        try Self.rerun(work: work, database: work.database)
    }
}
