import Foundation
import Testing

/// A load into an empty PostgreSQL `facts` copies straight into it, with the unique index built after:
/// the same facts, counts and ledger as through the batch table, and a `kill -9` at any batch leaves
/// what `--resume` (or the next writer) completes exactly.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLDirectLoadTests {
    /// Every column but the id, by statement; `created_at` as whether it is its load's start time.
    private func dump(_ database: PostgreSQLTestDatabase) throws -> [[String]] {
        try database.sql("""
            SELECT statement, predicate, subject, object, args::text, arity, confidence, source, context::text,
            fact_metadata::text, created_at = (SELECT started_at FROM factpipe_loads AS l WHERE l.id = f.load_id),
            load_id, updated_load_id FROM facts AS f ORDER BY statement COLLATE "C"
            """)
    }

    private let ledger = """
        SELECT source, source_size, source_sha256, format, conflict_policy, status, records, inserted, updated,
        duplicates, rejected, warnings, checkpoint_offset, checkpoint_line FROM factpipe_loads ORDER BY id
        """
    private let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1"

    /// Generates `facts` facts with repeats and malformed lines into the workspace.
    private func generate(_ facts: Int, _ work: CLIWorkspace) throws -> String {
        let input = work.path("facts-\(facts).ndjson")
        let run = try Factpipe.run([
            "generate", "--facts", "\(facts)", "--seed", "47", "--invalid-rate", "0.01", "--duplicate-rate", "0.2",
            "-o", input, "-q",
        ])
        try #require(run.status == 0, "\(run.stderr)")
        return input
    }

    /// `victim.killedLoad` of this suite's input (a fifth of it repeats), with `arguments`.
    private func killedLoad(
        _ victim: PostgreSQLTestDatabase, _ work: CLIWorkspace, _ arguments: [String], prepare: () throws -> Void
    ) throws -> (input: String, committed: Int) {
        try victim.killedLoad(work, seed: 47, generating: ["--duplicate-rate", "0.2"], arguments: arguments,
                              prepare: prepare)
    }

    /// Resumes the load of `input` into `victim`, loads it whole into `reference`, and expects the same
    /// facts, ledger and indexes in both; returns the resumed run for its own checks.
    @discardableResult
    private func resumeAndCompare(
        _ input: String, _ arguments: [String], victim: PostgreSQLTestDatabase, reference: PostgreSQLTestDatabase
    ) throws -> FactpipeRun {
        let resumed = try Factpipe.run(["import", input, "--db", victim.url, "--resume", "--json", "-q"] + arguments)
        let whole = try Factpipe.run(["import", input, "--db", reference.url, "-q"] + arguments)
        #expect(whole.status == 2, "\(whole.stderr)")
        #expect(try dump(victim) == (try dump(reference)))
        #expect(try victim.sql(ledger) == (try reference.sql(ledger)))
        #expect(try victim.sql(indexes) == (try reference.sql(indexes)))
        return resumed
    }

    @Test(arguments: ["ignore", "replace", "update"])
    func killNineInTheMiddleOfADirectLoadThenResumeGivesAnUninterruptedLoad(policy: String) throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let arguments = ["--batch-size", "500", "--on-conflict", policy]
        let (input, committed) = try killedLoad(victim, work, arguments, prepare: {})
        try #require(committed > 0)
        // What kill -9 left: facts copied straight in without the unique index, the repeats staged and
        // the checkpoint after the last committed batch.
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["running"]])
        #expect(try victim.int("SELECT checkpoint_line FROM factpipe_loads") == committed + 1)
        #expect(try !victim.sql(indexes).contains(["facts_statement"]))
        let staged = try victim.int("SELECT count(*) FROM factpipe_direct_staging")
        #expect(staged > 0)
        #expect(try victim.int("SELECT count(*) + (SELECT rejected FROM factpipe_loads) FROM facts") + staged
                == committed)

        let resumed = try resumeAndCompare(input, arguments, victim: victim, reference: reference)
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try resumed.json()["status"] as? String == "done")
        // The staged repeats merged first are counted in the load's row, not the run's: a note says so.
        let merge = (try resumed.json()["notes"] as? [String] ?? []).filter { $0.hasPrefix("merged the batches load 1") }
        let said = (merge.first ?? "").split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(said.count == 4 && said[1] + said[2] + said[3] == staged, "\(merge) of \(staged) staged rows")
        #expect(try victim.sql(indexes).count == 4)
        #expect(try victim.sql("SELECT to_regclass('factpipe_direct_staging') IS NULL") == [["t"]])
    }

    /// A resume refused (other rules than its load began with) still completes the killed load as every writer
    /// does, and leaves `facts` with every index it has after a load, for readers and the next load alike.
    @Test func aRefusedResumeLeavesTheTableWithAllItsIndexes() throws {
        let victim = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let arguments = ["--batch-size", "500"]
        let (input, committed) = try killedLoad(victim, work, arguments, prepare: {})
        try #require(committed > 0)
        #expect(try victim.sql(indexes).count < 4)
        let refused = try Factpipe.run(["import", input, "--db", victim.url, "--resume", "--max-args", "9", "-q"]
            + arguments)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot be resumed under other rules"), "\(refused.stderr)")
        let after = try victim.sql(indexes)
        #expect(after.count == 4, "\(after)")
        #expect(try victim.int("SELECT count(*) FROM facts") == (try victim.int("SELECT count(DISTINCT statement) FROM facts")))
    }

    /// A long query holds `facts` as a load into the empty table starts. The load's drop of the unique index
    /// waited up to two seconds for it, and every other reader of the table queued behind that wait (a
    /// `count(*)` of nothing took 1.1 s). Each wait is 50 ms now: the others go on, and the load still ends
    /// with every fact and every index, straight into the table once the query ended (held 1.8 s) or through
    /// the batch table when it holds on past the two seconds the drops are tried for (held 4 s).
    @Test(arguments: [1.8, 4.0])
    func otherReadersGoOnWhileALoadWaitsForALongQueryToDropAnIndex(holdSeconds: Double) throws {
        let work = try CLIWorkspace()
        let database = try PostgreSQLTestDatabase()
        try database.seed("", in: work)
        let input = try generate(20_000, work)
        let psql = URL(fileURLWithPath: PostgreSQLTestServer.psql)
        let holder = try BackgroundProcess(psql, [
            "-X", "-q", database.url, "-c",
            "SET application_name = 'long-reader'; BEGIN; SELECT count(*) FROM facts; SELECT pg_sleep(\(holdSeconds)); "
                + "COMMIT;",
        ])
        defer { holder.killNine() }
        try #require(poll(timeout: 30) {
            ((try? database.int("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'long-reader' "
                + "AND query LIKE '%pg_sleep%'")) ?? 0) == 1
        })
        // Short queries one after another, each timed, while the load starts.
        let queries = work.path("reader.sql")
        try String(repeating: "SELECT count(*) FROM facts WHERE false;\nSELECT pg_sleep(0.01);\n", count: 150)
            .write(toFile: queries, atomically: true, encoding: .utf8)
        let reader = try BackgroundProcess(psql, ["-X", "-q", "-c", "\\timing on", "-f", queries, database.url])
        let load = try Factpipe.run(["import", input, "--db", database.url, "-q"])
        let read = try reader.wait()
        try holder.wait()
        #expect(load.status == 2, "\(load.stderr)")
        let times = read.stdoutText.split(separator: "\n").compactMap { line in
            line.hasPrefix("Time: ") ? Double(line.dropFirst(6).prefix { $0 != " " }) : nil
        }
        #expect(times.count == 300, "\(read.stdoutText.suffix(500)) \(read.stderr)")
        #expect((times.max() ?? 0) < 700, "the longest query took \(times.max() ?? 0) ms")
        #expect(try database.sql(indexes) == [["facts_pkey"], ["facts_predicate_subject"], ["facts_statement"],
                                             ["facts_subject"]])
        #expect(try database.int("SELECT count(*) FROM facts") == (try database.int(
            "SELECT inserted FROM factpipe_loads ORDER BY id DESC LIMIT 1")))
    }

    /// A kill inside the transaction that ends a direct load (unique index built, repeats merged, not yet
    /// committed): a reader of the staging table holds it there until factpipe is killed.
    @Test func killNineWhileADirectLoadEndsThenResumeGivesAnUninterruptedLoad() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try generate(20_000, work)
        let arguments = ["--batch-size", "500", "--on-conflict", "replace"]
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", input, "--db", victim.url, "-q"] + arguments)
        defer { load.killNine() }
        let staging = poll(timeout: 60) {
            (try? victim.sql("SELECT to_regclass('factpipe_direct_staging') IS NOT NULL")) == [["t"]]
        }
        try #require(staging)
        let holder = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", victim.url, "-c", """
                SET application_name = 'staging-reader'; BEGIN; LOCK TABLE factpipe_direct_staging IN ACCESS SHARE MODE;
                SELECT pg_sleep(120);
                """,
        ])
        defer { holder.killNine() }
        // factpipe waits to drop the staging table, the last step before its commit.
        let waiting = poll(timeout: 60) {
            ((try? victim.int("""
                SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DROP TABLE%'
                """)) ?? 0) == 1
        }
        try #require(waiting)
        load.killNine()
        try load.wait()
        try victim.sql("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'staging-reader' OR query LIKE 'DROP TABLE%'
            """)
        let gone = poll(timeout: 30) {
            ((try? victim.int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND pid <> pg_backend_pid()")) ?? 1) == 0
        }
        try #require(gone)
        // Rolled back whole: no unique index, the repeats still staged, the load still running.
        #expect(try !victim.sql(indexes).contains(["facts_statement"]))
        #expect(try victim.int("SELECT count(*) FROM factpipe_direct_staging") > 0)
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["running"]])

        // Every batch was committed, so the resumed run only ends the load; it exits 2 as the uninterrupted
        // load does, for the malformed records refused before the kill.
        let resumed = try resumeAndCompare(input, arguments, victim: victim, reference: reference)
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try resumed.json()["rejected"] as? Int == 0, "\(resumed.stdoutText)")
        #expect(try resumed.json()["rejected_before_resume"] as? Int == (try victim.int("SELECT rejected FROM factpipe_loads")))
    }

    @Test func killNineInTheMiddleOfALoadIntoATableWithFactsThenResumeGivesAnUninterruptedLoad() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "Z(0).\nZ(1).\n")
        let seed = { (database: PostgreSQLTestDatabase) throws in
            let run = try Factpipe.run(["import", first, "--db", database.url, "-q"])
            try #require(run.status == 0, "\(run.stderr)")
        }
        let arguments = ["--batch-size", "500", "--on-conflict", "update"]
        let (input, committed) = try killedLoad(victim, work, arguments, prepare: { try seed(victim) })
        try #require(committed > 0)
        #expect(try victim.sql("SELECT status FROM factpipe_loads ORDER BY id") == [["done"], ["running"]])
        #expect(try victim.sql("SELECT to_regclass('factpipe_direct_staging') IS NULL") == [["t"]],
                "a table with facts is loaded through the batch table")
        #expect(try victim.int("""
            SELECT count(*) - 2 + (SELECT duplicates + updated + rejected FROM factpipe_loads WHERE id = 2) FROM facts
            """) == committed)
        try seed(reference)
        let resumed = try resumeAndCompare(input, arguments, victim: victim, reference: reference)
        #expect(resumed.status == 2, "\(resumed.stderr)")
    }

    @Test func undoOfAKilledDirectLoadCompletesItFirstSoNothingOfItComesBack() throws {
        let victim = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let (_, committed) = try killedLoad(victim, work, ["--batch-size", "500"], prepare: {})
        try #require(committed > 0)
        let undo = try Factpipe.run(["undo", "1", "--db", victim.url])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try victim.int("SELECT count(*) FROM facts") == 0)
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["undone"]])
        // The completion's counts are the row's: they add up (the undo wrote back the counts it read before).
        #expect(try victim.int("SELECT records - inserted - updated - duplicates - rejected FROM factpipe_loads") == 0)
        #expect(try victim.int("SELECT duplicates FROM factpipe_loads") > 0)
        #expect(try victim.sql("SELECT to_regclass('factpipe_direct_staging') IS NULL") == [["t"]])
        #expect(try victim.sql(indexes).contains(["facts_statement"]))
        // The next load finds nothing of the undone one to merge.
        let next = try work.write("next.txt", "N(1).\n")
        #expect(try Factpipe.run(["import", next, "--db", victim.url, "-q"]).status == 0)
        #expect(try victim.sql("SELECT statement FROM facts") == [["N(1)."]])
    }

    /// Another program's rows written while a direct load had the unique index out, one repeating a fact the
    /// load copied and one repeating its own: the next writer keeps each statement's first row and drops
    /// the later ones, as the index would have refused them. The build of the index failed on them, and
    /// every later load, undo and optimize with it, until someone deleted them by hand.
    @Test func rowsAnotherProgramWroteTwiceWhileTheIndexWasOutAreDroppedNotAWedge() throws {
        let victim = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let (_, committed) = try killedLoad(victim, work, ["--batch-size", "500"], prepare: {})
        try #require(committed > 0)
        #expect(try !victim.sql(indexes).contains(["facts_statement"]))
        let inserted = try victim.int("SELECT inserted FROM factpipe_loads")
        let copied = try #require(try victim.sql("SELECT statement FROM facts ORDER BY id LIMIT 1").first?.first)
        _ = try victim.sql("""
            INSERT INTO facts(statement, predicate, subject, args, arity, confidence, created_at) VALUES
            ('Other(x).', 'Other', 'x', '["x"]', 1, 0.5, now()), ('Other(x).', 'Other', 'x', '["x"]', 1, 0.25, now());
            INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, created_at, load_id)
            SELECT statement, predicate, subject, object, args, arity, 0.125, now(), load_id FROM facts
            WHERE statement = '\(copied.replacingOccurrences(of: "'", with: "''"))'
            """)
        let next = try Factpipe.run(["import", try work.write("next.txt", "N(1).\n"), "--db", victim.url, "-q"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try victim.sql(indexes).contains(["facts_statement"]))
        #expect(try victim.sql("SELECT count(*) FROM facts GROUP BY statement HAVING count(*) > 1").isEmpty)
        #expect(try victim.sql("SELECT confidence FROM facts WHERE statement = 'Other(x).'") == [["0.5"]])
        #expect(try victim.sql("SELECT count(*) FROM facts WHERE confidence = 0.125") == [["0"]])
        // The copy of the load's row was counted among its facts: now among its duplicates.
        #expect(try victim.int("SELECT records - inserted - updated - duplicates - rejected FROM factpipe_loads WHERE id = 1") == 0)
        #expect(try victim.int("SELECT inserted FROM factpipe_loads WHERE id = 1") <= inserted)
        #expect(try Factpipe.run(["undo", "1", "--db", victim.url]).status == 0)
    }

    /// `facts_statement` dropped by hand (no staging table: a load makes it in the transaction that drops the
    /// index) and a row added that repeats a stored statement: the next writer deleted it as a killed load's
    /// leftover, exit 0. It is refused now, naming the statement, and nothing is deleted.
    @Test func aRowAddedByHandWhileSomeoneHadDroppedTheIndexIsNeverDeleted() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "P(a).\nP(b).\nP(c).\n")
        #expect(try Factpipe.run(["import", first, "--db", database.url, "-q"]).status == 0)
        _ = try database.sql("""
            DROP INDEX facts_statement;
            INSERT INTO facts(statement, predicate, subject, args, arity, confidence, source, created_at)
            VALUES ('P(a).', 'P', 'a', '["a"]', 1, 0.2, 'curated-by-hand', now())
            """)
        let next = try work.write("b.txt", "Q(z).\n")
        for command in [["import", next], ["optimize"], ["undo", "1"]] {
            let run = try Factpipe.run(command + ["--db", database.url])
            #expect(run.status == 1, "\(command): \(run.stderr)")
            #expect(run.stderr.contains(#"facts has no unique index on statement (facts_statement is missing, and no "#
                + #"load of factpipe's set it aside) and holds 1 statement more than once, "P(a)." 2 times"#),
                "\(command): \(run.stderr)")
            #expect(try database.int("SELECT count(*) FROM facts") == 4, "\(command)")
            #expect(try database.int("SELECT count(*) FROM facts WHERE source = 'curated-by-hand'") == 1)
            #expect(try !database.sql(indexes).contains(["facts_statement"]))
        }
        #expect(try database.sql("SELECT status FROM factpipe_loads") == [["done"]])
        _ = try database.sql("DELETE FROM facts WHERE statement = 'P(a).' AND load_id = 1")
        #expect(try Factpipe.run(["import", next, "--db", database.url, "-q"]).status == 0)
        #expect(try database.sql(indexes).contains(["facts_statement"]))
        #expect(try database.sql("SELECT source FROM facts WHERE statement = 'P(a).'") == [["curated-by-hand"]])
    }

    /// `optimize` after a killed direct load completes it first (its index check would otherwise find the
    /// unique index missing), and `--resume` then gives exactly an uninterrupted load.
    @Test func optimizeAfterAKilledDirectLoadCompletesItAndResumeStillGivesAnUninterruptedLoad() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let arguments = ["--batch-size", "500", "--on-conflict", "update"]
        let (input, committed) = try killedLoad(victim, work, arguments, prepare: {})
        try #require(committed > 0)
        #expect(try !victim.sql(indexes).contains(["facts_statement"]))
        let optimize = try Factpipe.run(["optimize", "--db", victim.url])
        #expect(optimize.status == 0, "\(optimize.stdout)\(optimize.stderr)")
        #expect(try victim.sql(indexes).contains(["facts_statement"]))
        #expect(try victim.sql("SELECT to_regclass('factpipe_direct_staging') IS NULL") == [["t"]])
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["running"]])

        let resumed = try resumeAndCompare(input, arguments, victim: victim, reference: reference)
        #expect(resumed.status == 2, "\(resumed.stderr)")
    }

    /// A role limited to one connection cannot open the connections that build the secondary indexes beside
    /// the unique one: the first load into its empty table failed after its merge had committed, with ledger
    /// counts that did not add up (the merged repeats left out), and no `--resume` could ever finish it. The
    /// load is done now, its counts those of any load, and the indexes are built on its own connection.
    @Test func aRoleOfOneConnectionLoadsWithItsIndexesAndCountsThatAddUp() throws {
        let reference = try PostgreSQLTestDatabase()
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try generate(3_000, work)
        let whole = try Factpipe.run(["import", input, "--db", reference.url, "--batch-size", "500", "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        try database.withRole(granted: { "GRANT CREATE ON SCHEMA public TO \($0); ALTER ROLE \($0) CONNECTION LIMIT 1" }) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--batch-size", "500", "--json", "-q"])
            #expect(run.status == 2, "\(run.stderr)")
            #expect(try run.json()["notes"] as? [String] == [], "\(run.stdoutText)")
            // Before the role goes, and its tables with it.
            #expect(try database.sql("SELECT status, records, inserted, updated, duplicates, rejected FROM factpipe_loads")
                == (try reference.sql("SELECT status, records, inserted, updated, duplicates, rejected FROM factpipe_loads")))
            #expect(try database.sql(indexes) == (try reference.sql(indexes)))
            #expect(try dump(database) == (try dump(reference)))
        }
    }

    /// A direct load that stops on its own (too many malformed records) completes what it committed:
    /// the unique index is back and its repeats are merged and counted.
    @Test func aDirectLoadThatAbortsKeepsItsBatchesUniqueAndCounted() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        var lines = (1...40).map { "A(\($0 % 25))." }
        lines.append(contentsOf: ["bad", "bad"] + (1...5).map { "B(\($0))." })
        let input = try work.write("facts.txt", lines.joined(separator: "\n") + "\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--max-errors", "1", "--batch-size", "10",
                                    "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 25)
        #expect(try database.sql("SELECT status, records, inserted, duplicates FROM factpipe_loads")
                == [["aborted", "40", "25", "15"]])
        #expect(try database.sql(indexes).contains(["facts_statement"]))
        #expect(try database.sql("SELECT to_regclass('factpipe_direct_staging') IS NULL") == [["t"]])
    }
}
