import Foundation
import Testing

/// `run --dry-run` says, input by input, what the run then does: the same planner decides both.
@Suite struct DryRunAgreementTests {
    /// Loads `first` into a new `database`, then imports `input` and kills it with SIGKILL once at least
    /// `afterRecords` are committed; makes the input twice as large and starts again (up to three
    /// times) when the load finished first.
    private func killedImport(first: String, input: String, database: String, afterRecords: Int) throws {
        var count = 200_000
        for attempt in 1...3 {
            for file in [database, database + "-wal", database + "-shm"] {
                try? FileManager.default.removeItem(atPath: file)
            }
            #expect(try Factpipe.run(["import", first, "--db", database, "-q"]).status == 0)
            let generate = try Factpipe.run([
                "generate", "--facts", "\(count)", "--seed", "31", "--format", "ndjson", "-o", input, "-q",
            ])
            try #require(generate.status == 0, "\(generate.stderr)")
            let load = try BackgroundProcess(BinaryLocator.factpipe,
                                             ["import", input, "--db", database, "--batch-size", "1000", "-q"])
            let query = "SELECT coalesce(max(records), 0) FROM factpipe_loads WHERE status = 'running'"
            poll(timeout: 60) { !load.isRunning || (readOnlyInt(database, query) ?? 0) >= afterRecords }
            load.killNine()
            try load.wait()
            if load.wasKilled { return }
            Issue.record("attempt \(attempt): the load of \(count) facts finished before the kill; trying with more")
            count *= 2
        }
        throw CLITestFailure(description: "every load finished before it could be killed")
    }

    private func decisions(_ run: FactpipeRun) throws -> [String] {
        let inputs = try #require(try run.json()["inputs"] as? [[String: Any]])
        return inputs.map { $0["decision"] as? String ?? "?" }
    }

    @Test func aDryRunAfterAKilledLoadSaysWhatTheRunThenDoesInputByInput() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        let done = try work.write("in/2-done.txt", "Loaded(before).\nLoaded(too).\n")
        try work.write("in/3-renamed.txt", "Loaded(before).\nLoaded(too).\n")  // 2's content, another name
        try work.write("in/4-new.txt", "Brand(new).\n")
        try work.write("in/5-new-again.txt", "Brand(new).\n")  // 4's content: loaded earlier in the run
        let big = work.path("in/1-big.ndjson")
        try killedImport(first: done, input: big, database: work.database, afterRecords: 5_000)
        let job = try work.write("job.toml", """
            name = "agree"
            database = "kb.sqlite"
            [sources]
            paths = ["in/*"]
            [load]
            batch_size = 1000
            """)

        let ledgerBefore = try SQLiteFile.ledger(work.database)
        #expect(ledgerBefore.map { $0["status"] as? String } == ["done", "running"])
        let dry = try Factpipe.run(["run", job, "--resume", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let expected = ["resume", "skip", "skip", "load", "skip"]
        #expect(try decisions(dry) == expected)
        let planned = try #require(try dry.json()["inputs"] as? [[String: Any]])
        #expect(planned.map { $0["status"] as? String } == ["planned", "skipped", "skipped", "planned", "skipped"])
        #expect(planned.allSatisfy { $0["load"] == nil })
        #expect(dry.stderr.contains("\(big): would resume — load 2 goes on from line "), "\(dry.stderr)")
        #expect(dry.stderr.contains("\(work.path("in/3-renamed.txt")): would skip — the same content"))
        #expect(dry.stderr.contains("\(work.path("in/5-new-again.txt")): would skip — the same content"))
        // The dry run wrote nothing: the killed load is still as the kill left it.
        #expect((try SQLiteFile.ledger(work.database) as NSArray) == (ledgerBefore as NSArray))

        let real = try Factpipe.run(["run", job, "--resume", "--json", "-q"])
        #expect(real.status == 0 || real.status == 2, "\(real.stderr)")
        #expect(try decisions(real) == expected)
        let ran = try #require(try real.json()["inputs"] as? [[String: Any]])
        #expect(ran.map { $0["status"] as? String } == ["done", "skipped", "skipped", "done", "skipped"])
        // The killed row was continued, not started again; the new input got its own row.
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { $0["status"] as? String } == ["done", "done", "done"])
        #expect(ledger.map { $0["source"] as? String } == [done, big, work.path("in/4-new.txt")])

        // Everything is in the ledger now: a second run would read nothing.
        let again = try Factpipe.run(["run", job, "--dry-run", "--json"])
        #expect(try decisions(again) == ["skip", "skip", "skip", "skip", "skip"])
    }

    /// An input compressed in a way factpipe does not read was "would load" in the dry run, and the run then
    /// failed at it and left the inputs after it untried: the dry run says both now.
    @Test func aDryRunFailsAnXzInputAndSaysTheInputsAfterItAreNotTried() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/1.txt", "First(a).\n")
        // An xz stream's magic number and the start of its header: all the run reads of it.
        try Data([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04, 0xE6, 0xD6, 0xB4, 0x46])
            .write(to: work.url.appendingPathComponent("in/2.txt.xz"))
        try work.write("in/3.txt", "Third(a).\n")
        let job = try work.write("job.toml", "name = \"n\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"in/*\"]\n")
        let dry = try Factpipe.run(["run", job, "--dry-run", "--json"])
        #expect(!FileManager.default.fileExists(atPath: work.database))
        let real = try Factpipe.run(["run", job, "--json"])
        #expect(real.status == 1, "\(real.stderr)")
        #expect(dry.status == real.status, "\(dry.stdoutText)")
        #expect(try decisions(dry) == ["load", "fail", "not_tried"])
        let statuses = try #require(try real.json()["inputs"] as? [[String: Any]]).map { $0["status"] as? String }
        #expect(statuses == ["done", "failed", "not_tried"])
        #expect(dry.stdoutText.contains("is xz-compressed"), "\(dry.stdoutText)")
    }

    /// A failure of the database (its folder missing) is every input's: the dry run said the first would fail
    /// and the run would stop there, though no input is at fault.
    @Test func aDryRunSaysADatabaseFailureOfEveryInput() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/1.txt", "First(a).\n")
        try work.write("in/2.txt", "Second(a).\n")
        let job = try work.write("job.toml", "name = \"n\"\ndatabase = \"missing/kb.sqlite\"\n[sources]\npaths = [\"in/*\"]\n")
        let dry = try Factpipe.run(["run", job, "--dry-run", "--json"])
        #expect(dry.status == 1)
        #expect(try decisions(dry) == ["fail", "fail"], "\(dry.stdoutText)")
        #expect(!dry.stdoutText.contains("would stop"), "\(dry.stdoutText)")
    }

    /// A database the run refuses before it reads a record (here, a file with a second hard link) is
    /// refused by the dry run too, with the run's reason, instead of "would load".
    @Test func aDryRunRefusesTheDatabaseTheRunRefuses() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", "P(a).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        _ = try work.write("a.txt", "P(b).\n")
        try FileManager.default.linkItem(atPath: work.database, toPath: work.path("second-name.sqlite"))
        let job = try work.write("job.toml", "name = \"n\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\"]\n")
        let dry = try Factpipe.run(["run", job, "--dry-run", "--json"])
        let real = try Factpipe.run(["run", job, "--json"])
        #expect(real.status == 1, "\(real.stderr)")
        #expect(dry.status == real.status, "\(dry.stdoutText)")
        #expect(try decisions(dry) == ["fail"])
        #expect(dry.stdoutText.contains("2 hard links"), "\(dry.stdoutText)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }
}
