import Foundation
import Testing

/// A trigger of the user's on factpipe's `facts` can keep a row from being stored (`RAISE(IGNORE)`) or
/// remove it again: the load counted it inserted and said nothing. The summary now says the counts are of
/// what the load wrote, naming the triggers.
@Suite struct FactsTriggerTests {
    @Test func aLoadIntoAFactsTableWithTriggersSaysSo() throws {
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "A(a).\n")
        let plain = try Factpipe.run(["import", first, "--db", work.database, "--json", "-q"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let before = try plain.json()["notes"] as? [String]
        #expect(before == [], "\(plain.stdoutText)")
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            CREATE TRIGGER skip_i BEFORE INSERT ON facts WHEN new.predicate = 'I' BEGIN SELECT RAISE(IGNORE); END;
            """])
        let input = try work.write("in.txt", "I(a).\nI(b).\nJ(c).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let notes = try run.json()["notes"] as? [String] ?? []
        #expect(notes.contains { $0.hasPrefix("facts has triggers of its own (skip_i)") }, "\(notes)")
    }
}
