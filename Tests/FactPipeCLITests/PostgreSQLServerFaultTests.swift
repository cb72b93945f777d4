import Foundation
import Testing

/// Faults of the server during a load: stopped at once (`pg_ctl stop -m immediate`), a statement timeout,
/// a role without the permission it needs. Each gives one line naming the server without its password and
/// PostgreSQL's reason, exit 1; the batches committed before stay, nothing of the failed one does, and
/// `--resume` finishes the load exactly.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLServerFaultTests {
    /// The lines of standard error that name `server` (the summary line before them does not).
    private func lines(_ text: String, naming server: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.contains(server) }
    }

    /// The facts, every column but the id (the creation time as whether it is the load's start), by statement.
    private static let facts = """
        SELECT statement, predicate, subject, object, args::text, arity, confidence, source, context::text,
        fact_metadata::text, created_at = (SELECT started_at FROM factpipe_loads AS l WHERE l.id = f.load_id),
        load_id, updated_load_id FROM facts AS f ORDER BY statement COLLATE "C"
        """

    private static let ledger = """
        SELECT source, source_size, source_sha256, format, status, records, inserted, updated, duplicates, rejected,
        warnings, checkpoint_offset, checkpoint_line FROM factpipe_loads ORDER BY id
        """

    @Test
    func aServerStoppedMidLoadFailsInOneLineAndResumeFinishesExactly() throws {
        let cluster = try PostgreSQLPrivateCluster()
        try cluster.sql("CREATE DATABASE victim")
        try cluster.sql("CREATE DATABASE reference")
        // The password is not needed (the cluster trusts 127.0.0.1) and must never be shown.
        let victim = cluster.url(database: "victim", user: "postgres:s3cret")
        let shown = cluster.url(database: "victim")
        let work = try CLIWorkspace()
        var facts = 40_000
        var input = ""
        var failed: FactpipeRun?
        for attempt in 1...3 {
            input = work.path("facts-\(facts).ndjson")
            let generate = try Factpipe.run([
                "generate", "--facts", "\(facts)", "--seed", "17", "--invalid-rate", "0.01", "-o", input, "-q",
            ])
            try #require(generate.status == 0, "\(generate.stderr)")
            try cluster.sql("DROP TABLE IF EXISTS facts, factpipe_loads, factpipe_meta, factpipe_assertions; "
                + "DROP FUNCTION IF EXISTS factpipe_statement_key(text), factpipe_json_patch(jsonb, jsonb)",
                database: "victim")
            let load = try BackgroundProcess(
                BinaryLocator.factpipe, ["import", input, "--db", victim, "--batch-size", "500"])
            // Several batches committed: the ledger's row says so.
            poll(timeout: 60) {
                !load.isRunning || ((try? cluster.sql(
                    "SELECT coalesce(max(records), 0) FROM factpipe_loads", database: "victim"
                ).first?.first.flatMap { Int($0) }) ?? 0) >= 3_000
            }
            try cluster.stopServer()
            let run = try load.wait()
            if run.status == 1 {
                failed = run
                break
            }
            let status = run.status
            Issue.record("attempt \(attempt): the load of \(facts) facts ended (\(status)) before the stop")
            try cluster.startServer()
            facts *= 2
        }
        let run = try #require(failed)
        let stderr = lines(run.stderr, naming: shown)
        #expect(stderr.count == 1, "one line: \(run.stderr)")
        #expect(!run.stderr.contains("s3cret"), "\(run.stderr)")
        // The server's reason, given as it cut the connection, or libpq's.
        #expect(stderr.first?.contains("the connection was lost: ") == true, "\(run.stderr)")
        #expect(!run.stderr.contains("WARNING"), "libpq's notices are not printed: \(run.stderr)")

        try cluster.startServer()
        // What the stop left: the committed batches and their checkpoint (the row could not be marked).
        let left = try cluster.sql("SELECT status, records, checkpoint_line FROM factpipe_loads", database: "victim")
        #expect(left.first?.first == "running", "\(left)")
        let committed = try #require(left.first.flatMap { Int($0[1]) })
        #expect(committed >= 3_000 && committed % 500 == 0, "\(left)")
        #expect(left.first?[2] == "\(committed + 1)", "\(left)")
        #expect(try cluster.sql("""
            SELECT count(*) + (SELECT duplicates + rejected FROM factpipe_loads)
            + (SELECT count(*) FROM factpipe_direct_staging) FROM facts
            """, database: "victim") == [["\(committed)"]], "a load into an empty table stages its repeats")

        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "500", "--resume",
                                        "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect(json["status"] as? String == "done", "\(json)")
        let whole = try Factpipe.run(["import", input, "--db", cluster.url(database: "reference"),
                                      "--batch-size", "500", "--json", "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        #expect(int(json, "records") == (int(try whole.json(), "records") ?? 0) - committed,
                "the resumed run reads only what was not committed")
        #expect(try cluster.sql(Self.facts, database: "victim") == (try cluster.sql(Self.facts, database: "reference")))
        #expect(try cluster.sql(Self.ledger, database: "victim")
                == (try cluster.sql(Self.ledger, database: "reference")))
        let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1"
        #expect(try cluster.sql(indexes, database: "victim").count == 4)
    }

    /// scripts/fault-inject kills a load at random moments and resumes it, here into the test server.
    @Test func faultInjectionScriptAgainstPostgreSQLAtSmallSize() throws {
        let server = try #require(PostgreSQLTestServer.url)
        let script = packageRootURL().appendingPathComponent("scripts/fault-inject")
        let run = try Factpipe.runProcess(script, [
            "--facts", "20000", "--kills", "6", "--batch-size", "2000", "--bin", BinaryLocator.factpipe.path,
            "--db", server,
        ])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderr)")
        #expect(run.stdoutText.contains("fault-inject: identical to the uninterrupted load"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("fault-inject: 20000 facts, batch 2000") && run.stdoutText.contains(
            "(PostgreSQL)"), "\(run.stdoutText)")
        #expect(!run.stdoutText.contains("DIFFER"))
        #expect(try PostgreSQLTestDatabase.psql(server, """
            SELECT count(*) FROM pg_database WHERE datname LIKE 'factpipe\\_fault\\_%'
            """) == [["0"]], "its databases are dropped")
    }

    @Test func aStatementTimeoutFailsItsBatchInOneLineAndKeepsTheCommittedOnes() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("Seed(0).\n", in: work)
        // Inserting `Slow(slow)` takes 30 s: far past the 1 s the URL allows a statement.
        try database.sql("""
            CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.subject = 'slow' THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
            CREATE TRIGGER slow_insert BEFORE INSERT ON facts FOR EACH ROW EXECUTE FUNCTION slow_insert();
            """)
        let input = try work.write("facts.txt", "A(1).\nA(2).\nA(3).\nA(4).\nSlow(slow).\nA(6).\n")
        let url = database.url + "?options=-c%20statement_timeout%3D1000"
        let run = try Factpipe.run(["import", input, "--db", url, "--batch-size", "2"])
        #expect(run.status == 1, "\(run.stderr)")
        let stderr = lines(run.stderr, naming: database.url)
        #expect(stderr.count == 1, "one line: \(run.stderr)")
        #expect(stderr.first?.contains("canceling statement due to statement timeout") == true, "\(run.stderr)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] }
                == ["Seed(0).", "A(1).", "A(2).", "A(3).", "A(4)."])
        #expect(try database.sql("SELECT status, records, inserted, checkpoint_line FROM factpipe_loads WHERE id = 2")
                == [["failed", "4", "4", "5"]])

        try database.sql("DROP TRIGGER slow_insert ON facts")
        let resumed = try Factpipe.run(["import", input, "--db", url, "--batch-size", "2", "--resume", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] }
                == ["Seed(0).", "A(1).", "A(2).", "A(3).", "A(4).", "Slow(slow).", "A(6)."])
        #expect(try database.sql("SELECT status, records, inserted FROM factpipe_loads WHERE id = 2")
                == [["done", "6", "6"]])
    }

    private func withRole(
        in database: PostgreSQLTestDatabase, granted sql: (String) -> String, _ body: (String) throws -> Void
    ) throws {
        try database.withRole(granted: sql, body)
    }

    /// The grants of a role that may read and write factpipe's tables in `public` but owns none of them.
    private func mayWriteButOwnsNothing(_ role: String) -> String {
        """
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role);
        GRANT INSERT, UPDATE, DELETE ON facts, factpipe_loads, factpipe_assertions TO \(role);
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
        """
    }

    /// A version 1 database migrates for a role that may write the tables and create in the schema but
    /// owns nothing: only the key function's owner may give it its PL/pgSQL body, so it keeps its SQL one.
    @Test func aVersionOneDatabaseMigratesForARoleThatOwnsNothing() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("A(1).\n", in: work)
        try database.makeSchemaVersionOne()
        let input = try work.write("facts.txt", "A(1).\nA(2).\n")
        try withRole(in: database, granted: { role in
            """
            GRANT CREATE ON SCHEMA public TO \(role);
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
            """
        }) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(int(try run.json(), "inserted") == 1, "\(run.stdoutText)")
            #expect(try database.sql("SELECT value FROM factpipe_meta WHERE key = 'schema_version'") == [["2"]])
            #expect(try database.functionLanguages()
                    == ["factpipe_json_patch": "plpgsql", "factpipe_statement_key": "sql"])
        }
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id") == [["A(1)."], ["A(2)."]])
    }

    /// VACUUM and ANALYZE skip, with a warning, a table the role does not own: optimize refuses in one
    /// line instead of reporting work the server did not do.
    @Test func optimizeByARoleThatOwnsNothingRefusesInOneLine() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\n")
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        try withRole(in: database, granted: { role in
            """
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
            """
        }) { url in
            let run = try Factpipe.run(["optimize", "--db", url])
            #expect(run.status == 1, "\(run.stdoutText)\(run.stderr)")
            let stderr = lines(run.stderr, naming: url)
            #expect(stderr.count == 1, "one line: \(run.stderr)")
            #expect(stderr.first?.contains("optimize needs to own factpipe's tables") == true, "\(run.stderr)")
            #expect(stderr.first?.contains("facts belongs to postgres") == true, "\(run.stderr)")
            #expect(!run.stderr.contains("WARNING"), "\(run.stderr)")
        }
        #expect(try database.int("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'facts'") == 0)
    }

    @Test func aRoleWithoutCreateOnTheSchemaGetsOneLineAndNothingIsCreated() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\n")
        try withRole(in: database, granted: { "REVOKE CREATE ON SCHEMA public FROM PUBLIC, \($0)" }) { url in
            let run = try Factpipe.run(["import", input, "--db", url])
            #expect(run.status == 1, "\(run.stderr)")
            let stderr = lines(run.stderr, naming: url)
            #expect(stderr.count == 1, "one line: \(run.stderr)")
            #expect(stderr.first?.contains("permission denied for schema public") == true, "\(run.stderr)")
        }
        #expect(try database.sql("""
            SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
            """) == [["0"]], "nothing was created")
    }

    @Test func aRoleWithoutInsertOnFactsGetsOneLineAndNothingIsWritten() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("Seed(0).\n", in: work)
        let input = try work.write("facts.txt", "A(1).\nA(2).\nA(3).\n")
        try withRole(in: database, granted: { role in
            """
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT INSERT, UPDATE ON factpipe_loads, factpipe_assertions TO \(role);
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
            """
        }) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--batch-size", "2"])
            #expect(run.status == 1, "\(run.stderr)")
            let stderr = lines(run.stderr, naming: url)
            #expect(stderr.count == 1, "one line: \(run.stderr)")
            #expect(stderr.first?.contains("permission denied for table facts") == true, "\(run.stderr)")
        }
        #expect(try database.sql("SELECT statement FROM facts") == [["Seed(0)."]])
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions") == 0)
        #expect(try database.sql("SELECT status, records, inserted FROM factpipe_loads ORDER BY id")
                == [["done", "1", "1"], ["failed", "0", "0"]])
    }

    /// A role that may write the tables but does not own them cannot drop the secondary indexes before a
    /// load into an empty table: it loads with them in place.
    @Test func aRoleThatMayWriteButOwnsNothingLoadsIntoAnEmptyTable() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("", in: work, name: "empty.txt")
        let input = try work.write("facts.txt", "A(1).\nA(2).\nA(1).\n")
        try withRole(in: database, granted: mayWriteButOwnsNothing) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(int(try run.json(), "inserted") == 2, "\(run.stdoutText)")
        }
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id") == [["A(1)."], ["A(2)."]])
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE tablename = 'facts'") == 4)
    }

    /// A role with a schema of its own (first in the default `search_path`, `"$user", public`) writing
    /// factpipe's tables in `public`: the indexes are looked for where `facts` is, not in its schema (every
    /// load of it failed: the unique index seemed missing, and creating it failed).
    @Test func aRoleWithASchemaOfItsOwnLoadsIntoTheTablesInPublic() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("Seed(0).\n", in: work)
        let input = try work.write("facts.txt", "A(1).\nA(2).\nSeed(0).\n")
        try withRole(in: database, granted: { role in
            "CREATE SCHEMA \(role) AUTHORIZATION \(role);\n" + mayWriteButOwnsNothing(role)
        }) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(int(try run.json(), "inserted") == 2, "\(run.stdoutText)")
            let stats = try Factpipe.run(["stats", "--db", url, "--json"])
            #expect(stats.status == 0, "\(stats.stderr)")
        }
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id") == [["Seed(0)."], ["A(1)."], ["A(2)."]])
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE tablename = 'facts'") == 4)
    }
    /// A backend terminated while factpipe sends it a batch's COPY data says why before it closes the
    /// connection; libpq, busy writing, left that unread, and the one line said only "server closed the
    /// connection unexpectedly". The server's reason and SQLSTATE are in it now.
    @Test func aBackendTerminatedDuringCopyGivesTheServersReason() throws {
        let database = try PostgreSQLTestDatabase()
        let maintenance = try #require(PostgreSQLTestServer.url)
        let work = try CLIWorkspace()
        var facts = 200_000
        var failed: FactpipeRun?
        for attempt in 1...3 {
            let input = work.path("facts-\(facts).ndjson")
            let generate = try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "23", "-o", input, "-q"])
            try #require(generate.status == 0, "\(generate.stderr)")
            _ = try? database.sql("DROP TABLE IF EXISTS facts, factpipe_loads, factpipe_meta, factpipe_assertions")
            let load = try BackgroundProcess(
                BinaryLocator.factpipe, ["import", input, "--db", database.url, "--batch-size", "50000", "-q"])
            var terminated = false
            _ = poll(timeout: 60) {
                terminated = (try? PostgreSQLTestDatabase.psql(maintenance, """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database.name)'
                    AND state = 'active' AND query LIKE 'COPY%'
                    """))?.isEmpty == false
                return terminated || !load.isRunning
            }
            let run = try load.wait()
            if terminated && run.status == 1 {
                failed = run
                break
            }
            Issue.record("attempt \(attempt): the load of \(facts) facts ended (\(run.status)) before its COPY was caught")
            facts *= 2
        }
        let run = try #require(failed)
        #expect(run.stderr.contains("COPY failed: the connection was lost: terminating connection due to administrator "
            + "command"), "\(run.stderr)")
        #expect(run.stderr.contains("(SQLSTATE 57P01)"), "\(run.stderr)")
    }
}
