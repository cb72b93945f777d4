import Foundation
import Testing

/// `--into-existing` into tables shaped as another program made them: its constraints, its column
/// spellings, a statement column with nothing to make it unique, values that are not JSON objects.
@Suite struct IntoExistingTableTests {
    private func table(_ work: CLIWorkspace, _ name: String, _ sql: String) throws -> String {
        let path = work.path(name)
        try Factpipe.tool("/usr/bin/sqlite3", [path, sql])
        return path
    }

    private func rows(_ database: String, _ sql: String) throws -> [String] {
        try Factpipe.tool("/usr/bin/sqlite3", [database, sql]).stdoutText.split(separator: "\n").map(String.init)
    }

    /// INSERT OR IGNORE ignored every constraint: a new fact that broke a NOT NULL or CHECK of the table's was
    /// counted as a duplicate and lost (exit 0); under `fail` it was "already in the database".
    @Test(arguments: ["ignore", "fail"])
    func aNewFactThatBreaksAConstraintOfTheTablesFailsTheLoadNamingIt(_ policy: String) throws {
        let work = try CLIWorkspace()
        let kb = try table(work, "kb.db", """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, confidence REAL CHECK (confidence < 1.0));
            INSERT INTO facts(statement, confidence) VALUES ('Old(a).', 0.5);
            """)
        let input = try work.write("in.ndjson", #"{"statement":"New(c, d)","confidence":0.5}"# + "\n"
            + #"{"statement":"New(a, b)"}"# + "\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", policy, "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("in.ndjson:2: New(a, b). breaks a constraint of the database's facts table"), "\(run.stderr)")
        #expect(run.stderr.contains("CHECK constraint failed"), "\(run.stderr)")
        #expect(int(try run.json(), "duplicates") == 0)
        // The batch was rolled back whole; a stored fact is still a duplicate (ignore) or a stop (fail).
        #expect(try rows(kb, "SELECT statement FROM facts") == ["Old(a)."])
        let again = try Factpipe.run(["import", try work.write("old.txt", "Old(a)\n"), "--db", kb, "--into-existing",
                                      "--on-conflict", policy])
        #expect(again.status == (policy == "ignore" ? 0 : 3), "\(again.stderr)")
    }

    /// A conflict clause of the table's own decided before: `NOT NULL ON CONFLICT IGNORE` dropped a new fact as a
    /// duplicate, `UNIQUE ON CONFLICT REPLACE` replaced a stored row (its other columns lost) under `fail`.
    @Test func theTablesOwnConflictClausesDecideNothing() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.ndjson", #"{"statement":"New(a, b)"}"# + "\n" + #"{"statement":"New(c, d)"}"# + "\n")
        let ignoring = try table(work, "ignoring.db",
            "CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, author TEXT NOT NULL ON CONFLICT IGNORE);")
        let dropped = try Factpipe.run(["import", input, "--db", ignoring, "--into-existing", "--atomic"])
        #expect(dropped.status == 1, "\(dropped.stderr)")
        #expect(dropped.stderr.contains("NOT NULL constraint failed: facts.author"), "\(dropped.stderr)")
        #expect(dropped.stderr.contains("nothing of this load is kept (--atomic)"), "\(dropped.stderr)")
        let replacing = try table(work, "replacing.db", """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT UNIQUE ON CONFLICT REPLACE, note TEXT);
            INSERT INTO facts VALUES (1, 'New(a, b).', 'keep me');
            """)
        let failing = try Factpipe.run(["import", input, "--db", replacing, "--into-existing", "--on-conflict", "fail"])
        #expect(failing.status == 3, "\(failing.stderr)")
        let ignored = try Factpipe.run(["import", input, "--db", replacing, "--into-existing", "--json"])
        #expect((int(try ignored.json(), "inserted"), int(try ignored.json(), "duplicates")) == (1, 1))
        #expect(try rows(replacing, "SELECT * FROM facts ORDER BY id") == ["1|New(a, b).|keep me", "2|New(c, d).|"])
    }

    /// A statement column nothing makes unique: `ignore` and `fail` stored a second copy of a stored fact and
    /// of a repeat in the input; `replace` failed with SQLite's raw message.
    @Test func aStatementColumnThatIsNotUniqueStillGetsEachFactOnce() throws {
        let work = try CLIWorkspace()
        let kb = try table(work, "kb.db", """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL, confidence REAL);
            INSERT INTO facts VALUES (1, 'IsA(cat,animal).', 0.8);
            """)
        let input = try work.write("in.txt", "IsA(cat, animal)\nNew(x)\nNew(x)\n")
        let failing = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "fail"])
        #expect(failing.status == 3, "\(failing.stderr)")
        #expect(failing.stderr.contains("in.txt:1: IsA(cat, animal). is already in the database"), "\(failing.stderr)")
        let ignoring = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--json"])
        #expect(ignoring.status == 0, "\(ignoring.stderr)")
        let json = try ignoring.json()
        #expect((int(json, "inserted"), int(json, "duplicates")) == (1, 2), "\(json)")
        #expect(try rows(kb, "SELECT statement FROM facts ORDER BY id") == ["IsA(cat,animal).", "New(x)."])
        let replacing = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "replace"])
        #expect(replacing.status == 1)
        #expect(replacing.stderr.contains("nothing makes its statement column unique"), "\(replacing.stderr)")
    }

    /// The knowledge base's service storing facts in its own spelling while a load runs, between its
    /// batches: the load finds them as those facts. It looked at the table's spellings (and, for a statement
    /// with nothing to make it unique, its statements) only before the first batch, and stored a fact the
    /// service had stored meanwhile a second time (1,839 facts twice in a load that said done). A WITHOUT
    /// ROWID table, which has no rowid to tell new rows by, is looked at whole.
    @Test(arguments: [
        "(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, confidence REAL)",
        "(id INTEGER PRIMARY KEY, statement TEXT NOT NULL, confidence REAL)",
        "(statement TEXT PRIMARY KEY, confidence REAL) WITHOUT ROWID",
    ])
    func factsAnotherProgramStoresBetweenBatchesAreFoundInTheirSpelling(_ definition: String) throws {
        let work = try CLIWorkspace()
        let kb = try table(work, "kb.db", """
            CREATE TABLE facts\(definition);
            INSERT INTO facts(statement) VALUES ('Old(a,b).');
            """)
        let fifo = try HeldOpenFIFO(work.path("incoming.fifo"))
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", fifo.path, "--db", kb, "--into-existing", "--batch-size", "2", "--json"])
        defer { load.killNine() }
        try #require(fifo.openWhenReaderArrives())
        try fifo.write("First(a, b).\nFirst(c, d).\n")
        try #require(poll(timeout: 30) {
            (try? self.rows(kb, "SELECT count(*) FROM facts")) == ["3"]
        }, "the first batch never committed")
        // The service, in its own spelling, while the load waits for its next batch.
        try Factpipe.tool("/usr/bin/sqlite3", ["-cmd", ".timeout 5000", kb,
                                               "INSERT INTO facts(statement) VALUES ('Later(x,y).'), ('Other(p,q).')"])
        try fifo.write("Later(x, y).\nOld(a, b).\nNew(z).\n")
        fifo.close()
        let finished = try load.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        let json = try finished.json()
        #expect((int(json, "inserted"), int(json, "duplicates")) == (3, 2), "\(json)")
        #expect(try rows(kb, "SELECT statement FROM facts ORDER BY statement")
                == ["First(a, b).", "First(c, d).", "Later(x,y).", "New(z).", "Old(a,b).", "Other(p,q)."])
    }

    /// `Confidence`, `Source`, `Context` are the columns SQLite reads for confidence, source and context;
    /// they were never written.
    @Test func columnsAreFoundWhateverTheCaseOfTheirNames() throws {
        let work = try CLIWorkspace()
        let kb = try table(work, "kb.db", """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, Statement TEXT NOT NULL UNIQUE, Confidence REAL, Source TEXT, Context TEXT);
            INSERT INTO facts VALUES (1, 'IsA(cat, animal).', 0.8, 'old', '{}');
            """)
        let input = try work.write("in.ndjson", #"{"statement":"IsA(cat, animal)","confidence":0.3,"source":"new","context":{"c":1}}"#
            + "\n" + #"{"statement":"New(a)","confidence":0.3,"source":"new"}"# + "\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "update"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try rows(kb, "SELECT * FROM facts ORDER BY id") == [#"1|IsA(cat, animal).|0.3|new|{"c":1}"#, "2|New(a).|0.3|new|{}"])
    }

    /// `update` made `{}` of a stored context or metadata that is no JSON object (an array, a number, a
    /// string) though the record gave none, and failed the load on plain text.
    @Test func anUpdateLeavesAValueTheRecordDoesNotGiveAsItIs() throws {
        let work = try CLIWorkspace()
        let kb = try table(work, "kb.db", """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, confidence REAL, context TEXT, fact_metadata TEXT);
            INSERT INTO facts VALUES (1, 'IsA(cat, animal).', 0.8, '["tag1","tag2"]', '"reviewed by ann"'),
              (2, 'IsA(dog, animal).', 0.8, NULL, '42'), (3, 'IsA(cow, animal).', 0.8, 'plain note', '{"a": 1}');
            """)
        let input = try work.write("in.ndjson", [
            #"{"statement":"IsA(cat, animal)","confidence":0.5}"#, #"{"statement":"IsA(dog, animal)","confidence":0.5}"#,
            #"{"statement":"IsA(cow, animal)","fact_metadata":{"b":2}}"#,
        ].joined(separator: "\n") + "\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "update"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try rows(kb, "SELECT * FROM facts ORDER BY id") == [
            #"1|IsA(cat, animal).|0.5|["tag1","tag2"]|"reviewed by ann""#, "2|IsA(dog, animal).|0.5||42",
            #"3|IsA(cow, animal).|0.8|plain note|{"a":1,"b":2}"#,
        ])
    }
}
