import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A server that stops answering (a frozen host: its backend stopped with SIGSTOP) held a load that
/// ignored Ctrl-C and SIGTERM for as long as the server stayed frozen. The first signal still asks for a
/// clean stop; a second ends the process at once, and `--resume` finishes the load exactly.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLFrozenServerTests {
    @Test func aSecondInterruptEndsALoadWaitingOnAFrozenServerAndTheResumeIsExact() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        let generate = try Factpipe.run(["generate", "--facts", "200000", "--seed", "53", "-o", input, "-q"])
        try #require(generate.status == 0, "\(generate.stderr)")
        let arguments = ["--batch-size", "2000"]
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", input, "--db", victim.url, "-q"] + arguments)
        defer { load.killNine() }
        var backend = 0
        let loading = poll(timeout: 60) {
            backend = (try? victim.int("""
                SELECT coalesce(max(pid), 0) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name LIKE 'factpipe%'
                """)) ?? 0
            let committed = (try? victim.int("SELECT coalesce(max(records), 0) FROM factpipe_loads")) ?? 0
            return (backend != 0 && committed > 0) || !load.isRunning
        }
        try #require(loading && load.isRunning && backend != 0, "the load was not under way")
        kill(pid_t(backend), SIGSTOP)
        defer { kill(pid_t(backend), SIGCONT) }
        usleep(300_000)

        kill(load.pid, SIGINT)
        usleep(1_500_000)
        #expect(load.isRunning, "the clean stop waits for the frozen server")
        kill(load.pid, SIGINT)
        #expect(poll(timeout: 10) { !load.isRunning }, "a second SIGINT did not end the load")
        kill(pid_t(backend), SIGCONT)
        let stopped = try load.wait()
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("SIGINT again: stopping at once"), "\(stopped.stderr)")

        let resumed = try Factpipe.run(["import", input, "--db", victim.url, "--resume", "-q"] + arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let whole = try Factpipe.run(["import", input, "--db", reference.url, "-q"] + arguments)
        #expect(whole.status == 0, "\(whole.stderr)")
        let facts = "SELECT statement, confidence FROM facts ORDER BY statement COLLATE \"C\""
        #expect(try victim.sql(facts) == (try reference.sql(facts)))
        let ledger = "SELECT status, records, inserted, duplicates, rejected FROM factpipe_loads"
        #expect(try victim.sql(ledger) == (try reference.sql(ledger)))
    }

    /// A database of one fact whose `facts` another session holds locked, and a workspace.
    private func oneFactLockedByAnotherSession() throws -> (PostgreSQLTestDatabase, CLIWorkspace, FactsLockHolder) {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "P(a, b).\n")
        #expect(try Factpipe.run(["import", first, "--db", database.url, "-q"]).status == 0)
        return (database, work, try FactsLockHolder(database))
    }

    /// A load whose server process waits for another session's lock: the second SIGINT ended the client,
    /// but the server process went on waiting, holding the writer lock, as long as the other session held
    /// its lock (an `undo` then refused: "another load is writing"). The stop now sends a cancel request.
    @Test func aSecondInterruptCancelsTheServersWaitSoTheWriterLockIsFree() throws {
        let (database, work, holder) = try oneFactLockedByAnotherSession()
        defer { holder.release() }
        let second = try work.write("second.txt", "P(c, d).\n")
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", second, "--db", database.url, "-q"])
        defer { load.killNine() }
        let waiting = poll(timeout: 30) {
            ((try? database.locks("locktype = 'advisory' AND granted")) ?? 0) > 0
        }
        try #require(waiting && load.isRunning, "the load did not take the writer lock and wait")
        usleep(300_000)
        kill(load.pid, SIGINT)
        usleep(1_500_000)
        kill(load.pid, SIGINT)
        let stopped = try load.wait()
        #expect(stopped.status == 130, "\(stopped.stderr)")
        let freed = poll(timeout: 10) {
            ((try? database.locks("locktype = 'advisory'")) ?? 1) == 0
        }
        #expect(freed, "the writer lock stayed with the server process")
        #expect(holder.isHolding, "the other session still holds its lock")
    }

    /// A load or an undo behind another session's lock on `facts` (a `LOCK TABLE` in a transaction left open)
    /// waited without a word for as long as the session kept it. It waits `--wait` seconds now, then fails
    /// saying why, and the load goes on with `--resume` once the lock is let go.
    @Test func aLoadBehindAnotherSessionsTableLockFailsAfterItsWaitAndResumes() throws {
        let (database, work, holder) = try oneFactLockedByAnotherSession()
        defer { holder.release() }
        let lines = (1...300).map { "P(n\($0), m)." }.joined(separator: "\n") + "\n"
        let second = try work.write("second.txt", lines)
        let start = ContinuousClock.now
        let load = try Factpipe.run(["import", second, "--db", database.url, "--wait", "1", "-q"])
        #expect(load.status == 1, "\(load.stderr)")
        #expect(ContinuousClock.now - start < .seconds(20), "the load waited for the lock's holder")
        #expect(load.stderr.contains("lock timeout") && load.stderr.contains("another session holds a lock"), "\(load.stderr)")
        let undo = try Factpipe.run(["undo", "1", "--db", database.url, "--wait", "1"])
        #expect(undo.status == 1 && undo.stderr.contains("another session holds a lock"), "\(undo.stderr)")
        #expect(holder.isHolding, "the other session still holds its lock")

        holder.release()
        let resumed = try Factpipe.run(["import", second, "--db", database.url, "--resume", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try database.int("SELECT count(*) FROM facts") == 301)
    }
}

/// Another session that holds `facts`' ACCESS EXCLUSIVE lock, in a transaction of a minute, from the moment
/// it is made; `release()` ends it, its server process too (killing psql leaves that in `pg_sleep`).
private final class FactsLockHolder {
    private let process: BackgroundProcess
    private let database: PostgreSQLTestDatabase

    init(_ database: PostgreSQLTestDatabase) throws {
        self.database = database
        process = try BackgroundProcess(URL(fileURLWithPath: PostgreSQLTestServer.psql), [
            "-X", "-q", database.url + "?application_name=lock-holder", "-c",
            "BEGIN; LOCK TABLE facts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;",
        ])
        let locked = poll(timeout: 30) {
            ((try? database.locks("mode = 'AccessExclusiveLock' AND granted")) ?? 0) > 0
        }
        if !locked { release() }
        try #require(locked, "the other session did not take its lock")
    }

    /// True while the session runs (and holds the lock).
    var isHolding: Bool { process.isRunning }

    func release() {
        process.killNine()
        _ = try? database.sql("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'lock-holder'
            """)
    }
}
