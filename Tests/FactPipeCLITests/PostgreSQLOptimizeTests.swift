import Foundation
import Testing

/// `optimize --db postgresql://…` against a real server: the steps PostgreSQL has, on factpipe's tables
/// only, the sizes before and after, the writer lock, and the password never shown.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLOptimizeTests {
    /// `lines` facts `Has(xN, yN).` in a text file.
    private func facts(_ work: CLIWorkspace, _ name: String, count: Int, from first: Int = 0) throws -> String {
        var text = ""
        for index in first..<(first + count) { text += "Has(x\(index), y\(index)).\n" }
        return try work.write(name, text)
    }

    @Test func optimizeVacuumsAndAnalyzesFactpipesTablesOnlyAndShowsNoPassword() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let url = database.urlWithPassword
        let load = try Factpipe.run(["import", try facts(work, "in.txt", count: 500), "--db", url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try database.sql("CREATE TABLE other(n integer); INSERT INTO other SELECT generate_series(1, 100)")

        let run = try Factpipe.run(["optimize", "--db", url, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(json["database"] as? String == database.url)
        #expect(json["store"] as? String == "postgresql")
        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps.compactMap { $0["step"] as? String } == ["VACUUM", "ANALYZE", "index check"], "\(steps)")
        #expect(steps.allSatisfy { ($0["seconds"] as? Double).map { $0 >= 0 } == true })
        #expect(json["integrity"] as? [String] == ["ok"] && json["intact"] as? Bool == true)
        let before = try #require(json["before"] as? [String: Any])
        let after = try #require(json["after"] as? [String: Any])
        let tablesBytes = try database.int("""
            SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['facts', 'factpipe_loads', 'factpipe_assertions',
            'factpipe_meta']::regclass[]) AS c
            """)
        #expect(int(before, "file_bytes").map { $0 > 0 } == true, "\(before)")
        #expect(int(after, "file_bytes") == tablesBytes, "\(after)")
        #expect(!run.stdoutText.contains("s3cret") && !run.stderr.contains("s3cret"))

        // The server's own record of what ran: factpipe's tables vacuumed and analyzed, the other one not.
        let recorded = poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('facts', 'factpipe_loads',
                'factpipe_assertions', 'factpipe_meta') AND vacuum_count > 0 AND analyze_count > 0
                """)) == 4
        }
        #expect(recorded)
        #expect(try database.sql("""
            SELECT vacuum_count, analyze_count FROM pg_stat_user_tables WHERE relname = 'other'
            """) == [["0", "0"]])

        let text = try Factpipe.run(["optimize", "--db", url])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdoutText.hasPrefix("optimized \(database.url)\n"), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("index check") && text.stdoutText.contains("tables with their indexes"))
        #expect(!text.stdoutText.contains("s3cret") && !text.stderr.contains("s3cret"))
    }

    /// `--vacuum` is `VACUUM FULL`: the space of deleted rows goes back to the system; `--reindex`
    /// rebuilds the indexes; the facts stay as they were.
    /// A load's writer lock is free the moment its process ends: the load releases it before it closes
    /// its connection. Left to the connection's end, the server process let go of it a moment later, and
    /// an optimize started right after (as `run` does after its loads) sometimes refused, "a load is
    /// writing".
    @Test func optimizeRightAfterALoadFindsTheWriterLockFree() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        for round in 0..<12 {
            let input = try facts(work, "in-\(round).txt", count: 20, from: round * 20)
            let load = try Factpipe.run(["import", input, "--db", database.url, "-q"])
            #expect(load.status == 0, "\(load.stderr)")
            let optimize = try Factpipe.run(["optimize", "--db", database.url, "--json"])
            #expect(optimize.status == 0, "round \(round): \(optimize.stderr)")
        }
    }

    @Test func vacuumFullGivesBackTheSpaceOfDeletedFactsAndReindexRebuilds() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let load = try Factpipe.run(["import", try facts(work, "in.txt", count: 20_000), "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        let deleted = try database.sql("""
            WITH d AS (DELETE FROM facts WHERE id % 4 <> 0 RETURNING 1) SELECT pg_current_xact_id(), count(*) FROM d
            """)
        let deleting = try #require(deleted.first?.first)
        #expect(deleted.first?.last == "15000")
        // VACUUM FULL keeps the deleted rows while a snapshot that may not see the DELETE lives: one taken
        // in this database before it (an autovacuum ANALYZE the load's rows started), or any snapshot
        // taken while a transaction older than the DELETE still runs, in any database of the cluster
        // (another test's): VACUUM FULL's own snapshot would then be as old. Wait until neither is so.
        let noOlderSnapshot = poll(timeout: 240) {
            (try? database.sql("""
                SELECT pg_snapshot_xmin(pg_current_snapshot()) > '\(deleting)'::xid8 AND NOT EXISTS (
                    SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL))
                """)) == [["t"]]
        }
        if !noOlderSnapshot {
            let holders = try database.sql("""
                SELECT pid, datname, application_name, state, xact_start, left(query, 80) FROM pg_stat_activity
                WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL
                """)
            Issue.record("after 240 s a transaction older than the DELETE still runs: \(holders)")
        }
        let kept = try database.sql("SELECT statement FROM facts ORDER BY id")
        let indexFile = try database.sql("SELECT pg_relation_filenode('facts_subject')")

        let run = try Factpipe.run(["optimize", "--db", database.url, "--vacuum", "--reindex", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        let steps = try #require(json["steps"] as? [[String: Any]]).compactMap { $0["step"] as? String }
        #expect(steps == ["REINDEX", "VACUUM FULL", "ANALYZE", "index check"], "\(steps)")
        let beforeSizes = try #require(json["before"] as? [String: Any])
        let afterSizes = try #require(json["after"] as? [String: Any])
        let before = try #require(int(beforeSizes, "file_bytes"))
        let after = try #require(int(afterSizes, "file_bytes"))
        #expect(after < before * 2 / 3, "before \(before), after \(after)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id") == kept)
        #expect(try database.sql("SELECT pg_relation_filenode('facts_subject')") != indexFile, "rebuilt")
    }

    /// A load stopped between dropping the secondary indexes and building them again leaves them out:
    /// optimize builds them.
    @Test func optimizeBuildsTheSecondaryIndexesAStoppedLoadLeftOut() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let load = try Factpipe.run(["import", try facts(work, "in.txt", count: 100), "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try database.sql("DROP INDEX facts_subject")

        let run = try Factpipe.run(["optimize", "--db", database.url, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        let steps = try #require(json["steps"] as? [[String: Any]]).compactMap { $0["step"] as? String }
        #expect(steps == ["VACUUM", "CREATE INDEX facts_subject", "ANALYZE", "index check"], "\(steps)")
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE indexname = 'facts_subject'") == 1)
    }

    /// An index PostgreSQL holds invalid (as a failed `CREATE INDEX CONCURRENTLY` leaves it) fails the
    /// index check with exit 1 naming it; `--reindex` rebuilds it valid.
    @Test func anInvalidIndexFailsTheCheckAndReindexRepairsIt() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let load = try Factpipe.run(["import", try facts(work, "in.txt", count: 100), "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try database.sql("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'facts_subject'::regclass")

        let check = try Factpipe.run(["optimize", "--db", database.url, "--json"])
        #expect(check.status == 1, "\(check.stderr)")
        let json = try check.json()
        #expect(json["intact"] as? Bool == false, "\(json)")
        #expect(json["integrity"] as? [String] == ["index facts_subject on facts is invalid; --reindex rebuilds it"])
        #expect(check.stderr.contains("the integrity check found problems in \(database.url)"), "\(check.stderr)")

        let repair = try Factpipe.run(["optimize", "--db", database.url, "--reindex"])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(try database.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'facts_subject'::regclass")
            == [["t"]])
    }

    /// As for SQLite: while a load holds the writer lock, optimize refuses at once (exit 1) naming it,
    /// and runs once the load is over.
    @Test func optimizeRefusesWhileALoadHoldsTheWriterLock() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try Factpipe.run(["import", try facts(work, "first.txt", count: 10), "--db", database.url, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        let fifo = try HeldOpenFIFO(work.path("incoming.fifo"))
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", fifo.path, "--db", database.url, "-q"])
        defer { load.killNine() }
        try #require(fifo.openWhenReaderArrives())
        try fifo.write("Held(one).\n")
        let held = poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'factpipe import'
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)) == 1
        }
        try #require(held, "the load never took the writer lock")

        let refused = try Factpipe.run(["optimize", "--db", database.urlWithPassword, "--json"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("refusing to optimize: another load is writing to this database")
            && refused.stderr.contains("factpipe import"), "\(refused.stderr)")
        let failure = try refused.json()
        #expect(failure["status"] as? String == "failed", "\(failure)")
        #expect(!refused.stderr.contains("s3cret") && !refused.stdoutText.contains("s3cret"))

        fifo.close()
        let finished = try load.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 11)
        let after = try Factpipe.run(["optimize", "--db", database.url])
        #expect(after.status == 0, "\(after.stderr)")
    }

    /// Optimize holds the writer lock while it works: a load started meanwhile waits for it (here until
    /// its `--wait` runs out, naming optimize), while `VACUUM FULL` waits for a reader of `facts`.
    @Test func aLoadStartedWhileOptimizeRunsWaitsForIt() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try Factpipe.run(["import", try facts(work, "first.txt", count: 10), "--db", database.url, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        // A reader in an open transaction holds its lock on facts, which VACUUM FULL must wait for.
        let reader = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url + "?application_name=reader", "-c",
            "BEGIN; SELECT count(*) FROM facts; SELECT pg_sleep(120)",
        ])
        defer { reader.killNine() }
        try #require(poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.application_name = 'reader' AND l.relation = 'facts'::regclass AND l.granted
                """)) == 1
        }, "the reader never locked facts")
        let optimize = try BackgroundProcess(BinaryLocator.factpipe, ["optimize", "--db", database.url, "--vacuum"])
        defer { optimize.killNine() }
        try #require(poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_stat_activity WHERE application_name = 'factpipe optimize'
                AND wait_event_type = 'Lock'
                """)) == 1
        }, "optimize never waited for the reader")

        let load = try Factpipe.run(["import", try facts(work, "second.txt", count: 5, from: 10), "--db", database.url,
                                     "--wait", "0.3"])
        #expect(load.status == 1, "\(load.stderr)")
        #expect(load.stderr.contains("another factpipe command is writing to this database")
            && load.stderr.contains("factpipe optimize"), "\(load.stderr)")

        try database.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reader'")
        let optimized = try optimize.wait()
        #expect(optimized.status == 0, "\(optimized.stderr)")
        #expect(optimized.stdoutText.contains("VACUUM FULL"), "\(optimized.stdoutText)")
        let later = try Factpipe.run(["import", work.path("second.txt"), "--db", database.url, "-q"])
        #expect(later.status == 0, "\(later.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 15)
    }

    @Test func optimizeRefusesADatabaseWithoutFactpipesSchemaUntouched() throws {
        let database = try PostgreSQLTestDatabase()
        try database.sql("CREATE TABLE facts(id integer)")
        let run = try Factpipe.run(["optimize", "--db", database.url])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("not a factpipe database"), "\(run.stderr)")
        #expect(try database.sql("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'facts'") == [["0"]])
    }

    /// A load into an empty table builds its indexes on connections of their own, each holding factpipe's
    /// index-builds lock while it builds: let go when the build ends, not when the server process does a
    /// moment after the close, so an `optimize` right after the load is not refused as if a stopped load's
    /// builds still ran.
    @Test func optimizeRightAfterALoadThatBuiltItsIndexesRuns() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", (1...2_000).map { "Built(item\($0))." }.joined(separator: "\n") + "\n")
        for _ in 1...3 {
            let database = try PostgreSQLTestDatabase()
            #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
            let optimize = try Factpipe.run(["optimize", "--db", database.url])
            #expect(optimize.status == 0, "\(optimize.stdout)\(optimize.stderr)")
        }
    }
}

extension PostgreSQLTestDatabase {
    /// `url` with a password in it (`postgres:s3cret@`): the test server trusts its local roles, so the
    /// password is never checked, but factpipe must not show it anywhere.
    var urlWithPassword: String {
        url.replacingOccurrences(of: "://postgres@", with: "://postgres:s3cret@")
    }
}
