import Foundation
import Testing

/// What failing commands print: one JSON object under `--json`, and usage errors that say what is wrong.
@Suite struct CommandErrorOutputTests {
    /// A failing run of each command that takes `--json`, and what its error must mention.
    private static func failingCommands(_ work: CLIWorkspace) -> [(arguments: [String], mentions: String)] {
        let missing = work.path("missing/kb.sqlite")
        return [
            (["run", work.path("missing.toml"), "--json"], "missing.toml"),
            (["loads", "--db", missing, "--json"], "kb.sqlite"),
            (["undo", "3", "--db", missing, "--json"], "kb.sqlite"),
            (["optimize", "--db", missing, "--json"], "kb.sqlite"),
            (["stats", "--db", missing, "--json"], "kb.sqlite"),
            (["scale-test", "--facts", "10", "--queries", "1", "--work-dir", work.path("missing"), "--json", "-q"],
             "missing"),
        ]
    }

    @Test func aFailingCommandPrintsItsErrorAsJSONOnStandardOutput() throws {
        let work = try CLIWorkspace()
        for (arguments, mentions) in Self.failingCommands(work) {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            let json = try run.json()
            #expect(json["command"] as? String == arguments[0])
            #expect(json["status"] as? String == "failed")
            #expect(int(json, "exit_code") == 1)
            let message = json["error"] as? String ?? ""
            #expect(message.contains(mentions), "\(arguments): \(message)")
            // The usual line on standard error too, with the same message.
            #expect(run.stderr.contains("factpipe \(arguments[0]): error: \(message)"), "\(run.stderr)")
        }
    }

    /// import prints its summary and the archive commands their error kind, path and message: each carries
    /// `command` and `exit_code` as the others do (a script reading `.exit_code` got null).
    @Test func importAndTheArchiveCommandsFailWithTheirCommandAndExitCode() throws {
        let work = try CLIWorkspace()
        let missing = work.path("missing.ndjson")
        let cases: [([String], String)] = [
            (["import", missing, "--db", work.database, "--json"], "import"),
            (["export", "--db", work.path("none/kb.sqlite"), "-o", work.path("s.ndjson.zst"), "--json"], "export"),
            (["restore", work.path("missing.db.zst"), "--to", work.path("r.sqlite"), "--json"], "restore"),
            (["backup", "--db", work.path("none/kb.sqlite"), "--to", work.url.path, "--json"], "backup"),
        ]
        for (arguments, command) in cases {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            let json = try run.json()
            #expect(json["command"] as? String == command, "\(json)")
            #expect(json["status"] as? String == "failed", "\(json)")
            #expect(int(json, "exit_code") == 1, "\(json)")
        }
        let loaded = try Factpipe.run(["import", try work.write("in.txt", "P(a).\n"), "--db", work.database, "--json"])
        #expect(int(try loaded.json(), "exit_code") == 0)
        // A refused option too gives a kind (it gave ArgumentParser's sentence, "Error: " and all, as `error`).
        let refused = try Factpipe.run(["export", "--db", work.database, "-o", work.path("e.ndjson"), "--level", "3", "--json"])
        #expect(refused.status == 64, "\(refused.stderr)")
        let json = try refused.json()
        #expect(json["error"] as? String == "usage" && json["path"] is NSNull && int(json, "exit_code") == 64, "\(json)")
        #expect((json["message"] as? String)?.hasPrefix("--level 3 compresses only") == true, "\(json)")
    }

    /// `export -o - | reader` stopped by a signal that reaches the reader too (a closed terminal, the process
    /// group's SIGTERM): the export said "interrupted" and then ended by SIGPIPE (141), its failed write taken
    /// for a reader that stopped reading. It ends with the signal's code, as documented.
    @Test func anExportToAPipeStoppedWithItsReaderEndsWithTheSignalsCode() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "20000", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        // The reader reads a little, then stops reading (the export blocks on a full pipe) until the signal.
        let reader = try work.write("reader.sh", "#!/bin/sh\nhead -c 1000 > /dev/null\nsleep 4 < /dev/null\n")
        chmod(reader, 0o755)
        let script = """
            ( '\(BinaryLocator.factpipe.path)' export --db '\(work.database)' -o - 2>'\(work.path("err"))'; \
              echo $? > '\(work.path("rc"))' ) | '\(work.path("reader.sh"))' &
            sleep 1
            kill -TERM $(pgrep -f -- "export --db \(work.database) -o -")
            # Once the export has said "interrupted", its reader goes too: its blocked write then fails.
            for i in $(seq 100); do grep -q interrupted '\(work.path("err"))' && break; sleep 0.02; done
            kill -TERM $(pgrep -f -- '\(work.path("reader.sh"))')
            wait
            """
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        let stderr = try String(contentsOfFile: work.path("err"), encoding: .utf8)
        #expect(try String(contentsOfFile: work.path("rc"), encoding: .utf8) == "143\n", "\(stderr)")
        #expect(stderr.contains("interrupted"), "\(stderr)")
    }

    /// `query … | head` and `export -o - | head`: SIGPIPE ended them with the database open, and its `-wal` and
    /// `-shm` stayed beside it. They end by SIGPIPE still (141, as a filter does), having closed it. `loads`
    /// writes its ledger as it reads it, so a ledger of 3,000 loads is read while its reader stops.
    @Test(arguments: [
        ["query", "--format", "ndjson", "--limit", "0"], ["export", "-o", "-"], ["loads", "--json"], ["loads"],
    ])
    func aReaderThatStopsReadingEndsTheCommandBySIGPIPEWithNoSideFilesLeft(_ command: [String]) throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "5000", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let ledger = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO factpipe_loads(source, conflict_policy, started_at, finished_at, status)
            SELECT source, conflict_policy, started_at, finished_at, status FROM factpipe_loads, n WHERE id = 1
            """])
        #expect(ledger.status == 0, "\(ledger.stderr)")
        let arguments = ([command[0], "--db", work.database] + command.dropFirst()).map { "'\($0)'" }.joined(separator: " ")
        let script = "'\(BinaryLocator.factpipe.path)' \(arguments) | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        #expect(run.stdoutText == "141\n", "\(run.stderr)")
        #expect(!run.stderr.contains("error"), "\(run.stderr)")
        for side in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + side), "\(side) left")
        }
    }

    /// A report that cannot be written fails the command after its work: import printed `exit_code` 0 and
    /// exited 1, export and backup printed `"status":"ok"` and exited 1. One object each, agreeing.
    @Test func aReportThatCannotBeWrittenFailsTheCommandAndItsJSONSaysSo() throws {
        let work = try CLIWorkspace()
        let load = try Factpipe.run(["import", try work.write("in.txt", "P(a).\n"), "--db", work.database, "--json",
                                     "--report", "/dev/full"])
        #expect(load.status == 1, "\(load.stderr)")
        let summary = try load.json()
        #expect(int(summary, "exit_code") == 1 && summary["status"] as? String == "done", "\(summary)")
        #expect((summary["notes"] as? [String])?.first?.contains("report could not be written") == true)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
        for arguments in [["export", "--db", work.database, "-o", work.path("s.ndjson.zst")],
                          ["backup", "--db", work.database, "--to", work.path("backups")]] {
            let run = try Factpipe.run(arguments + ["--json", "--metrics-file", "/dev/full"])
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stdoutText.split(separator: "\n").count == 1, "\(run.stdoutText)")
            let json = try run.json()
            #expect(json["status"] as? String == "failed" && int(json, "exit_code") == 1, "\(json)")
            // The kinds a script matches, as for every other failure of an archive command.
            #expect(json["error"] as? String == "io" && json["path"] as? String == "/dev/full", "\(json)")
            #expect((json["message"] as? String)?.contains("was written and stays") == true, "\(json)")
        }
        #expect(try Factpipe.run(["verify", work.path("s.ndjson.zst"), "-q"]).status == 0)

        let job = try work.write("job.toml", "name = \"n\"\ndatabase = \"run.sqlite\"\n[sources]\npaths = [\"in.txt\"]\n")
        let run = try Factpipe.run(["run", job, "--json", "--report", "/dev/full"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdoutText.split(separator: "\n").count == 1, "\(run.stdoutText)")
        #expect((try run.json()["report_error"] as? String)?.contains("/dev/full") == true, "\(run.stdoutText)")
        #expect(int(try run.json(), "exit_code") == 1)
        let scale = try Factpipe.run(["scale-test", "--facts", "2000", "--queries", "10", "--work-dir", work.url.path,
                                      "--json", "-q", "--report", "/dev/full"])
        #expect(scale.status == 1, "\(scale.stderr)")
        #expect(try scale.json()["status"] as? String == "failed", "\(scale.stdoutText)")
        #expect(try SQLiteFile.int(work.path("run.sqlite"), "SELECT count(*) FROM facts") == 1)
    }

    /// The metrics file is written whatever became of the report, and the other way round: a report that
    /// could not be written left the metrics file with the last run's figures.
    @Test func aMetricsFileIsWrittenWhenTheReportCannotBe() throws {
        let work = try CLIWorkspace()
        let metrics = work.path("kb.prom")
        try work.write("kb.prom", "# the last run's figures\n")
        let load = try Factpipe.run(["import", try work.write("in.txt", "P(a).\nP(b).\n"), "--db", work.database,
                                     "--report", "/dev/full", "--metrics-file", metrics, "-q"])
        #expect(load.status == 1, "\(load.stderr)")
        #expect(load.stderr.contains("/dev/full"), "\(load.stderr)")
        let text = try work.read("kb.prom")
        #expect(!text.contains("the last run's figures") && text.contains(" 2\n"), "\(text)")
        let fifo = work.path("nobody-reads.prom")
        try Factpipe.tool("/usr/bin/mkfifo", [fifo])
        let both = try Factpipe.run(["import", try work.write("more.txt", "P(c).\n"), "--db", work.database,
                                     "--report", "/dev/full", "--metrics-file", fifo, "-q"])
        #expect(both.status == 1, "\(both.stderr)")
        #expect(both.stderr.contains("/dev/full") && both.stderr.contains(fifo), "both are named: \(both.stderr)")
    }

    /// A negative number is taken as the option's value and refused for what it is: `loads --last -1` and
    /// `monitor --interval -1` said "Missing value", as if no number had been given.
    @Test(arguments: [
        (["loads", "--last", "-1"], "--last must be at least 1"),
        (["monitor", "--interval", "-1"], "--interval must be from 0.05 to 3600 seconds"),
        (["monitor", "--max-clients", "-5"], "--max-clients must be from 1 to 10000"),
        (["monitor", "--request-timeout", "-1"], "--request-timeout must be from 0.1 to 3600 seconds"),
    ])
    func aNegativeNumberIsRefusedForWhatItIs(_ arguments: [String], _ said: String) throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(Array(arguments.prefix(1)) + ["--db", work.database] + arguments.dropFirst())
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains(said), "\(run.stderr)")
    }

    @Test func aUsageErrorUnderJSONIsAJSONObjectToo() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["stats", "--db", work.database, "--top", "-1", "--json"])
        #expect(run.status == 64)
        let json = try run.json()
        #expect(int(json, "exit_code") == 64)
        #expect((json["error"] as? String)?.contains("--top and --loads must be 0 or more") == true, "\(json)")
    }

    @Test func negativeNumbersAreNamedAsSuch() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let cases: [([String], String)] = [
            (["import", input, "--db", work.database, "--max-errors", "-1"], "--max-errors must be 0 or more"),
            (["import", input, "--db", work.database, "--batch-size", "-5"], "--batch-size must be at least 1"),
            (["import", input, "--db", work.database, "--workers", "-1"], "--workers must be 0 or more"),
            (["run", work.path("p.toml"), "--max-errors", "-1"], "--max-errors must be 0 or more"),
            (["stats", "--db", work.database, "--loads", "-2"], "--top and --loads must be 0 or more"),
            (["scale-test", "--facts", "-3"], "--facts must be 1 or more"),
            // No facts failed the load after the generator ran ("no record found"); a huge --queries trapped
            // (arithmetic overflow, 132) or aborted reserving its times (134), leaving the generated files.
            (["scale-test", "--facts", "0"], "--facts must be 1 or more"),
            (["scale-test", "--queries", "9223372036854775807"], "--queries must be 0 to 1000000"),
            (["scale-test", "--queries", "10000000000"], "--queries must be 0 to 1000000"),
        ]
        for (arguments, message) in cases {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("Missing value"), "\(arguments): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: work.database))
    }

    @Test func tooManyWorkersAreRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--workers", "1000"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--workers must be at most 64"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database))
        #expect(try Factpipe.run(["import", input, "--db", work.database, "--workers", "64", "-q"]).status == 0)
    }
}
