import Foundation
import Testing

/// A value another program wrote that import would refuse is refused by export, naming the fact, so that
/// no archive verifies that cannot be restored.
@Suite struct ExportUnrestorableTests {
    @Test(arguments: ["ndjson", "csv"])
    func aConfidenceImportRefusesIsRefusedByExport(format: String) throws {
        for value in ["1e400", "-1e400", "1.5", "-0.25"] {
            let work = try CLIWorkspace()
            try work.loadFacts()
            let id = try SQLiteFile.int(work.database, "SELECT min(id) FROM facts")
            let update = "UPDATE facts SET confidence = \(value) WHERE id = \(id)"
            _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, update])
            let output = work.path("s.\(format).zst")
            let run = try Factpipe.run(["export", "--db", work.database, "-o", output, "--format", format])
            #expect(run.status == 1, "\(value): \(run.stderr)")
            #expect(run.stderr.contains("fact \(id) has a confidence of"), "\(value): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(value): no archive is left")
        }
    }
}

/// Facts a load let in under raised limits (more arguments, a longer argument, a record over 1 MiB) are
/// facts of the database: its snapshot restores them all. (Restore imported under the default limits,
/// refused them, and failed on an archive `verify` passed.)
@Suite struct ExportRaisedLimitsTests {
    @Test(arguments: ["ndjson", "csv"])
    func aSnapshotOfFactsLoadedUnderRaisedLimitsRestores(format: String) throws {
        let work = try CLIWorkspace()
        let wide = "Wide(" + (0..<12).map { "a\($0)" }.joined(separator: ", ") + ")."
        let long = "Long(" + String(repeating: "x", count: 800) + ")."
        let metadata = String(repeating: "m", count: 1_200_000)
        let lines = [
            #"{"statement":"\#(wide)"}"#, #"{"statement":"\#(long)"}"#,
            #"{"statement":"Big(a).","fact_metadata":{"note":"\#(metadata)"}}"#, #"{"statement":"Ok(a, b)."}"#,
        ]
        let input = try work.write("in.ndjson", lines.joined(separator: "\n") + "\n")
        let load = try Factpipe.run([
            "import", input, "--db", work.database, "--max-args", "20", "--max-arg-length", "1000",
            "--max-record-bytes", "4000000", "-q",
        ])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 4)
        let archive = work.path("s.\(format).zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", archive, "--format", format, "-q"]).status == 0)
        #expect(try Factpipe.run(["verify", archive, "-q"]).status == 0)
        let restored = work.path("restored.sqlite")
        let restore = try Factpipe.run(["restore", archive, "--to", restored])
        #expect(restore.status == 0, "\(restore.stderr)")
        let statements = "SELECT statement FROM facts ORDER BY statement"
        #expect(try SQLiteFile.strings(restored, statements) == (try SQLiteFile.strings(work.database, statements)))
    }
}

/// Text that is not UTF-8 or a `created_at` that is not a time, written by another program: import refuses
/// such a record, so export refuses the fact; a time import accepts in another form is exported.
@Suite struct ExportUnimportableTextTests {
    @Test(arguments: [
        ("statement", "CAST(x'50286101ff29' AS TEXT)", "ndjson"), ("statement", "CAST(x'50286101ff29' AS TEXT)", "text"),
        ("source", "CAST(x'6fe9' AS TEXT)", "csv"), ("context", "CAST(x'7b2261223a2262ff227d' AS TEXT)", "ndjson"),
        ("fact_metadata", "CAST(x'7b2261223a22c3227d' AS TEXT)", "csv"), ("created_at", "'yesterday'", "ndjson"),
        ("created_at", "'2025-13-01T00:00:00Z'", "csv"), ("created_at", "'2025-02-30T00:00:00Z'", "ndjson"),
    ])
    func aFactImportWouldRefuseIsRefusedByExport(column: String, value: String, format: String) throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "P(a).\nQ(b).\nR(c).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        let id = try SQLiteFile.int(work.database, "SELECT id FROM facts WHERE statement = 'Q(b).'")
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "UPDATE facts SET \(column) = \(value) WHERE id = \(id)"])
        let output = work.path("s.\(format).zst")
        let run = try Factpipe.run(["export", "--db", work.database, "-o", output, "--format", format])
        #expect(run.status == 1, "\(column) \(value): \(run.stderr)")
        #expect(run.stderr.contains("fact \(id) has a \(column) of"), "\(column) \(value): \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "no archive is left")
    }

    /// A bulk load killed before it built its unique index again leaves `facts` without it; a statement
    /// another program wrote twice meanwhile (spelled alike) was exported twice, verified, and the restore
    /// failed ("7832 inserted, 1 duplicates"). The export refuses it, saying what completes the load.
    @Test func aStatementWrittenTwiceWhileTheUniqueIndexWasOutIsRefused() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "P(a).\nQ(b).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            DROP INDEX facts_statement;
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
            SELECT statement, predicate, subject, args, arity, created_at FROM facts WHERE statement = 'Q(b).';
            """])
        let output = work.path("s.ndjson.zst")
        // Dropped by someone, not by a load: no load to complete, and the rows are theirs to choose between.
        let dropped = try Factpipe.run(["export", "--db", work.database, "-o", output])
        #expect(dropped.status == 1, "\(dropped.stderr)")
        #expect(dropped.stderr.contains(#"facts holds "Q(b)." 2 times: its unique index on statements "#
            + "(facts_statement) is missing, and no load of factpipe's set it aside"), "\(dropped.stderr)")
        // Set aside by load 1 (the row a direct load writes when it drops the index).
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database,
            "INSERT INTO factpipe_sequence(name, seq) VALUES ('facts_statement_dropped_by', 1)"])
        let refused = try Factpipe.run(["export", "--db", work.database, "-o", output])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains(#"facts holds "Q(b)." 2 times: a load was stopped"#), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "no archive is left")
        // While a load holds the database (the one that set the index aside, still at work), it is not called
        // stopped, and the advice is to wait for it: the optimize it advised refused ("another load is writing").
        do {
            let lock = open(work.database + "-factpipe.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            try #require(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
            defer { close(lock) }
            let running = try Factpipe.run(["export", "--db", work.database, "-o", output])
            #expect(running.status == 1, "\(running.stderr)")
            #expect(running.stderr.contains("a load running now has set the unique index on statements aside")
                && running.stderr.contains("export again once that load has finished")
                && !running.stderr.contains("optimize"), "\(running.stderr)")
        }
        #expect(try Factpipe.run(["optimize", "--db", work.database]).status == 0)
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", output, "-q"]).status == 0)
        let copy = work.path("copy.sqlite")
        #expect(try Factpipe.run(["restore", output, "--to", copy, "-q"]).status == 0)
        #expect(try SQLiteFile.strings(copy, "SELECT statement FROM facts ORDER BY statement") == ["P(a).", "Q(b)."])
    }

    @Test func timesImportAcceptsAndUnicodeTextAreExportedAndRestoreAsTheyWere() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "LäuftAuf(Server, CO₂).\nP(a).\nQ(b).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        let update = """
            UPDATE facts SET created_at = '2025-01-01T00:00:00.123456Z' WHERE statement = 'P(a).';
            UPDATE facts SET created_at = '2025-01-01 02:00:00+02:00', source = 'Straße' WHERE statement = 'Q(b).';
            UPDATE facts SET created_at = '' WHERE statement LIKE 'L%';
            """
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, update])
        let output = work.path("s.ndjson.zst")
        let run = try Factpipe.run(["export", "--db", work.database, "-o", output, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "facts") == 3)
        let copy = work.path("copy.sqlite")
        #expect(try Factpipe.run(["import", output, "--db", copy, "-q"]).status == 0)
        #expect(try SQLiteFile.strings(copy, "SELECT statement || ' ' || created_at || ' ' || coalesce(source, '-') FROM facts WHERE statement NOT LIKE 'L%' ORDER BY statement") == [
            "P(a). 2025-01-01T00:00:00.123456Z -",
            "Q(b). 2025-01-01T00:00:00Z Straße",
        ])
        // An empty created_at reads as none given: the restoring load's time.
        let restored = try SQLiteFile.strings(copy, "SELECT created_at FROM facts WHERE statement LIKE 'L%'")
        #expect(restored.count == 1 && restored[0].hasPrefix("20"), "\(restored)")
    }
}

/// `export --predicate` takes a predicate as `query --predicate` does.
@Suite struct ExportPredicateTests {
    @Test func aPredicateWithSpaceAroundItSelectsWhatQueryFinds() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "HasPart(a, b).\nHasPart(c, d).\nIsA(a, thing).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        let query = try Factpipe.run(["query", "--db", work.database, "--predicate", " HasPart ", "--format", "ndjson"])
        #expect(query.stdoutText.split(separator: "\n").count == 2, "\(query.stdoutText)")
        let run = try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("p.ndjson"), "--predicate", " HasPart ", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "facts") == 2)
    }
}

/// Rows written by plain SQL (`load_id` NULL) are read as import will read them: a statement the grammar
/// refuses, one that is another fact spelled another way, a context with a lone surrogate or nested too
/// deep. Export and verify passed such archives, and restore refused them.
@Suite struct ExportRowsWrittenElsewhereTests {
    private static let insert = "INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, "
        + "context, created_at) VALUES "

    private func row(_ statement: String, context: String = "{}") -> String {
        "('\(statement)', 'P', 'x', NULL, '[]', 1, 1.0, '\(context)', '2025-01-01T00:00:00Z')"
    }

    @Test(arguments: [
        ("this is not a fact", "{}", "has a statement import refuses (column 6"),
        ("P( a )", "{}", "is the fact stored as P(a).: import reads both as one"),
        ("Q(b).", #"{"a":"\ud800"}"#, "has a context import refuses (lone high surrogate)"),
        ("Q(b).", String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70), "has a context import refuses"),
    ])
    func aRowImportWouldRefuseOrMergeIsRefusedByExport(statement: String, context: String, message: String) throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "P(a).\nR(c).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        let added = try Factpipe.tool("/usr/bin/sqlite3", [work.database, Self.insert + row(statement, context: context)])
        #expect(added.status == 0, "\(added.stderr)")
        for format in ["ndjson", "csv"] {
            let output = work.path("s.\(format).zst")
            let run = try Factpipe.run(["export", "--db", work.database, "-o", output, "--format", format])
            #expect(run.status == 1, "\(statement) \(format): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(statement) \(format): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "no archive is left")
        }
    }

    /// A version-1 database (read as it is, before a writer migrates it) may hold two spellings of one fact
    /// that factpipe loads wrote. Its export refused them ("delete one of them"); its snapshot now restores as
    /// migrating the database would, the later spelling kept under `merged_rows`. Every row is still read as
    /// the restore will read it: a statement the grammar refuses fails the export.
    @Test func aVersionOneDatabaseExportsItsLookAlikesForTheRestoreToMerge() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "P(a).\nR(c).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [
            work.database,
            Self.insert + row("P( a )") + "; UPDATE facts SET load_id = 1 WHERE load_id IS NULL; PRAGMA user_version = 1",
        ])
        let run = try Factpipe.run(["export", "--db", work.database, "-o", work.path("v1.ndjson.zst")])
        #expect(run.status == 0, "\(run.stderr)")
        let restored = work.path("restored.sqlite")
        let restore = try Factpipe.run(["restore", work.path("v1.ndjson.zst"), "--to", restored])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stderr.contains("restored 2 facts"), "\(restore.stderr)")
        #expect(restore.stderr.contains("version-1 database: merged 1 row into the facts"), "\(restore.stderr)")
        let merged = try Factpipe.tool("/usr/bin/sqlite3", [
            restored, "SELECT json_extract(fact_metadata, '$.merged_rows[0].statement') FROM facts WHERE statement = 'P(a).'",
        ])
        #expect(merged.stdoutText == "P( a )\n", "\(merged.stdoutText)")

        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, Self.insert + row("P(a") + "; UPDATE facts SET load_id = 1"])
        let refused = try Factpipe.run(["export", "--db", work.database, "-o", work.path("v1b.ndjson.zst")])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("has a statement import refuses"), "\(refused.stderr)")
    }

    /// Two rows written elsewhere that spell one fact two ways are refused too; one written elsewhere in
    /// another spelling of no other fact exports, and restores in canonical form.
    @Test func respelledRowsAreRefusedOnlyWhenTheyMeetAnotherSpelling() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "R(c).\n")
        #expect(try Factpipe.run(["import", work.path("in.txt"), "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, Self.insert + row("P( a )") + ", " + row("P(a )")])
        let twice = try Factpipe.run(["export", "--db", work.database, "-o", work.path("twice.ndjson.zst")])
        #expect(twice.status == 1 && twice.stderr.contains("also spelled another way"), "\(twice.stderr)")

        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "DELETE FROM facts WHERE statement = 'P(a )'"])
        let archive = work.path("once.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
        #expect(try Factpipe.run(["verify", archive, "-q"]).status == 0)
        let restore = try Factpipe.run(["restore", archive, "--to", work.path("restored.sqlite")])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try SQLiteFile.strings(work.path("restored.sqlite"), "SELECT statement FROM facts ORDER BY statement")
            == ["P(a).", "R(c)."])
    }
}
