import Foundation
import Testing

/// What a user's server brings that factpipe did not choose: triggers on `facts`, a role's
/// `statement_timeout`, a database of another encoding, a search path of no schema, a collation that
/// sorts otherwise, a missing index factpipe may not build. Each gives back the facts that went in, or
/// refuses in one line.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLServerSettingsTests {
    private func lines(_ count: Int, from first: Int = 0) -> String {
        (first..<first + count).map { "Holds(box\($0), item\($0)).\n" }.joined()
    }

    /// A database of ten facts whose `facts_subject` index was dropped (a load stopped before it built it).
    private func tenFactsWithoutTheSubjectIndex() throws -> (PostgreSQLTestDatabase, CLIWorkspace) {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed(lines(10), in: work)
        try database.sql("DROP INDEX facts_subject")
        return (database, work)
    }

    /// Another program's transaction holding `facts` in ROW EXCLUSIVE mode (as one that wrote to it) for
    /// `seconds`, started once it holds it: an index build waits for it, a load's COPY and INSERT do not.
    private func holdFacts(_ database: PostgreSQLTestDatabase, seconds: Int) throws -> BackgroundProcess {
        let writer = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url + "?application_name=writer", "-c",
            "SET statement_timeout = 0; SET lock_timeout = 0; BEGIN; LOCK TABLE facts IN ROW EXCLUSIVE MODE; "
                + "SELECT pg_sleep(\(seconds)); COMMIT",
        ])
        let held = poll(timeout: 30) {
            (try? database.locks("""
                relation = 'facts'::regclass AND granted AND mode = 'RowExclusiveLock'
                AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'writer')
                """)) == 1
        }
        if !held { writer.killNine() }
        try #require(held, "the writer never locked facts")
        return writer
    }

    /// True when the load's summary says the missing secondary indexes could not be built, for `reason`.
    private func saysTheIndexesAreMissing(_ run: FactpipeRun, because reason: String) throws -> Bool {
        let notes = try run.json()["notes"] as? [String] ?? []
        return notes.contains { $0.contains("the secondary indexes are missing and could not be built") && $0.contains(reason) }
    }

    /// A database (or role) with `standard_conforming_strings = off` reads a backslash in a string as an
    /// escape: factpipe's own SQL (a pattern's `\(`) failed, and every load was refused. Values with
    /// backslashes, which go as parameters and through COPY, come back as they went in.
    @Test func aServerReadingBackslashesAsEscapesLoadsAsAnyOther() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let name = try #require(try database.sql("SELECT current_database()").first?.first)
        _ = try database.sql("ALTER DATABASE \"\(name)\" SET standard_conforming_strings = off")
        #expect(try database.sql("SHOW standard_conforming_strings") == [["off"]])
        let input = try work.write("in.txt", #"Path(a\b, "c\d")."# + "\n" + lines(5))
        let run = try Factpipe.run(["import", input, "--db", database.url, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 6)
        #expect(try database.sql("SELECT statement FROM facts WHERE predicate = 'Path'") == [[#"Path(a\b, "c\d")."#]])
        let again = try Factpipe.run(["import", input, "--db", database.url, "--force", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 6)
    }

    /// Under `ignore` (the default) a fact another load brought is left as it is: the load found it by
    /// "updating" it to itself, a new version of every such row, which fired the user's update triggers
    /// (a "last modified" one changed every fact of a load that said 0 updated) and bloated the table.
    /// `undo` of the first load still keeps the facts the second brought again.
    @Test func anIgnoreLoadLeavesTheFactsOfOtherLoadsUntouched() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try database.seed(lines(20), in: work)
        try database.sql("""
            CREATE TABLE audit_log(op text, fact_id bigint);
            CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO audit_log VALUES (TG_OP, NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER facts_audit AFTER UPDATE ON facts FOR EACH ROW EXECUTE FUNCTION audit();
            CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN NEW.fact_metadata := NEW.fact_metadata || '{"modified": true}'; RETURN NEW; END $$;
            CREATE TRIGGER facts_stamp BEFORE UPDATE ON facts FOR EACH ROW EXECUTE FUNCTION stamp();
            """)
        let versions = try database.sql("SELECT id, xmin::text FROM facts ORDER BY id")

        let again = try Factpipe.run(["import", input, "--db", database.url, "--force", "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        let counts = try again.json()
        #expect(int(counts, "duplicates") == 20 && int(counts, "updated") == 0, "\(again.stdoutText)")
        let notes = try again.json()["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("facts has triggers of its own (facts_audit, facts_stamp)") }, "\(notes)")
        #expect(try database.int("SELECT count(*) FROM audit_log") == 0)
        #expect(try database.int("SELECT count(*) FROM facts WHERE fact_metadata ? 'modified'") == 0)
        #expect(try database.sql("SELECT id, xmin::text FROM facts ORDER BY id") == versions, "rows rewritten")
        #expect(try database.int("SELECT count(*) FROM factpipe_assertions WHERE load_id = 2") == 20)

        let undo = try Factpipe.run(["undo", "1", "--db", database.url])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 20)
    }

    /// A trigger of the user's that keeps rows out of `facts` during a first load (straight into the table):
    /// the counts are what the server stored, and say so. They counted every row sent as inserted, and the
    /// ledger disagreed with the table.
    @Test func aTriggerThatKeepsRowsOutOfAFirstLoadIsCounted() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("", in: work, name: "empty.txt")
        try database.sql("""
            CREATE FUNCTION skip_odd() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.subject ~ '[13579]$' THEN RETURN NULL; END IF; RETURN NEW; END $$;
            CREATE TRIGGER facts_skip_odd BEFORE INSERT ON facts FOR EACH ROW EXECUTE FUNCTION skip_odd();
            """)
        let input = try work.write("facts.txt", lines(100))
        let run = try Factpipe.run(["import", input, "--db", database.url, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try run.json()
        #expect(int(summary, "inserted") == 50 && int(summary, "duplicates") == 50, "\(run.stdoutText)")
        #expect((summary["notes"] as? [String] ?? []).contains { $0.contains("facts has triggers of its own (facts_skip_odd)") },
                "\(run.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 50)
        #expect(try database.sql("SELECT inserted, duplicates FROM factpipe_loads ORDER BY id DESC LIMIT 1") == [["50", "50"]])
    }

    /// The role's `statement_timeout`, which every batch fits under, does not end the index builds and the
    /// merge of repeats that end a first load: the unique index was left out and no later load, resume,
    /// undo or optimize could go on. Here the builds wait for a reader's lock longer than the timeout.
    @Test func aStatementTimeoutOfTheRoleDoesNotEndTheLoadsOwnIndexBuilds() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("", in: work, name: "empty.txt")
        try database.sql("ALTER DATABASE \(database.name) SET statement_timeout = '400ms'")
        let fifo = try HeldOpenFIFO(work.path("incoming.fifo"))
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", fifo.path, "--db", database.url, "--json", "-q"])
        defer { load.killNine() }
        try #require(fifo.openWhenReaderArrives())
        try fifo.write(lines(50) + lines(2))
        try #require(poll(timeout: 30) {
            (try? database.int("SELECT count(*) FROM pg_class WHERE relname = 'factpipe_direct_staging'")) == 1
        }, "the load never began straight into facts")
        // A program's transaction that wrote to facts: a build waits for it, the load's COPY does not.
        let writer = try holdFacts(database, seconds: 3)
        defer { writer.killNine() }
        try fifo.write(lines(50, from: 50))
        fifo.close()
        let finished = try load.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(int(try finished.json(), "inserted") == 100, "\(finished.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 100)
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE tablename = 'facts'") == 4)
        #expect(try database.int("SELECT count(*) FROM pg_class WHERE relname = 'factpipe_direct_staging'") == 0)
        let more = try Factpipe.run(["import", try work.write("more.txt", lines(5, from: 100)), "--db", database.url, "-q"])
        #expect(more.status == 0, "\(more.stderr)")
    }

    /// The merge that ends a direct load waits for the load's own index builds without a bound, then had the
    /// role's `lock_timeout` again (none): behind another session's lock on `facts` it waited for as long as
    /// that session kept it, past `--wait`. It fails once `--wait` has passed, as every other wait of a load.
    @Test func theMergeAfterADirectLoadsBuildsWaitsNoLongerThanWait() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed("", in: work, name: "empty.txt")
        let fifo = try HeldOpenFIFO(work.path("incoming.fifo"))
        let load = try BackgroundProcess(
            BinaryLocator.factpipe,
            ["import", fifo.path, "--db", database.url, "--wait", "1", "--batch-size", "26", "--json", "-q"])
        defer { load.killNine() }
        try #require(fifo.openWhenReaderArrives())
        // Repeats, for the merge to write into facts.
        try fifo.write(lines(50) + lines(2))
        try #require(poll(timeout: 30) {
            (try? database.int("SELECT count(*) FROM facts")) == 50
        }, "the load never copied its batch straight into facts")
        // A session's share lock on facts, queued behind the load's open batch and granted once it commits.
        let holder = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url + "?application_name=holder", "-c",
            "SET statement_timeout = 0; SET lock_timeout = 0; BEGIN; LOCK TABLE facts IN SHARE MODE; "
                + "SELECT pg_sleep(20); COMMIT",
        ])
        defer { holder.killNine() }
        try #require(poll(timeout: 30) {
            ((try? database.locks("relation = 'facts'::regclass AND mode = 'ShareLock'")) ?? 0) > 0
        }, "the other session never asked for its lock")
        let start = ContinuousClock.now
        fifo.close()
        let finished = try load.wait()
        #expect(finished.status == 1, "\(finished.stderr)")
        #expect(finished.stderr.contains("lock timeout"), "\(finished.stderr)")
        #expect(ContinuousClock.now - start < .seconds(15), "the merge waited for the other session's lock")
        _ = try? database.sql("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'holder'
            """)
        // The next load finishes what this one committed: every fact once, the staged repeats merged.
        let more = try Factpipe.run(["import", try work.write("more.txt", lines(5, from: 100)), "--db", database.url, "-q"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 55)
        #expect(try database.int("SELECT count(*) FROM pg_class WHERE relname = 'factpipe_direct_staging'") == 0)
    }

    /// A secondary index missing that this role may not build (it may write the tables but owns none): the
    /// load is done, with a note, instead of failing on the build before its first record (every load of
    /// the role failed once an index went missing).
    @Test func aMissingIndexTheRoleCannotBuildDoesNotFailItsLoads() throws {
        let (database, work) = try tenFactsWithoutTheSubjectIndex()
        let input = try work.write("facts.txt", lines(3, from: 10))
        try database.withRole(granted: { role in
            """
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT INSERT, UPDATE, DELETE ON facts, factpipe_loads, factpipe_assertions TO \(role);
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
            """
        }) { url in
            let run = try Factpipe.run(["import", input, "--db", url, "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(int(try run.json(), "inserted") == 3, "\(run.stdoutText)")
            #expect(try saysTheIndexesAreMissing(run, because: "must be owner of table facts"), "\(run.stdoutText)")
        }
        #expect(try database.int("SELECT count(*) FROM facts") == 13)
        // The owner's next load builds it.
        #expect(try Factpipe.run(["import", try work.write("more.txt", lines(1, from: 13)), "--db", database.url, "-q"])
                .status == 0)
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE indexname = 'facts_subject'") == 1)
    }

    /// A missing secondary index whose build waits past the role's `lock_timeout` (another program's
    /// transaction holds `facts`): the load goes on and says so (it failed before its first record, like
    /// every load while the program held the table).
    @Test func aMissingIndexWhoseBuildTimesOutOnALockDoesNotFailTheLoad() throws {
        let (database, work) = try tenFactsWithoutTheSubjectIndex()
        try database.sql("ALTER DATABASE \(database.name) SET lock_timeout = '200ms'")
        let writer = try holdFacts(database, seconds: 20)
        defer { writer.killNine() }
        let run = try Factpipe.run(["import", try work.write("more.txt", lines(3, from: 10)), "--db", database.url, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 3, "\(run.stdoutText)")
        #expect(try saysTheIndexesAreMissing(run, because: "lock timeout"), "\(run.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 13)
    }

    /// A factpipe database moved by `pg_dump` into a database of another encoding is refused before a load
    /// writes anything, as a first load into such a database is: a record with a character LATIN1 lacks
    /// failed its whole batch, naming no record, and every resume failed at the same place.
    @Test func aFactpipeDatabaseMovedIntoAnotherEncodingIsRefused() throws {
        let source = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try source.seed("Plain(ascii).\n", in: work)
        let maintenance = try #require(PostgreSQLTestServer.url)
        let latin = "factpipe_latin_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        try PostgreSQLTestDatabase.psql(
            maintenance, "CREATE DATABASE \(latin) ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        defer { _ = try? PostgreSQLTestDatabase.psql(maintenance, "DROP DATABASE IF EXISTS \(latin) WITH (FORCE)") }
        let latinURL = String(source.url.prefix(upTo: try #require(source.url.range(of: "/", options: .backwards)).lowerBound))
            + "/" + latin
        let dump = work.path("dump.sql")
        try Factpipe.tool("/usr/bin/pg_dump", ["--no-owner", "-f", dump, source.url])
        try Factpipe.tool(PostgreSQLTestServer.psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", dump, latinURL])
        #expect(try PostgreSQLTestDatabase.psql(latinURL, "SELECT count(*) FROM facts") == [["1"]])

        let input = try work.write("facts.txt", "Says(café, 😀).\nPlain(more).\n")
        let run = try Factpipe.run(["import", input, "--db", latinURL])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the database's encoding is LATIN1; factpipe needs a UTF8 database"), "\(run.stderr)")
        #expect(try PostgreSQLTestDatabase.psql(latinURL, "SELECT count(*) FROM factpipe_loads") == [["1"]])
        // The plan says so too, as the load would.
        let pipeline = try work.write("nightly.toml", """
            name = "nightly"
            database = "\(latinURL)"
            [sources]
            paths = ["\(input)"]
            """)
        let plan = try Factpipe.run(["run", pipeline, "--dry-run"])
        #expect(plan.status != 0, "\(plan.stdoutText)\(plan.stderr)")
        #expect((plan.stdoutText + plan.stderr).contains("the database's encoding is LATIN1"), "\(plan.stdoutText)\(plan.stderr)")
        // Reading it goes on.
        let stats = try Factpipe.run(["stats", "--db", latinURL, "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
    }

    /// A search path that names no schema that exists: one line saying so, for readers and loads alike
    /// (readers said the database had no facts table, a load "no schema has been selected to create in").
    @Test func aSearchPathOfNoSchemaIsNamed() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.seed(lines(3), in: work)
        try database.sql("ALTER DATABASE \(database.name) SET search_path = ''")
        let input = try work.write("facts.txt", lines(1, from: 3))
        for command in [["stats", "--db", database.url], ["export", "--db", database.url, "-o", work.path("out.ndjson")],
                        ["import", input, "--db", database.url]] {
            let run = try Factpipe.run(command)
            #expect(run.status == 1, "\(command[0]): \(run.stderr)")
            #expect(run.stderr.contains("the search path (\"\") names no schema that exists"),
                    "\(command[0]): \(run.stderr)")
        }
        try database.sql("ALTER DATABASE \(database.name) SET search_path = 'nowhere'")
        let stats = try Factpipe.run(["stats", "--db", database.url])
        #expect(stats.stderr.contains("the search path (nowhere) names no schema"), "\(stats.stderr)")
        #expect(try database.int("SELECT count(*) FROM public.facts") == 3)
        // A schema that is there but that the role may not use is not found either: the message says so.
        try database.sql("ALTER DATABASE \(database.name) RESET search_path; REVOKE ALL ON SCHEMA public FROM PUBLIC")
        try database.withRole(granted: { "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \($0)" }) { url in
            let reader = try Factpipe.run(["stats", "--db", url])
            #expect(reader.status == 1, "\(reader.stderr)")
            #expect(reader.stderr.contains("that this role may use (USAGE)") && reader.stderr.contains("grant USAGE"),
                    "\(reader.stderr)")
        }
    }

    /// The knowledge base in a schema on the role's path that the role may not use (its tables granted, USAGE on
    /// the schema forgotten): the path skipped the schema, and a load made a second, empty knowledge base in
    /// `public`, saying done. Refused, naming the schema, with nothing made.
    @Test func aSchemaOnThePathThatTheRoleMayNotUseIsNamed() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try database.sql("CREATE SCHEMA kb; ALTER DATABASE \(database.name) SET search_path = kb, public")
        try database.seed(lines(3), in: work)
        #expect(try database.int("SELECT count(*) FROM kb.facts") == 3)
        let input = try work.write("facts.txt", lines(1, from: 3))
        try database.withRole(granted: { role in
            """
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA kb TO \(role);
            GRANT USAGE, CREATE ON SCHEMA public TO \(role)
            """
        }) { url in
            for command in [["import", input, "--db", url], ["stats", "--db", url]] {
                let run = try Factpipe.run(command)
                #expect(run.status == 1, "\(command[0]): \(run.stderr)")
                #expect(run.stderr.contains("the search path names the schema kb, which this role may not use"),
                        "\(command[0]): \(run.stderr)")
            }
        }
        #expect(try database.sql("SELECT to_regclass('public.facts') IS NULL") == [["t"]], "no second knowledge base")
        #expect(try database.int("SELECT count(*) FROM kb.facts") == 3)
    }

    /// `stats --top` breaks ties byte for byte, as SQLite does, whatever the database's collation (an ICU
    /// one put `a` before `A`).
    @Test func statsTopBreaksTiesByteForByteUnderAnICUCollation() throws {
        let maintenance = try #require(PostgreSQLTestServer.url)
        let name = "factpipe_icu_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        try PostgreSQLTestDatabase.psql(maintenance, """
            CREATE DATABASE \(name) ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' \
            TEMPLATE template0
            """)
        defer { _ = try? PostgreSQLTestDatabase.psql(maintenance, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        let url = String(maintenance.prefix(upTo: try #require(maintenance.range(of: "/", options: .backwards)).lowerBound))
            + "/" + name
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", ["b", "B", "a", "A"].enumerated().map { index, source in
            "{\"statement\": \"Tie(x\(index)).\", \"source\": \"\(source)\"}\n"
        }.joined())
        #expect(try Factpipe.run(["import", input, "--db", url, "-q"]).status == 0)
        let sqlite = work.path("kb.sqlite")
        #expect(try Factpipe.run(["import", input, "--db", sqlite, "-q"]).status == 0)
        func sources(_ db: String) throws -> [String] {
            let run = try Factpipe.run(["stats", "--db", db, "--top", "4", "--json"])
            let list = try run.json()["sources"] as? [[String: Any]] ?? []
            return list.compactMap { $0["source"] as? String }
        }
        #expect(try sources(url) == ["A", "B", "a", "b"])
        #expect(try sources(url) == (try sources(sqlite)))
    }
}
