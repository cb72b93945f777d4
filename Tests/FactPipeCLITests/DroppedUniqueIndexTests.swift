import FactPipeTestSupport
import Foundation
import Testing

/// `facts_statement` missing. A load that appends straight to `facts` sets it aside and builds it again at
/// its end; killed in between, the next writer builds it and takes the repeated statements out (the later
/// rows: the load's own are merged under its policy). Every writer took a missing index for that, so a
/// row added by hand after someone dropped the index was deleted by the next `import`, `optimize` or `undo`,
/// exit 0, without a word. Only an index a load set aside is completed so now; otherwise repeated rows are
/// refused, naming one, and nothing is deleted.
@Suite struct DroppedUniqueIndexTests {
    private func factCount(_ database: String) throws -> Int {
        try SQLiteFile.int(database, "SELECT count(*) FROM facts")
    }

    private func hasUniqueIndex(_ database: String) throws -> Bool {
        try SQLiteFile.int(database, "SELECT count(*) FROM sqlite_schema WHERE name = 'facts_statement'") == 1
    }

    @Test func aRowAddedByHandWhileSomeoneHadDroppedTheIndexIsNeverDeleted() throws {
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", try work.write("a.txt", "P(a).\nP(b).\nP(c).\n"), "--db", work.database,
                                  "-q"]).status == 0)
        // Whatever the latest load's row says (one killed through the staging table stays `running`), it
        // set no index aside.
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            DROP INDEX facts_statement;
            INSERT INTO facts(statement, predicate, subject, args, arity, confidence, source, context, fact_metadata,
            created_at) VALUES ('P(a).', 'P', 'a', '["a"]', 1, 0.2, 'curated-by-hand', '{}', '{"note":"keep me"}',
            '2025-01-01T00:00:00Z');
            UPDATE factpipe_loads SET status = 'running';
            """])
        let next = try work.write("b.txt", "Q(z).\n")
        for command in [["import", next], ["optimize"], ["undo", "1"]] {
            let run = try Factpipe.run(command + ["--db", work.database])
            #expect(run.status == 1, "\(command): \(run.stderr)")
            #expect(run.stderr.contains(#"facts has no unique index on statement (facts_statement is missing, and no "#
                + #"load of factpipe's set it aside) and holds 1 statement more than once, "P(a)." 2 times"#)
                && run.stderr.contains("(nothing was changed)"), "\(command): \(run.stderr)")
            #expect(try factCount(work.database) == 4, "\(command)")
            #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE source = 'curated-by-hand'") == 1)
            #expect(try !hasUniqueIndex(work.database))
            #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["running"])
        }
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.ndjson.zst")])
        #expect(export.status == 1, "\(export.stderr)")
        #expect(export.stderr.contains("no load of factpipe's set it aside") && !export.stderr.contains("optimize"),
                "\(export.stderr)")

        // The user chooses: the hand row stays, the load's copy goes. The next load builds the index again.
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database,
                                                   "DELETE FROM facts WHERE statement = 'P(a).' AND load_id = 1"])
        let load = try Factpipe.run(["import", next, "--db", work.database, "--json", "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try hasUniqueIndex(work.database))
        #expect(try SQLiteFile.strings(work.database, "SELECT source FROM facts WHERE statement = 'P(a).'")
            == ["curated-by-hand"])
        #expect(try factCount(work.database) == 4)
        let optimize = try Factpipe.run(["optimize", "--db", work.database, "--json"])
        #expect(optimize.status == 0, "\(optimize.stderr)")
        #expect(!optimize.stdoutText.contains("stopped load"), "\(optimize.stdoutText)")
    }

    /// The row naming the load that set the index aside, left beside an index built again another way (by
    /// hand after a kill, or by an earlier release's writer): it made an index dropped by hand later look set
    /// aside by that old load, and a row added by hand was deleted. The next writer takes it out.
    @Test func aRowNamingALoadBesideAnIndexThatIsThereIsTakenOut() throws {
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", try work.write("a.txt", "P(a).\nP(b).\n"), "--db", work.database,
                                  "-q"]).status == 0)
        let marker = "SELECT count(*) FROM factpipe_sequence WHERE name = 'facts_statement_dropped_by'"
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database,
            "INSERT INTO factpipe_sequence(name, seq) VALUES ('facts_statement_dropped_by', 1)"])
        #expect(try Factpipe.run(["import", try work.write("b.txt", "Q(z).\n"), "--db", work.database, "-q"]).status == 0)
        #expect(try SQLiteFile.int(work.database, marker) == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            DROP INDEX facts_statement;
            INSERT INTO facts(statement, predicate, subject, args, arity, source, created_at)
            VALUES ('P(a).', 'P', 'a', '["a"]', 1, 'curated-by-hand', '2025-01-01T00:00:00Z');
            """])
        let next = try Factpipe.run(["import", try work.write("c.txt", "R(y).\n"), "--db", work.database])
        #expect(next.status == 1, "\(next.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE source = 'curated-by-hand'") == 1)
    }

    /// A load that sets the index aside says so in the database, in the same transaction; the row goes with
    /// the index's rebuild. So a load killed then is completed whatever its ledger row says by then.
    @Test func aKilledDirectLoadRecordsThatItSetTheIndexAsideAndIsCompleted() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        let generate = try Factpipe.run(["generate", "--facts", "400000", "--seed", "5", "--duplicate-rate", "0.2",
                                         "-o", input, "-q"])
        try #require(generate.status == 0, "\(generate.stderr)")
        let load = try BackgroundProcess(BinaryLocator.factpipe,
                                         ["import", input, "--db", work.database, "--batch-size", "1000", "-q"])
        let query = "SELECT coalesce(max(records), 0) FROM factpipe_loads WHERE status = 'running'"
        poll(timeout: 60) { !load.isRunning || (readOnlyInt(work.database, query) ?? 0) >= 5_000 }
        load.killNine()
        try load.wait()
        try #require(load.wasKilled, "the load finished before the kill")
        let marker = "SELECT seq FROM factpipe_sequence WHERE name = 'facts_statement_dropped_by'"
        #expect(try SQLiteFile.int(work.database, marker) == 1)
        #expect(try !hasUniqueIndex(work.database))
        // However its row reads (a status set by hand, or one an earlier stop left), the row above decides.
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "UPDATE factpipe_loads SET status = 'interrupted'"])
        let next = try Factpipe.run(["import", try work.write("b.txt", "Q(z).\n"), "--db", work.database, "-q"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try hasUniqueIndex(work.database))
        #expect(try SQLiteFile.strings(work.database, marker).isEmpty)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM (SELECT statement FROM facts GROUP BY statement "
            + "HAVING count(*) > 1)") == 0)
        // An uninterrupted load writes the row and takes it out again.
        let whole = work.path("whole.sqlite")
        #expect(try Factpipe.run(["import", input, "--db", whole, "-q"]).status == 0)
        #expect(try SQLiteFile.strings(whole, marker).isEmpty)
    }
}
