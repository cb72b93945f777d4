import Foundation
import Testing

/// One load writes to a database at a time; a second one waits or fails naming the first; readers
/// are never blocked.
@Suite struct WriterLockCommandTests {
    /// Lines of `count` facts named after `seed`, for the loads below.
    private func factLines(_ count: Int, seed: Int, from start: Int = 0) -> String {
        (start..<start + count).map { "Big\(seed)(item\($0), Kind\($0 % 13))." }.joined(separator: "\n") + "\n"
    }

    /// Starts a load into `database` that reads a FIFO the test holds open, writes the first 2,000
    /// facts into it and returns once the load holds the lock and its ledger row is running. Until the
    /// test closes the FIFO, the load cannot finish: it holds the lock for as long as the test needs.
    private func runningLoad(_ work: CLIWorkspace, database: String, seed: Int)
        throws -> (load: BackgroundProcess, input: HeldOpenFIFO)
    {
        let input = try HeldOpenFIFO(work.path("big-\(seed).fifo"))
        let load = try BackgroundProcess(BinaryLocator.factpipe,
                                         ["import", input.path, "--db", database, "--batch-size", "1000", "--json", "-q"])
        try #require(input.openWhenReaderArrives(), "the load did not open its input")
        try input.write(factLines(2_000, seed: seed))
        let lockFile = database + "-factpipe.lock"
        let started = poll(timeout: 30) {
            let text = (try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? ""
            return text.hasPrefix("pid \(load.pid), ")
                && (readOnlyInt(database, "SELECT count(*) FROM factpipe_loads WHERE status = 'running'") ?? 0) == 1
        }
        try #require(started, "the first load did not start")
        return (load, input)
    }

    /// True once `process` has the file at `path` open (read from /proc).
    private func hasOpen(_ process: BackgroundProcess, _ path: String) -> Bool {
        let folder = "/proc/\(process.pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return descriptors.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)")) == path }
    }

    @Test func aSecondLoadWaitsForTheFirstAndThenBothAreDone() throws {
        let work = try CLIWorkspace()
        let (first, bigInput) = try runningLoad(work, database: work.database, seed: 41)
        let small = try work.write("small.txt", (0..<100).map { "Waited(item\($0))." }.joined(separator: "\n") + "\n")
        let second = try BackgroundProcess(BinaryLocator.factpipe,
                                           ["import", small, "--db", work.database, "--wait", "30", "--json", "-q"])
        // The second one opens the lock file and waits: the first cannot finish while its input is open.
        #expect(poll(timeout: 30) { hasOpen(second, work.database + "-factpipe.lock") || !second.isRunning })
        #expect(second.isRunning, "the second load did not wait for the first")
        #expect(first.isRunning)
        #expect(readOnlyInt(work.database, "SELECT count(*) FROM factpipe_loads") == 1, "the second load wrote")
        try bigInput.write(factLines(3_000, seed: 41, from: 2_000))
        bigInput.close()
        let firstRun = try first.wait()
        let secondRun = try second.wait()
        #expect(firstRun.status == 0, "\(firstRun.stderr)")
        #expect(int(try firstRun.json(), "inserted") == 5_000)
        #expect(secondRun.status == 0, "\(secondRun.stderr)")
        #expect(try secondRun.json()["status"] as? String == "done")
        #expect(int(try secondRun.json(), "inserted") == 100)

        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.map { $0["source"] as? String } == [bigInput.path, small])
        #expect(rows.map { $0["status"] as? String } == ["done", "done"])
        let firstFinished = try #require(rows[0]["finished_at"] as? String)
        let secondStarted = try #require(rows[1]["started_at"] as? String)
        let secondFinished = try #require(rows[1]["finished_at"] as? String)
        // It started while the first ran, and wrote only after the first had finished.
        #expect(secondStarted < firstFinished)
        #expect(secondFinished > firstFinished)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE load_id = 2") == 100)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 5_100)
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
    }

    @Test func withWaitZeroASecondLoadFailsAtOnceNamingTheRunningOneAndReadersGoOn() throws {
        let work = try CLIWorkspace()
        let (first, bigInput) = try runningLoad(work, database: work.database, seed: 43)
        let lockText = try String(contentsOfFile: work.database + "-factpipe.lock", encoding: .utf8)
        #expect(lockText.hasPrefix("pid \(first.pid), import of \(bigInput.path) started "), "\(lockText)")

        let small = try work.write("small.txt", "Refused(now).\n")
        let start = Date()
        let refused = try Factpipe.run(["import", small, "--db", work.database, "--wait", "0", "--json"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(elapsed < 5, "took \(elapsed) s")
        let holder = lockText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(refused.stderr.contains("another load is writing to this database (\(holder)); waited 0 s"),
                "\(refused.stderr)")
        #expect(try refused.json()["status"] as? String == "failed")

        // Readers are not blocked: the sqlite3 tool and `factpipe loads`.
        let readStart = Date()
        let count = try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")
        let loads = try Factpipe.run(["loads", "--db", work.database, "--json"])
        let readTime = Date().timeIntervalSince(readStart)
        #expect(loads.status == 0, "\(loads.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: loads.stdout) as? [[String: Any]])
        #expect(list.map { $0["status"] as? String } == ["running"])
        #expect(list.first?["source"] as? String == bigInput.path)
        #expect(count >= 0)
        #expect(readTime < 5)
        // Undo takes the lock too.
        let undo = try Factpipe.run(["undo", "1", "--db", work.database, "--wait", "0"])
        #expect(undo.status == 1)
        #expect(undo.stderr.contains("another load is writing to this database (\(holder))"), "\(undo.stderr)")
        #expect(first.isRunning, "the first load finished while its input was open")

        bigInput.close()
        let firstRun = try first.wait()
        #expect(firstRun.status == 0, "\(firstRun.stderr)")
        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.map { $0["source"] as? String } == [bigInput.path], "the refused load left no ledger row")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement = 'Refused(now).'") == 0)
        // Now it goes through at once.
        #expect(try Factpipe.run(["import", small, "--db", work.database, "--wait", "0", "-q"]).status == 0)
    }

    @Test func theLockIsReleasedWhenTheHolderIsKilled() throws {
        let work = try CLIWorkspace()
        let (first, input) = try runningLoad(work, database: work.database, seed: 47)
        first.killNine()
        input.close()
        try first.wait()
        #expect(first.wasKilled)
        // The lock file stays and still names the dead process, but the kernel dropped the lock.
        #expect(FileManager.default.fileExists(atPath: work.database + "-factpipe.lock"))
        let next = try work.write("next.txt", "After(kill).\n")
        let run = try Factpipe.run(["import", next, "--db", work.database, "--wait", "0", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let lockText = try String(contentsOfFile: work.database + "-factpipe.lock", encoding: .utf8)
        #expect(!lockText.contains("pid \(first.pid),"))
    }
}

/// A signal ends a load that waits for another writer's lock, at once and with the interrupt's exit code.
@Suite struct LockWaitSignalTests {
    /// Another writer's hold of `work`'s lock for as long as the test needs (`flock` and a sleep).
    private func holdLock(_ work: CLIWorkspace) throws -> BackgroundProcess {
        let lockFile = work.database + "-factpipe.lock"
        let holder = try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/flock"), [lockFile, "/bin/sleep", "120"])
        try #require(poll(timeout: 30) {
            (try? Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/flock"), ["-n", lockFile, "true"]).status) == 1
        })
        return holder
    }

    /// Waits until `process` has `work`'s lock file open: it then waits for the lock.
    private func waitUntilItWaits(_ process: BackgroundProcess, _ work: CLIWorkspace) throws {
        let lockFile = work.database + "-factpipe.lock"
        try #require(poll(timeout: 30) {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/fd")) ?? []
            return fds.contains {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/fd/\($0)")) == lockFile
            }
        })
    }

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func aSignalEndsTheWaitForTheLock(signal: Int32, code: Int32) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let holder = try holdLock(work)
        defer { holder.killNine() }
        let input = try work.write("more.txt", "IsA(Cat, Animal).\n")
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", input, "--db", work.database, "--wait", "600"])
        try waitUntilItWaits(load, work)
        let sent = Date()
        kill(load.pid, signal)
        let run = try load.wait()
        #expect(run.status == code, "\(run.stderr)")
        #expect(Date().timeIntervalSince(sent) < 5, "it took \(Date().timeIntervalSince(sent)) s to stop")
        #expect(run.stderr.contains("interrupted while waiting for another load"), "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_loads") == 1)
    }

    /// A run's input whose load a signal stopped in that wait is `interrupted` in `--json`, as its load says
    /// and as the run's status says (it said `failed`).
    @Test func aRunStoppedWhileItWaitsForTheLockSaysItsInputWasInterrupted() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let holder = try holdLock(work)
        defer { holder.killNine() }
        try work.write("more.txt", "IsA(Cat, Animal).\n")
        let pipeline = try work.write("p.toml", """
            name = "p"
            database = "\(work.database)"
            [sources]
            paths = ["more.txt"]

            """)
        let run = try BackgroundProcess(BinaryLocator.factpipe, ["run", pipeline, "--json"])
        try waitUntilItWaits(run, work)
        kill(run.pid, SIGINT)
        let ended = try run.wait()
        #expect(ended.status == 130, "\(ended.stderr)")
        let json = try ended.json()
        #expect(json["status"] as? String == "interrupted")
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.first?["status"] as? String == "interrupted", "\(inputs)")
    }
}
