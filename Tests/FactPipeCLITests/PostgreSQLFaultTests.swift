import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a PostgreSQL load does when the server cannot be reached, refuses it, or the load is killed:
/// one line naming the server without its password and PostgreSQL's reason, exit 1; after `kill -9`,
/// `--resume` finishes exactly.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLFaultTests {
    /// The one line a failed connection prints: the server without password, then libpq's reason.
    private func expectConnectionFailure(
        _ url: String, shown: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\n")
        let run = try Factpipe.run(["import", input, "--db", url])
        #expect(run.status == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n").filter { $0.contains(shown) }
        #expect(lines.count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains(reason) == true, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(!run.stderr.contains("s3cret"), "the password is never shown: \(run.stderr)",
                sourceLocation: sourceLocation)
        let json = try Factpipe.run(["import", input, "--db", url, "--json", "-q"])
        #expect(!json.stdoutText.contains("s3cret") && json.status == 1, "\(json.stdoutText)",
                sourceLocation: sourceLocation)
    }

    @Test func aRefusedConnectionNamesTheServerAndTheReason() throws {
        // A port nothing listens on: bind one, note it, close it.
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)
        close(socket)
        try expectConnectionFailure("postgresql://someone:s3cret@127.0.0.1:\(port)/kb",
                                    shown: "postgresql://someone@127.0.0.1:\(port)/kb", reason: "Connection refused")
    }

    @Test func aWrongPasswordNamesTheServerAndTheReason() throws {
        let database = try PostgreSQLTestDatabase()
        let role = try database.passwordRole()
        let host = database.hostAndPort
        try expectConnectionFailure("postgresql://\(role):s3cret@\(host)/\(database.name)",
                                    shown: "postgresql://\(role)@\(host)/\(database.name)",
                                    reason: "password authentication failed for user \"\(role)\"")
    }

    @Test func aMissingDatabaseNamesTheServerAndTheReason() throws {
        let database = try PostgreSQLTestDatabase()
        let host = database.hostAndPort
        try expectConnectionFailure("postgresql://postgres:s3cret@\(host)/no_such_database?sslmode=disable",
                                    shown: "postgresql://postgres@\(host)/no_such_database",
                                    reason: "database \"no_such_database\" does not exist")
    }

    /// A URL libpq cannot read is refused before any connection (64), with libpq's reason but without what
    /// it quotes (`invalid percent-encoded token: "s3cret%zz"`), and never the password.
    @Test func aPasswordInAMalformedURLIsNeverShown() throws {
        let database = try PostgreSQLTestDatabase()
        let url = "postgresql://postgres:s3cret%zz@\(database.hostAndPort)/kb"
        for json in [false, true] {
            let run = try Factpipe.run(["stats", "--db", url] + (json ? ["--json"] : []))
            #expect(run.status == 64, "\(run.stderr)")
            let said = run.stderr + run.stdoutText
            #expect(said.contains("postgresql://postgres@\(database.hostAndPort)/kb"), "\(said)")
            #expect(said.contains("invalid percent-encoded token"), "\(said)")
            #expect(!said.contains("s3cret"), "\(said)")
        }
    }

    @Test func backupAndRestoreOfAPostgreSQLDatabaseNamePgDump() throws {
        let work = try CLIWorkspace()
        let backup = try Factpipe.run(["backup", "--db", "postgresql://u:s3cret@db.example/kb", "--to", work.path("b")])
        #expect(backup.status == 64 && backup.stderr.contains("pg_dump"), "\(backup.stderr)")
        #expect(!backup.stderr.contains("s3cret"))
        let snapshot = try work.write("x.ndjson.zst", "not really")
        let restore = try Factpipe.run(["restore", snapshot, "--to", "postgres://u:s3cret@db.example/kb"])
        #expect(restore.status == 64 && restore.stderr.contains("pg_dump"), "\(restore.stderr)")
        #expect(!restore.stderr.contains("s3cret"))
    }

    /// Another session, `lock-holder`, holding factpipe's writer lock until it is killed; returned once it holds it.
    private func writerLockHolder(_ database: PostgreSQLTestDatabase) throws -> BackgroundProcess {
        let holder = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url, "-c", "SET application_name = 'lock-holder'", "-c",
            "SELECT pg_advisory_lock(\(0x6670_6970))", "-c", "SELECT pg_sleep(120)",
        ])
        guard poll(timeout: 30, { (try? database.locks("locktype = 'advisory' AND granted")) == 1 }) else {
            holder.killNine()
            throw CLITestFailure(description: "the lock-holder session never held the writer lock")
        }
        return holder
    }

    @Test func aSecondWriterWaitsForTheAdvisoryLockAndNamesTheHolder() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\n")
        let holder = try writerLockHolder(database)
        defer { holder.killNine() }
        let run = try Factpipe.run(["import", input, "--db", database.url, "--wait", "0.3"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("another load is writing to this database") && run.stderr.contains("lock-holder"),
                "\(run.stderr)")
        #expect(try database.sql("SELECT to_regclass('facts') IS NULL") == [["t"]], "nothing was created")
    }

    /// A stop signal while waiting for another load's writer lock ends the import as interrupted (130/143,
    /// `status` `interrupted`), as behind a SQLite database's lock: it said failed, exit 1, and a wrapper took
    /// the user's Ctrl-C for an error.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalWhileWaitingForTheWriterLockInterruptsTheImport(signal: Int32) throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\n")
        let holder = try writerLockHolder(database)
        defer { holder.killNine() }
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", input, "--db", database.url, "--json"])
        defer { load.killNine() }
        try #require(poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'factpipe%'
                AND datname = current_database()
                """)) ?? 0 >= 1
        })
        kill(load.pid, signal)
        let run = try load.wait()
        #expect(run.status == 128 + signal, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "interrupted" && int(json, "exit_code") == Int(128 + signal), "\(json)")
        #expect(run.stderr.contains("interrupted while waiting for another load to finish"), "\(run.stderr)")
    }

    /// After `kill -9` of a load during its index builds the server goes on building them, and the writer
    /// lock is free: the next import built the same index at the same moment and failed (1, "duplicate key
    /// value violates unique constraint pg_class_relname_nsp_index"). A build holds factpipe's builds lock
    /// until its connection closes, and a writer waits for it. Here a session builds `facts_subject` as such
    /// an orphan does, holding that lock, and commits a few seconds later.
    @Test func aLoadWaitsForTheIndexBuildsOfAKilledLoadInsteadOfFailingOnThem() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "A(1).\nA(2).\n")
        #expect(try Factpipe.run(["import", first, "--db", database.url, "-q"]).status == 0)
        // What the killed load left: the index dropped for its bulk load, and its build still running.
        _ = try database.sql("DROP INDEX facts_subject")
        let orphan = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url, "-c", "SET application_name = 'orphan-build'", "-c",
            "SELECT pg_advisory_lock_shared(\(0x6670_6971))", "-c",
            "BEGIN; CREATE INDEX facts_subject ON facts (subject); SELECT pg_sleep(4); COMMIT;",
        ])
        defer { orphan.killNine() }
        let building = poll(timeout: 30) {
            (try? database.int("""
                SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orphan-build' AND query LIKE '%pg_sleep%'
                """)) == 1
        }
        try #require(building)
        let next = try work.write("next.txt", "N(1).\n")
        let run = try Factpipe.run(["import", next, "--db", database.url, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try orphan.wait().status == 0, "the orphan build committed")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY statement") == [["A(1)."], ["A(2)."], ["N(1)."]])
        #expect(try database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1")
                == [["facts_pkey"], ["facts_predicate_subject"], ["facts_statement"], ["facts_subject"]])
        // Waited for so long, the message names the build.
        let held = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url, "-c", "SET application_name = 'orphan-build'", "-c",
            "SELECT pg_advisory_lock_shared(\(0x6670_6971))", "-c", "SELECT pg_sleep(120)",
        ])
        defer { held.killNine() }
        try #require(poll(timeout: 30) {
            (try? database.locks("locktype = 'advisory' AND granted")) == 1
        })
        let refused = try Factpipe.run(["import", first, "--db", database.url, "--force", "--wait", "0.3"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("the server still builds indexes for a load that stopped")
                && refused.stderr.contains("orphan-build"), "\(refused.stderr)")
    }

    /// As in SQLite: a resume checks the rest by the rules its load began with, and a database made before
    /// the ledger had them gets the column from its next load.
    @Test func aResumeGoesOnUnderTheRulesItsLoadBeganWith() throws {
        let victim = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let (input, committed) = try victim.killedLoad(
            work, seed: 33, arguments: ["--batch-size", "500", "--max-arg-length", "400"])
        try #require(committed > 0)
        let refused = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "500", "--resume", "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot be resumed under other rules"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--max-arg-length 400"), "\(refused.stderr)")
        let resumed = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "500", "--resume",
                                        "--max-arg-length", "400", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["done"]])
        // Loaded again under other rules: skipped, saying what the load refused under its own.
        let skipped = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "500"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("was loaded by load 1 from \(input), which refused ")
                && skipped.stderr.contains("records under other rules (--max-args 10, --max-arg-length 400"),
                "\(skipped.stderr)")

        _ = try victim.sql("ALTER TABLE factpipe_loads DROP COLUMN rules")
        let more = try work.write("more.txt", "More(a).\n")
        #expect(try Factpipe.run(["import", more, "--db", victim.url, "-q"]).status == 0)
        #expect(try victim.sql("SELECT rules IS NOT NULL FROM factpipe_loads ORDER BY id") == [["f"], ["t"]])
    }

    @Test func resumeAfterKillNineGivesTheFactsOfAnUninterruptedLoad() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let (input, committed) = try victim.killedLoad(work, seed: 31, arguments: ["--batch-size", "500"])
        try #require(committed > 0)
        // What kill -9 left: the row running, its checkpoint after the last committed batch, those facts stored.
        #expect(try victim.sql("SELECT status FROM factpipe_loads") == [["running"]])
        #expect(try victim.int("SELECT checkpoint_line FROM factpipe_loads") == committed + 1)
        #expect(try victim.int("SELECT count(*) + (SELECT duplicates + rejected FROM factpipe_loads) FROM facts")
                + (try victim.int("SELECT count(*) FROM factpipe_direct_staging")) == committed)

        let resumed = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "500", "--resume",
                                        "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect(json["status"] as? String == "done")
        let whole = try Factpipe.run(["import", input, "--db", reference.url, "--batch-size", "500", "--json", "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        #expect(int(json, "records") == (int(try whole.json(), "records") ?? 0) - committed,
                "the resumed run reads only what was not committed")

        let columns = """
            statement, predicate, subject, object, args::text, arity, confidence, source, context::text,
            fact_metadata::text, created_at = (SELECT started_at FROM factpipe_loads WHERE id = 1)
            """
        let dump = "SELECT \(columns) FROM facts ORDER BY statement COLLATE \"C\""
        #expect(try victim.sql(dump) == (try reference.sql(dump)))
        let ledger = """
            SELECT source, source_size, source_sha256, format, status, records, inserted, updated, duplicates, rejected,
            warnings, checkpoint_offset, checkpoint_line FROM factpipe_loads ORDER BY id
            """
        #expect(try victim.sql(ledger) == (try reference.sql(ledger)))
        // The killed load had dropped the secondary indexes to build them after: they are back.
        let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'facts' ORDER BY 1"
        #expect(try victim.sql(indexes) == (try reference.sql(indexes)))
        #expect(try victim.sql(indexes).count == 4)
    }
}
