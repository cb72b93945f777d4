import Foundation
import Testing

/// `import` into PostgreSQL against a real server: the schema, the store's results next to the SQLite
/// store's for the same input, long and hostile statements, a foreign `facts` table.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLImportTests {
    /// `statement|confidence|source|context|metadata` of every fact in a SQLite database, by statement.
    private func sqliteFacts(_ database: String) throws -> [String] {
        try SQLiteFile.rows(database, """
            SELECT statement, printf('%.6f', confidence) AS c, coalesce(source, '<null>') AS s, context,
            fact_metadata, args, predicate, subject, coalesce(object, '<null>') AS o, arity FROM facts
            ORDER BY statement
            """).map { row in
            ["statement", "c", "s", "context", "fact_metadata", "args", "predicate", "subject", "o", "arity"]
                .map { key in row[key].map { "\($0)" } ?? "" }.joined(separator: "|")
        }
    }

    /// The same for PostgreSQL; JSON columns are compared as values (jsonb keeps no key order or spaces).
    private func postgresFacts(_ database: PostgreSQLTestDatabase) throws -> [String] {
        try database.sql("""
            SELECT statement, to_char(confidence, 'FM0.000000'), coalesce(source, '<null>'), context::text,
            fact_metadata::text, args::text, predicate, subject, coalesce(object, '<null>'), arity FROM facts
            ORDER BY statement COLLATE "C"
            """).map { $0.joined(separator: "|") }
    }

    /// A SQLite row with its JSON columns as jsonb prints them, by way of the server.
    private func normalizedJSON(_ rows: [String], via database: PostgreSQLTestDatabase) throws -> [String] {
        try rows.map { row in
            var parts = row.components(separatedBy: "|")
            guard parts.count >= 10 else { return row }
            let n = parts.count
            // statement may hold '|': the 9 last columns are fixed, so count from the end.
            for index in [n - 7, n - 6, n - 5] {
                let json = parts[index].replacingOccurrences(of: "'", with: "''")
                parts[index] = try database.sql("SELECT '\(json)'::jsonb::text").first?.first ?? parts[index]
            }
            return parts.joined(separator: "|")
        }
    }

    /// As for SQLite: content read in another format is not skipped when a format is given.
    /// As in SQLite: content whose load was undone is loaded again, and the load says so.
    @Test func contentWhoseLoadWasUndoneIsLoadedAgainWithANote() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let day = try database.seed("A(b).\nC(d).\n", in: work)
        #expect(try Factpipe.run(["undo", "1", "--db", database.url]).status == 0)
        let again = try Factpipe.run(["import", day, "--db", database.url, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["notes"] as? [String] == ["\(day): load 1 of the same content was undone; it is loaded "
            + "again (undo removes the facts, it does not keep the content out)"], "\(again.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 2)
    }

    @Test func contentLoadedInAnotherFormatIsLoadedWhenThatFormatIsGiven() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.csv", "statement,confidence\n\"HasPart(Car, Wheel).\",0.9\n")
        let asText = try Factpipe.run(["import", input, "--db", database.url, "--format", "text", "-q"])
        #expect(asText.status == 2, "\(asText.stderr)")
        let asCSV = try Factpipe.run(["import", input, "--db", database.url, "--format", "csv", "-q"])
        #expect(asCSV.status == 0, "\(asCSV.stderr)")
        #expect(try database.sql("SELECT statement FROM facts") == [["HasPart(Car, Wheel)."]])
        let again = try Factpipe.run(["import", input, "--db", database.url, "--format", "csv"])
        #expect(again.status == 0 && again.stderr.contains("was loaded by load 2"), "\(again.stderr)")
    }

    @Test func importCreatesAVersionedSchemaInNativeTypesAndSkipsTheSameContent() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", """
            {"statement": "HasPart(Computer, CPU).", "confidence": 0.9, "source": "manual", "tags": ["hw"]}
            {"statement": "HasPart( Computer ,CPU )"}
            {"statement": "Einwohner(Berlin, 3669491).", "created_at": "2025-08-20T10:00:00Z", "extra": 1}
            {"statement": "not a fact"}

            """)
        let run = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "inserted") == 2 && int(json, "duplicates") == 1 && int(json, "rejected") == 1, "\(json)")
        #expect(try database.sql("SELECT value FROM factpipe_meta WHERE key = 'schema_version'") == [["2"]])
        let types = try database.sql("""
            SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'facts'
            AND column_name IN ('id', 'args', 'context', 'fact_metadata', 'created_at', 'confidence') ORDER BY 1
            """)
        #expect(types == [
            ["args", "jsonb"], ["confidence", "double precision"], ["context", "jsonb"],
            ["created_at", "timestamp with time zone"], ["fact_metadata", "jsonb"], ["id", "bigint"],
        ])
        let indexes = try database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1")
        #expect(indexes.map { $0[0] } == ["facts_pkey", "facts_predicate_subject", "facts_statement", "facts_subject"])
        #expect(try database.sql("""
            SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), context->'tags'->>0,
            fact_metadata->>'extra' FROM facts ORDER BY id
            """).last == ["2025-08-20T10:00:00", "", "1"])

        let loads = try Factpipe.run(["loads", "--db", database.url, "--json"])
        #expect(loads.status == 0, "\(loads.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: loads.stdout) as? [[String: Any]])
        #expect(rows.count == 1 && rows.first?["status"] as? String == "done" && int(rows[0], "records") == 4)
        #expect((rows.first?["started_at"] as? String)?.hasSuffix("Z") == true, "\(rows)")

        let again = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(int(try again.json(), "records") == 0, "the same content is skipped")
        #expect(try database.int("SELECT count(*) FROM facts") == 2)

        // `--last N`: the newest loads only.
        let more = try work.write("more.txt", "IsA(Berlin, City).\n")
        #expect(try Factpipe.run(["import", more, "--db", database.url, "-q"]).status == 0)
        let last = try Factpipe.run(["loads", "--db", database.url, "--json", "--last", "1"])
        let newest = try #require(try JSONSerialization.jsonObject(with: last.stdout) as? [[String: Any]])
        #expect(newest.count == 1 && newest.first?["source"] as? String == more, "\(newest)")
    }

    /// Under ignore, a statement repeated in a batch that another load brought first is asserted once for
    /// `undo` (the later occurrences are plain repeats), and undoing that other load keeps it, as in SQLite.
    @Test func aStatementRepeatedInABatchAssertsAnotherLoadsFactOnce() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let sqlite = work.path("kb.sqlite")
        let first = try work.write("first.txt", "A(1).\n")
        let second = try work.write("second.txt", "B(1).\nA(1).\nA(1).\nA(1).\n")
        for input in [first, second] {
            #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
            #expect(try Factpipe.run(["import", input, "--db", sqlite, "-q"]).status == 0)
        }
        #expect(try database.sql("SELECT load_id, count(*) FROM factpipe_assertions GROUP BY load_id")
                == [["2", "1"]])
        #expect(try database.sql("SELECT duplicates FROM factpipe_loads ORDER BY id") == [["0"], ["3"]])
        #expect(try Factpipe.run(["undo", "1", "--db", database.url]).status == 0)
        #expect(try Factpipe.run(["undo", "1", "--db", sqlite]).status == 0)
        #expect(try database.sql("SELECT statement FROM facts ORDER BY statement") == [["A(1)."], ["B(1)."]])
        #expect(try SQLiteFile.strings(sqlite, "SELECT statement FROM facts ORDER BY statement") == ["A(1).", "B(1)."])
    }

    /// As into SQLite: a copy of an input this run resumes is the same content, read once.
    @Test func aCopyOfAnInputThisRunResumesIsSkipped() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let text = "A(1).\nbad\nbad\nA(2).\nA(3).\n"
        let first = try work.write("a.txt", text)
        let copy = try work.write("b.txt", text)
        let aborted = try Factpipe.run(["import", first, "--db", database.url, "--max-errors", "1",
                                        "--batch-size", "1", "-q"])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        try #require(try database.sql("SELECT status FROM factpipe_loads") == [["aborted"]])
        let resumed = try Factpipe.run(["import", first, copy, "--db", database.url, "--resume", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        let skipped = json["skipped"] as? [[String: Any]] ?? []
        #expect(skipped.map { $0["source"] as? String } == [copy], "\(json)")
        #expect(try database.sql("SELECT count(*) FROM factpipe_loads") == [["1"]])
        #expect(try database.int("SELECT count(*) FROM facts") == 3)
    }

    /// As into SQLite: a resume does not cut a rejects file another load has written since, and a source
    /// stopped before its first commit resumes from the rejects file's size at its start.
    @Test func aResumeDoesNotCutARejectsFileAnotherLoadWroteSince() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", "A(1).\nbad one\nA(2).\nbad two\nbad three\nA(3).\n")
        let rejects = work.path("rejects.ndjson")
        let aborted = try Factpipe.run(["import", input, "--db", database.url, "--max-errors", "1", "--batch-size", "1",
                                        "--rejects", rejects, "-q"])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        let committedSize = try database.int("SELECT rejects_offset FROM factpipe_loads")
        #expect(committedSize > 0)
        let other = try work.write("b.txt", "oops 1\noops 2\noops 3\n")
        #expect([1, 2].contains(try Factpipe.run(["import", other, "--db", work.database, "--rejects", rejects, "-q"]).status))
        let written = try work.read("rejects.ndjson")

        let resumed = try Factpipe.run(["import", input, "--db", database.url, "--rejects", rejects, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let notes = (try resumed.json()["notes"] as? [String] ?? []).filter { !$0.contains("before this run resumed it") }
        #expect(notes.count == 1 && notes.first?.contains("(from byte \(committedSize)), so nothing was cut") == true,
                "\(notes)")
        let after = try work.read("rejects.ndjson")
        #expect(after.hasPrefix(written), "the other load's rejects were cut")
        #expect(after.dropFirst(written.count).split(separator: "\n").count == 2, "bad two, bad three")
        #expect(try database.sql("SELECT status FROM factpipe_loads") == [["done"]])
        #expect(try database.int("SELECT count(*) FROM facts") == 3)

        // Stopped inside its first batch, after an input that wrote rejects: resumed, nothing is lost.
        let first = try work.write("c.txt", "C(1).\nbad c2\n")
        let second = try work.write("d.txt", "bad d1\nbad d2\nD(3).\n")
        let shared = work.path("shared.ndjson")
        let stopped = try Factpipe.run(["import", first, second, "--db", database.url, "--rejects", shared,
                                        "--batch-size", "2", "--max-errors", "2", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        let again = try Factpipe.run(["import", first, second, "--db", database.url, "--rejects", shared,
                                      "--resume", "--json"])
        #expect(again.status == 2, "\(again.stderr)")
        #expect(try again.json()["notes"] as? [String] == [])
        let lines = try work.read("shared.ndjson").split(separator: "\n")
        #expect(lines.count == 3 && lines[0].contains("c.txt") && lines[2].contains("d.txt"), "\(lines)")
    }

    @Test func aTenKibiByteStatementIsStoredAndDeduplicated() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let long = String(repeating: "x", count: 10 * 1024)
        let input = try work.write("long.txt", "Long(a, \(long)).\nLong( a ,\(long))\nLong(b, \(long)).\n")
        let run = try Factpipe.run([
            "import", input, "--db", database.url, "--json", "-q", "--max-statement-bytes", "20000",
            "--max-arg-length", "20000",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "inserted") == 2 && int(json, "duplicates") == 1, "\(json)")
        #expect(try database.sql("SELECT octet_length(statement) FROM facts ORDER BY id") == [["10250"], ["10250"]])
        let forced = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q", "--force",
                                       "--max-statement-bytes", "20000", "--max-arg-length", "20000"])
        #expect(int(try forced.json(), "duplicates") == 3, "\(forced.stdoutText) \(forced.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 2)
    }

    @Test func hostileStatementsAndValuesAreStoredAsData() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let lines = [
            #"{"statement": "Says(Bob, \"it's a 'quote' \\\\ and \\\\N\").", "source": "a\tb\\c"}"#,
            #"{"statement": "Evil(x, \"'); DROP TABLE facts; --\").", "context": {"k": "v\nw"}}"#,
            #"{"statement": "Tabs(\"a\tb\", \"line\nbreak\", \"cr\rhere\")."}"#,
            #"{"statement": "Quote(\"\\\"; DELETE FROM factpipe_loads; --\")."}"#,
        ]
        let input = try work.write("hostile.ndjson", lines.joined(separator: "\n") + "\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr) \(run.stdoutText)")
        #expect(int(try run.json(), "inserted") == 4, "\(run.stdoutText)")
        let sqlite = work.path("kb.sqlite")
        let reference = try Factpipe.run(["import", input, "--db", sqlite, "-q"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try normalizedJSON(try sqliteFacts(sqlite), via: database)
        #expect(try postgresFacts(database) == expected)
        #expect(try database.int("SELECT count(*) FROM factpipe_loads") == 1)
    }

    /// Every policy, with repeats inside one batch and across batches, gives the SQLite store's facts.
    @Test(arguments: ["ignore", "replace", "update"])
    func conflictPoliciesGiveTheFactsOfTheSQLiteStore(policy: String) throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("first.ndjson", """
            {"statement": "P(a, b).", "confidence": 0.1, "source": "one", "context": {"x": 1}}
            {"statement": "P(a,b)", "confidence": 0.2, "context": {"y": 2}}
            {"statement": "Q(c).", "source": "one"}
            {"statement": "P(a, b).", "source": "three", "metadata": {"m": 3}}
            {"statement": "R(d, e).", "confidence": 0.5}

            """)
        let second = try work.write("second.ndjson", """
            {"statement": "R(d, e).", "confidence": 0.7, "source": "two"}
            {"statement": "Q(c).", "confidence": 0.3}
            {"statement": "S(f)."}

            """)
        let sqlite = work.path("kb.sqlite")
        for input in [first, second] {
            let arguments = ["import", input, "--on-conflict", policy, "--batch-size", "2", "--json", "-q", "--db"]
            let pg = try Factpipe.run(arguments + [database.url])
            let lite = try Factpipe.run(arguments + [sqlite])
            #expect(pg.status == 0 && lite.status == 0, "\(pg.stderr) \(lite.stderr)")
            let pgJSON = try pg.json(), liteJSON = try lite.json()
            for key in ["records", "inserted", "updated", "duplicates", "rejected"] {
                #expect(int(pgJSON, key) == int(liteJSON, key), "\(policy) \(key): \(pgJSON) vs \(liteJSON)")
            }
        }
        #expect(try postgresFacts(database) == (try normalizedJSON(try sqliteFacts(sqlite), via: database)))
    }

    /// A statement repeated many times: `ignore` merges a batch in one round (one round per copy, each
    /// reading the whole batch, took hours for a million copies, and a killed load redid it at every
    /// start), `replace` and `update` one round per copy, each reading its own rows through an index.
    /// The first load goes straight into the empty table, the second through the batch table; both give
    /// the SQLite store's counts and facts.
    @Test(arguments: [("ignore", 20_000), ("replace", 300), ("update", 300)])
    func aStatementRepeatedManyTimesGivesTheFactsOfTheSQLiteStore(policy: String, copies: Int) throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        func input(_ name: String, _ shift: Int) throws -> String {
            let lines = (0..<copies).map { index in
                #"{"statement": "Often(said).", "confidence": \#(Double((index + shift) % 1000) / 1000), "#
                    + #""source": "s\#(index % 7)", "context": {"k\#(index % 5)": \#(index + shift)}}"#
            }
            return try work.write(name, ([#"{"statement": "Once(\#(name))."}"#] + lines).joined(separator: "\n") + "\n")
        }
        let sqlite = work.path("kb.sqlite")
        for file in [try input("first.ndjson", 0), try input("second.ndjson", 3)] {
            let arguments = ["import", file, "--on-conflict", policy, "--json", "-q", "--db"]
            let pg = try Factpipe.run(arguments + [database.url])
            let lite = try Factpipe.run(arguments + [sqlite])
            #expect(pg.status == 0 && lite.status == 0, "\(pg.stderr) \(lite.stderr)")
            let pgJSON = try pg.json(), liteJSON = try lite.json()
            for key in ["records", "inserted", "updated", "duplicates"] {
                #expect(int(pgJSON, key) == int(liteJSON, key), "\(policy) \(key): \(pgJSON) vs \(liteJSON)")
            }
        }
        #expect(try postgresFacts(database) == (try normalizedJSON(try sqliteFacts(sqlite), via: database)))
    }

    @Test func failAbortsAtTheFirstConflictAndKeepsTheCommittedBatches() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\nA(2).\nA(3).\nA(4).\nA(2).\nA(5).\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--on-conflict", "fail", "--batch-size",
                                    "2", "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr) \(run.stdoutText)")
        let message = try run.json()["message"] as? String ?? ""
        #expect(message.contains("facts.txt:5: A(2). appears earlier in the input") || message.contains(
            "facts.txt:5: A(2). is already in the database"), "\(message)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] } == ["A(1).", "A(2).", "A(3).", "A(4)."])
        #expect(try database.sql("SELECT status, checkpoint_line FROM factpipe_loads") == [["aborted", "5"]])
    }

    @Test func aFactsTableFactpipeDidNotMakeIsRefusedUntouched() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.sql("CREATE TABLE facts(statement text PRIMARY KEY, note text); INSERT INTO facts VALUES ('x', 'y')")
        let input = try work.write("facts.txt", "A(1).\n")
        let run = try Factpipe.run(["import", input, "--db", database.url])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("not created by factpipe") && run.stderr.contains("left untouched"), "\(run.stderr)")
        #expect(try database.sql("SELECT statement, note FROM facts") == [["x", "y"]])
        #expect(try database.sql("SELECT to_regclass('factpipe_loads') IS NULL") == [["t"]])
    }

    @Test func anAtomicLoadThatFailsLeavesNoFacts() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\nA(2).\nbad\nbad\nA(3).\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--atomic", "--max-errors", "1",
                                    "--batch-size", "1", "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 0)
        #expect(try database.sql("SELECT status, records FROM factpipe_loads") == [["aborted", "0"]])

        // Its row has the input's SHA-256, so --resume takes it up (it said "changed, SHA-256 unknown").
        let resumed = try Factpipe.run(["import", input, "--db", database.url, "--resume", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(int(try resumed.json(), "inserted") == 3)
        #expect(try database.sql("SELECT status FROM factpipe_loads ORDER BY id") == [["done"]])
    }

    /// Its rejects go with its facts, so its resume (from the first line) writes each reject once.
    @Test func anAtomicLoadThatFailsTakesBackItsRejects() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\nbad\nA(2).\nA(1).\nA(3).\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--atomic", "--on-conflict", "fail",
                                    "--batch-size", "1", "--rejects", rejects, "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(try work.read("rejects.ndjson").isEmpty)
        #expect(try database.sql("SELECT status FROM factpipe_loads") == [["aborted"]])

        let resumed = try Factpipe.run(["import", input, "--db", database.url, "--resume", "--rejects", rejects, "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("\"line\":2,") == true, "\(lines)")
    }

    @Test func aFailedAtomicLoadReportsNothingInsertedAndEachInputOnceAsFailed() throws {
        let database = try PostgreSQLTestDatabase()
        try AtomicLoadSummaryTests.failAtTheLastInput(work: try CLIWorkspace(), database: database.url)
        #expect(try database.sql("SELECT count(*) FROM facts") == [["0"]])
    }

    /// Killed before it commits, an atomic load's rejects wait in their spool, as in SQLite.
    @Test func aKilledAtomicLoadLeavesNoRejectsForItsNextRunToRepeat() throws {
        let database = try PostgreSQLTestDatabase()
        try AtomicLoadSchemaTests.killAndRunAgain(
            work: try CLIWorkspace(), database: database.url,
            facts: { try database.sql("SELECT statement FROM facts ORDER BY statement").map { $0[0] } })
    }

    @Test func aRerunThatSkipsItsInputKeepsTheRejectsFile() throws {
        let database = try PostgreSQLTestDatabase()
        try RejectsRerunTests.rerun(work: try CLIWorkspace(), database: database.url)
    }

    /// A new database that a load of two facts made.
    private func databaseOfTwoFacts() throws -> (PostgreSQLTestDatabase, CLIWorkspace) {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", try work.write("a.txt", "A(1).\nB(2).\n"), "--db", database.url, "-q"])
            .status == 0)
        return (database, work)
    }

    /// 2,000 new facts: larger than the table of two by its size (a record is taken for 120 bytes), so
    /// the load drops the secondary indexes and builds them after.
    private func largerThanTheTable(_ work: CLIWorkspace) throws -> String {
        try work.write("b.txt", (1...2_000).map { "C(x\($0), y).\n" }.joined())
    }

    /// An undo completes what a killed load left, as in SQLite: the secondary indexes it dropped come back.
    @Test func undoBuildsTheSecondaryIndexesAKilledLoadDropped() throws {
        let (database, work) = try databaseOfTwoFacts()
        _ = try database.sql("DROP INDEX facts_subject; DROP INDEX facts_predicate_subject")
        let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'facts' "
            + "AND indexname IN ('facts_subject', 'facts_predicate_subject') ORDER BY 1"
        #expect(try database.sql(indexes).map { $0[0] } == [])
        let undo = try Factpipe.run(["undo", "1", "--db", database.url])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try database.sql(indexes).map { $0[0] } == ["facts_predicate_subject", "facts_subject"])
        #expect(try database.sql("SELECT count(*) FROM facts") == [["0"]])
    }

    /// A load larger than the table drops the secondary indexes and builds them after, from factpipe's
    /// definition: an index of the same name that the user had defined otherwise was replaced by it. It
    /// stays as it was, and the load is whole.
    @Test(arguments: [
        "CREATE INDEX facts_subject ON facts (lower(subject))",
        "CREATE INDEX facts_subject ON facts (subject) WHERE arity = 1",
        "CREATE INDEX facts_subject ON facts (subject text_pattern_ops)",
        "CREATE INDEX facts_subject ON facts USING hash (subject)",
    ])
    func anIndexTheUserDefinedUnderFactpipesNameIsKeptAsItIs(_ definition: String) throws {
        let (database, work) = try databaseOfTwoFacts()
        _ = try database.sql("DROP INDEX facts_subject; \(definition)")
        let defined = "SELECT pg_get_indexdef('facts_subject'::regclass)"
        let before = try database.sql(defined)
        let input = try largerThanTheTable(work)
        let load = try Factpipe.run(["import", input, "--db", database.url, "--json"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try load.json()["inserted"] as? Int == 2_000)
        #expect(try database.sql(defined) == before)
        #expect(try database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1").map { $0[0] }
            == ["facts_pkey", "facts_predicate_subject", "facts_statement", "facts_subject"])
        #expect(try database.sql("SELECT count(*) FROM facts") == [["2002"]])
    }

    /// The indexes factpipe makes are taken for factpipe's: a load larger than the table builds them anew.
    @Test func aLoadLargerThanTheTableBuildsFactpipesOwnIndexesAgain() throws {
        let (database, work) = try databaseOfTwoFacts()
        let files = "SELECT pg_relation_filenode('facts_subject'), pg_relation_filenode('facts_predicate_subject')"
        let before = try database.sql(files)
        let input = try largerThanTheTable(work)
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        let after = try database.sql(files)
        #expect(after[0][0] != before[0][0] && after[0][1] != before[0][1], "\(before) \(after)")
    }

    /// `facts_statement` defined otherwise by the user: a load into an empty table replaced it with factpipe's;
    /// any other load's merge did not find the key it names in `ON CONFLICT`. A load refuses it, naming it.
    @Test(arguments: [false, true])
    func aUniqueIndexTheUserDefinedUnderFactpipesNameIsRefused(empty: Bool) throws {
        let (database, work) = try databaseOfTwoFacts()
        _ = try database.sql((empty ? "DELETE FROM facts; " : "")
            + "DROP INDEX facts_statement; CREATE UNIQUE INDEX facts_statement ON facts (lower(statement))")
        let defined = "SELECT pg_get_indexdef('facts_statement'::regclass)"
        let before = try database.sql(defined)
        let load = try Factpipe.run(["import", try work.write("b.txt", "C(1).\nD(2).\n"), "--db", database.url])
        #expect(load.status == 1)
        #expect(load.stderr.contains("the index facts_statement is not factpipe's"), "\(load.stderr)")
        #expect(try database.sql(defined) == before)
        #expect(try database.sql("SELECT count(*) FROM facts") == [[empty ? "0" : "2"]])
        #expect(try database.sql("SELECT count(*) FROM factpipe_loads") == [["1"]])
    }

}

/// `undo` and the loads' ledger in PostgreSQL give what they give in SQLite.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLUndoTests {
    /// `TRUNCATE facts RESTART IDENTITY` left the assertions older loads made of the truncated facts; the next
    /// load's facts got those ids again, and `undo` of it kept two of them as another load's (SQLite's store
    /// forgets such assertions; `FactIDHighWater`). The next writer forgets them here too.
    @Test func undoAfterATruncateThatRestartsTheIdsDeletesEveryFactOfTheLoad() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let inputs = [("a.txt", "A1(x).\nA2(x).\nA3(x).\nA4(x).\nA5(x).\n"), ("b.txt", "A4(x).\nA5(x).\nA6(x).\n"),
                      ("c.txt", (1...8).map { "C\($0)(y).\n" }.joined())]
        let paths = try inputs.map { try work.write($0.0, $0.1) }
        for path in paths.prefix(2) { #expect(try Factpipe.run(["import", path, "--db", database.url, "-q"]).status == 0) }
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions WHERE load_id = 2") == 2)
        try database.sql("TRUNCATE facts RESTART IDENTITY")
        #expect(try Factpipe.run(["import", paths[2], "--db", database.url, "-q"]).status == 0)
        #expect(try database.int("SELECT max(id) FROM facts") == 8)
        let undo = try Factpipe.run(["undo", "3", "--db", database.url])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(undo.stderr.contains("8 facts deleted, 0 kept"), "\(undo.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 0)
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions") == 0)
    }

    @Test func undoKeepsFactsAnotherLoadBroughtAndMatchesTheSQLiteStore() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "A(1).\nB(2).\nC(3).\n")
        let second = try work.write("second.txt", "B(2).\nD(4).\n")
        let third = try work.write("third.ndjson", #"{"statement": "C(3).", "confidence": 0.5}"# + "\n")
        let sqlite = work.path("kb.sqlite")
        for db in [database.url, sqlite] {
            for input in [first, second] {
                #expect(try Factpipe.run(["import", input, "--db", db, "-q"]).status == 0)
            }
            #expect(try Factpipe.run(["import", third, "--db", db, "--on-conflict", "update", "-q"]).status == 0)
        }
        let pg = try Factpipe.run(["undo", "1", "--db", database.url, "--json"])
        let lite = try Factpipe.run(["undo", "1", "--db", sqlite, "--json"])
        #expect(pg.status == 0, "\(pg.stderr)")
        #expect(pg.stdoutText == lite.stdoutText, "\(pg.stdoutText) vs \(lite.stdoutText)")
        let pgFacts = try database.sql("SELECT statement, load_id, confidence FROM facts ORDER BY statement")
        let liteFacts = try SQLiteFile.rows(sqlite, "SELECT statement, load_id, confidence FROM facts ORDER BY statement")
            .map { row in ["statement", "load_id", "confidence"].map { key -> String in
                let value = row[key].map { "\($0)" } ?? ""
                return value == "1.0" ? "1" : value
            } }
        #expect(pgFacts == liteFacts)
        #expect(pgFacts.map { $0[0] } == ["B(2).", "C(3).", "D(4)."])
        #expect(try database.sql("SELECT status FROM factpipe_loads ORDER BY id").map { $0[0] }
                == ["undone", "done", "done"])
        let again = try Factpipe.run(["undo", "1", "--db", database.url])
        #expect(again.status == 1 && again.stderr.contains("load 1 was already undone"), "\(again.stderr)")
    }
}
