import Foundation
import Testing

/// A SQLite file of another program is recognised by its schema, not its `user_version`, and no
/// command alters it: not a byte of it, and no file appears beside it.
@Suite struct ForeignDatabaseCommandTests {
    /// Another program's database that claims user_version 1: no factpipe table (or one of the
    /// same name without factpipe's columns).
    private func foreignDatabase(_ work: CLIWorkspace, name: String, schema: String) throws -> String {
        let path = work.path(name)
        try Factpipe.tool("/usr/bin/sqlite3", [path, """
            PRAGMA user_version = 1;
            \(schema)
            """])
        return path
    }

    @Test(arguments: [
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('keep me');",
        "CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT); CREATE TABLE factpipe_loads(id INTEGER);"
            + " INSERT INTO facts(statement) VALUES ('IsA(a, b).');",
    ])
    func noCommandAltersIt(schema: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        let database = try foreignDatabase(work, name: "other.db", schema: schema)
        let before = try sha256sum(database)
        let commands: [[String]] = [
            ["import", input], ["optimize"], ["optimize", "--vacuum"], ["stats"], ["query"], ["loads"],
            ["undo", "1"], ["export", "-o", work.path("out/x.ndjson")], ["backup", "--to", work.path("out")],
        ]
        try FileManager.default.createDirectory(atPath: work.path("out"), withIntermediateDirectories: true)
        for command in commands {
            let run = try Factpipe.run(command + ["--db", database])
            if ["import", "optimize", "undo"].contains(command[0]) {
                #expect(run.status == 1, "\(command): \(run.stderr)")
                #expect(run.stderr.contains("not a factpipe database"), "\(command): \(run.stderr)")
            }
            #expect(try sha256sum(database) == before, "\(command) changed the database")
            let names = try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
            #expect(names == ["in.txt", "other.db", "out"], "\(command) left \(names)")
        }
        #expect(try SQLiteFile.int(database, "PRAGMA user_version") == 1)
        #expect(try SQLiteFile.strings(database, "PRAGMA journal_mode") == ["delete"])
    }
}

/// Another program's SQLite file as an input, left by a crash in the middle of a write (a hot rollback
/// journal, pages of the unfinished write already in the file): factpipe refuses it, naming why, instead
/// of loading a mix of old and unfinished rows as done; the file and its journal stay as they were.
@Suite struct HotJournalSourceTests {
    @Test func anInputDatabaseWithAHotJournalIsRefusedAndLeftAsItWas() throws {
        let work = try CLIWorkspace()
        let source = work.path("kb.db")
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA journal_mode=DELETE")
            c.execute("CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT)")
            c.executemany("INSERT INTO facts(statement) VALUES (?)", [("Old(a%d)." % i,) for i in range(5000)])
            c.execute("PRAGMA cache_size=1")  # the unfinished write's pages reach the file at once
            c.execute("BEGIN")
            c.execute("UPDATE facts SET statement = 'Unfinished(x' || id || ').'")
            os._exit(0)  # a crash
            """
        try Factpipe.tool("/usr/bin/python3", ["-c", script, source])
        let hashes = (try sha256sum(source), try sha256sum(source + "-journal"))
        let run = try Factpipe.run(["import", source, "--db", work.database, "--json", "-q"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("its -journal is hot"), "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 0)
        #expect((try sha256sum(source), try sha256sum(source + "-journal")) == hashes)

        // Every read-only look refuses it the same way, and leaves it as it was.
        for arguments in [["stats", "--db", source], ["export", "--db", source, "-o", work.path("out.ndjson")]] {
            let look = try Factpipe.run(arguments)
            #expect(look.status != 0, "\(arguments): \(look.stderr)")
            #expect(look.stderr.contains("its -journal is hot"), "\(arguments): \(look.stderr)")
        }
        #expect((try sha256sum(source), try sha256sum(source + "-journal")) == hashes)

        // Once the writer's journal is rolled back, the old rows load, and only they.
        _ = try Factpipe.tool("/usr/bin/sqlite3", [source, "SELECT count(*) FROM facts"])
        let again = try Factpipe.run(["import", source, "--db", work.database, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(int(try again.json(), "inserted") == 5_000)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement LIKE 'Unfinished%'") == 0)
    }
    /// A factpipe database that another program switched to rollback-journal mode and left in the middle of
    /// a write: the short looks (`loads`, a dry run, the monitor's probe) opened it immutable, as if no one
    /// wrote it, and showed the unfinished write's pages as the ledger (and the monitor called the file
    /// malformed). They read it with SQLite's locks now, which refuse the hot journal, and leave it as it was.
    @Test func aFactpipeDatabaseLeftWithAHotJournalIsNotReadAsIfCommitted() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "3000", "--seed", "5", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA journal_mode=DELETE")
            c.execute("PRAGMA cache_size=1")  # the unfinished write's pages reach the file at once
            c.execute("BEGIN IMMEDIATE")
            c.execute("UPDATE factpipe_loads SET source = 'NOT-COMMITTED'")
            c.execute("DELETE FROM facts WHERE id % 2 = 0")
            os._exit(0)  # a crash
            """
        try Factpipe.tool("/usr/bin/python3", ["-c", script, work.database])
        let hashes = (try sha256sum(work.database), try sha256sum(work.database + "-journal"))
        let pipeline = try work.write("nightly.toml", """
            name = "nightly"
            database = "\(work.database)"
            [sources]
            paths = ["\(input)"]
            """)
        for arguments in [["loads", "--db", work.database], ["run", pipeline, "--dry-run"]] {
            let look = try Factpipe.run(arguments)
            #expect(!look.stdoutText.contains("NOT-COMMITTED") && !look.stderr.contains("NOT-COMMITTED"),
                    "\(arguments): \(look.stdoutText)")
            #expect(look.status != 0 && look.stderr.contains("its -journal is hot"), "\(arguments): \(look.stderr)")
        }
        #expect((try sha256sum(work.database), try sha256sum(work.database + "-journal")) == hashes)
    }
}
