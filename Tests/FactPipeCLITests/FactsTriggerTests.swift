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

    /// A trigger that adds rows of its own for the facts a load inserts (the inverse `PartOf` of each
    /// `HasPart`), and, under ignore, a table whose largest id is 2^63-1 (SQLite then picks new ids at random):
    /// the counts are the load's own rows. They came from the growth of the largest id: "1,049 inserted, -68
    /// updated", and "0 inserted, 1,958 updated", recorded as done; under replace the fact of another load it
    /// updated counted as inserted, was not recorded as that load's too, and `undo` of that load deleted it.
    @Test func theCountsAreTheLoadsOwnRowsWhateverTheIdsDo() throws {
        let work = try seededWithTheInverseTrigger(facts: 20)
        let input = try work.write("in.txt", "HasPart(car, wheel).\nHasPart(car, door).\nSeed(s1).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try counts(run) == [2, 0, 1], "\(run.stdoutText)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 23)
        #expect(try SQLiteFile.strings(work.database, "SELECT inserted || ',' || updated FROM factpipe_loads ORDER BY id DESC LIMIT 1")
                == ["2,0"])

        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            DROP TRIGGER inverse; UPDATE facts SET id = 9223372036854775807 WHERE statement = 'Seed(s0).';
            """])
        let more = try work.write("more.txt", "New(n1).\nNew(n2).\nSeed(s2).\n")
        let again = try Factpipe.run(["import", more, "--db", work.database, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try counts(again) == [2, 0, 1], "\(again.stdoutText)")
    }

    @Test func underReplaceATriggersRowsDoNotHideAFactOfAnotherLoad() throws {
        let work = try seededWithTheInverseTrigger(facts: 3)
        let input = try work.write("in.txt", "HasPart(car, wheel).\nHasPart(bus, door).\nSeed(s1).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--on-conflict", "replace", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try counts(run) == [2, 1, 0], "\(run.stdoutText)")
        let undo = try Factpipe.run(["undo", "1", "--db", work.database])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts WHERE predicate = 'Seed'") == ["Seed(s1)."])
    }

    /// A database of `facts` loaded facts (`Seed(s0).`…) with a knowledge base's trigger that adds the
    /// inverse `PartOf` of each `HasPart` it is given: rows of its own in `facts`, with ids of their own.
    private func seededWithTheInverseTrigger(facts: Int) throws -> CLIWorkspace {
        let work = try CLIWorkspace()
        let seed = try work.write("seed.txt", (0..<facts).map { "Seed(s\($0)).\n" }.joined())
        #expect(try Factpipe.run(["import", seed, "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            CREATE TRIGGER inverse AFTER INSERT ON facts WHEN new.predicate = 'HasPart' BEGIN
                INSERT OR IGNORE INTO facts(statement, predicate, subject, args, arity, created_at)
                VALUES ('PartOf(' || new.subject || ').', 'PartOf', new.subject, '[]', 1, new.created_at);
            END;
            """])
        return work
    }

    /// A load's inserted, updated and duplicates, from its `--json` summary.
    private func counts(_ run: FactpipeRun) throws -> [Int?] {
        let json = try run.json()
        return [int(json, "inserted"), int(json, "updated"), int(json, "duplicates")]
    }
}
