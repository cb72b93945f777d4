import Foundation
import Testing

/// `factpipe run`: the example pipelines for real and dry, flags over the file, and bad files.
@Suite struct RunCommandTests {
    private static let pipelines = packageRootURL().appendingPathComponent("pipelines")

    private func pipeline(_ name: String) -> String { Self.pipelines.appendingPathComponent(name).path }

    private var today: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date())
    }

    /// Files (relative paths) in a folder, recursively.
    private func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    /// Runs an example pipeline into `work` with the overrides the brief asks for.
    private func runExample(_ name: String, in work: CLIWorkspace, extra: [String] = []) throws -> FactpipeRun {
        try Factpipe.run([
            "run", pipeline(name), "--db", work.database, "--rejects", work.path("{date}-{source}.ndjson"),
            "--snapshot", work.path("snap-{date}.ndjson.zst"), "--json",
        ] + extra)
    }

    private struct Counts: Equatable {
        var records, inserted, duplicates, rejected, warnings: Int
    }

    private func counts(_ row: [String: Any]) -> Counts {
        Counts(records: int(row, "records") ?? -1, inserted: int(row, "inserted") ?? -1,
               duplicates: int(row, "duplicates") ?? -1, rejected: int(row, "rejected") ?? -1,
               warnings: int(row, "warnings") ?? -1)
    }

    /// What the loads of an example pipeline must have left, whatever the steps after them did.
    private func expectLoads(
        _ work: CLIWorkspace, _ expected: [(source: String, counts: Counts)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { URL(fileURLWithPath: $0["source"] as? String ?? "").lastPathComponent }
            == expected.map(\.source), sourceLocation: sourceLocation)
        #expect(ledger.allSatisfy { $0["status"] as? String == "done" }, sourceLocation: sourceLocation)
        for (row, want) in zip(ledger, expected) {
            #expect(counts(row) == want.counts, "\(want.source)", sourceLocation: sourceLocation)
            expectCountsAddUp(row, sourceLocation: sourceLocation)
            // Each source's rejects in its own file, named after it.
            let stem = want.source.split(separator: ".").first.map(String.init) ?? want.source
            let rejects = work.path("\(today)-\(stem).ndjson")
            let lines = FileManager.default.fileExists(atPath: rejects)
                ? try work.read(URL(fileURLWithPath: rejects).lastPathComponent).split(separator: "\n").count : -1
            #expect(lines == want.counts.rejected, "\(rejects)", sourceLocation: sourceLocation)
        }
        let total = expected.reduce(0) { $0 + $1.counts.inserted }
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == total, sourceLocation: sourceLocation)
    }

    /// The snapshot a run should have written: a zstd file whose import gives back the database's facts.
    private func expectSnapshot(_ work: CLIWorkspace, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let snapshot = work.path("snap-\(today).ndjson.zst")
        guard FileManager.default.fileExists(atPath: snapshot) else {
            Issue.record("no snapshot at \(snapshot); the folder holds \(files(work.url.path))", sourceLocation: sourceLocation)
            return
        }
        try Factpipe.tool("/usr/bin/zstd", ["-q", "-t", snapshot])
        let copy = work.path("from-snapshot.sqlite")
        let run = try Factpipe.run(["import", snapshot, "--db", copy, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)", sourceLocation: sourceLocation)
        let query = "SELECT statement, context, confidence, source, created_at FROM facts ORDER BY statement"
        #expect(try Factpipe.tool("/usr/bin/sqlite3", [copy, query]).stdoutText
            == (try Factpipe.tool("/usr/bin/sqlite3", [work.database, query]).stdoutText), sourceLocation: sourceLocation)
    }

    /// The example's own database and rejects folder stay untouched when --db and --rejects are given.
    private func defaultTargetsUntouched(_ body: () throws -> Void) rethrows {
        let demo = packageRootURL().appendingPathComponent("demo-data").path
        let existed = FileManager.default.fileExists(atPath: demo)
        try body()
        if !existed { #expect(!FileManager.default.fileExists(atPath: demo), "the run wrote to \(demo)") }
    }

    // MARK: The example pipelines, for real

    /// Standard output carries one stream: `--snapshot -` beside `--rejects -` put reject lines into the
    /// snapshot piped on, and either beside `--json` mixed into the one JSON object. Refused before a load.
    /// A database whose folder is missing failed the run only after it had made the rejects files' folders.
    /// Each input's line is written as its load ends, not all at the end: a cron log shows the night as it
    /// goes, and a run killed later (the OOM killer, a reboot) leaves the lines of the inputs it loaded.
    @Test func eachInputsLineIsWrittenAsItsLoadEnds() throws {
        let work = try CLIWorkspace()
        try work.write("a.ndjson", "{\"statement\":\"P(a)\"}\n")
        try #require(try Factpipe.run(["generate", "--facts", "200000", "-o", work.path("b.ndjson"), "-q"]).status == 0)
        let file = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.ndjson\"]\n")
        let log = work.path("cron.log")
        let script = "exec '\(BinaryLocator.factpipe.path)' run '\(file)' 2> '\(log)'"
        var seenWhileRunning = ""
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script]) { process in
            _ = poll(timeout: 60) {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                guard text.contains("a.ndjson: factpipe: done"), process.isRunning else { return !process.isRunning }
                seenWhileRunning = text
                return true
            }
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(seenWhileRunning.contains("a.ndjson: factpipe: done: 1 record"), "the log while b.ndjson loads: \(seenWhileRunning)")
        #expect(!seenWhileRunning.contains("b.ndjson"), "\(seenWhileRunning)")
        let whole = try work.read("cron.log")
        #expect(whole.components(separatedBy: "a.ndjson: ").count - 1 == 1, "each input once: \(whole)")
        #expect(whole.contains("b.ndjson: factpipe: done: 200,000 records"), "\(whole)")
    }

    @Test func aDatabaseInAMissingFolderFailsTheRunBeforeAnyFolderIsMade() throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", "P(a).\n")
        let file = try work.write("p.toml", """
            name = "p"
            database = "missing/kb.sqlite"
            [sources]
            paths = ["a.txt"]
            [load]
            rejects = "rejects/{date}/{source}.ndjson"

            """)
        let run = try Factpipe.run(["run", file])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("/missing does not exist"), "\(run.stderr)")
        #expect(files(work.url.path) == ["a.txt", "p.toml"])
    }

    /// A file where the snapshot's (or a rejects file's) folder should be: the snapshot failed once the loads
    /// were done, and the dry run said all was well. Both refuse it (64) before anything is written (the
    /// database not made).
    @Test(arguments: [("snapshots", "[after]\nsnapshot = \"snapshots/kb-{date}.ndjson.zst\"\n"),
                      ("rej", "[load]\nrejects = \"rej/deeper/{source}.ndjson\"\n")])
    func aFileWhereAnOutputsFolderShouldBeIsRefusedBeforeTheLoads(blocker: String, section: String) throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", "P(a).\n")
        try work.write(blocker, "not a folder\n")
        try expectRefusedBeforeTheLoads(work, section: section, message: "cannot be written: \(work.path(blocker)) is a file, not a folder")
        #expect(files(work.url.path) == ["a.txt", blocker, "p.toml"].sorted())
    }

    /// A folder where the snapshot or a rejects file should be: refused the same way.
    @Test(arguments: [("snap.ndjson.zst", "[after]\nsnapshot = \"snap.ndjson.zst\"\n"),
                      ("a.ndjson", "[load]\nrejects = \"{source}.ndjson\"\n")])
    func aFolderWhereAnOutputShouldBeIsRefusedBeforeTheLoads(folder: String, section: String) throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", "P(a).\n")
        try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: false)
        try expectRefusedBeforeTheLoads(work, section: section, message: "\(work.path(folder)) cannot be written: it is a folder")
        #expect(files(work.url.path) == ["a.txt", folder, "p.toml"].sorted())
    }

    private func expectRefusedBeforeTheLoads(
        _ work: CLIWorkspace, section: String, message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let file = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\"]\n" + section)
        for dryRun in [["--dry-run"], []] {
            let run = try Factpipe.run(["run", file] + dryRun)
            #expect(run.status == 64, "\(dryRun) \(run.stderr)", sourceLocation: sourceLocation)
            #expect(run.stderr.contains(message), "\(run.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// Also named another way: `/dev/stdout` wrote the rejects, or the snapshot, into the JSON object's stream.
    @Test(arguments: [
        ["--rejects", "-", "--snapshot", "-"], ["--json", "--snapshot", "-"], ["--json", "--rejects", "-"],
        ["--json", "--rejects", "/dev/stdout"], ["--json", "--snapshot", "/proc/self/fd/1"],
    ])
    func twoStreamsOnStandardOutputAreRefused(flags: [String]) throws {
        // (An empty override, as an unset variable gives, is refused as well, before anything is loaded.)
        for option in ["--rejects", "--snapshot"] {
            let work = try CLIWorkspace()
            try work.write("a.txt", "P(a).\n")
            let file = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\"]\n")
            let empty = try Factpipe.run(["run", file, option, ""])
            #expect(empty.status == 64, "\(option) \"\": \(empty.stderr)")
            #expect(empty.stderr.contains("\(option) needs a file path (an unset variable?)"), "\(empty.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.database))
        }
        let work = try CLIWorkspace()
        try work.write("a.txt", "P(a).\nnot a fact\n")
        let file = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\"]\n")
        let run = try Factpipe.run(["run", file] + flags)
        #expect(run.status == 64, "\(flags): \(run.stderr)")
        #expect(run.stderr.contains("would all write to standard output"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database))
        // One stream alone is fine: the snapshot on standard output is the facts and nothing else.
        let alone = try Factpipe.run(["run", file, "--snapshot", "-", "-q"])
        #expect(alone.status == 2, "\(alone.stderr)")
        #expect(alone.stdoutText.split(separator: "\n").map(String.init)
            == [#"{"statement":"P(a).","confidence":1.0,"source":null,"context":{},"fact_metadata":{},"created_at":"#
                + (alone.stdoutText.components(separatedBy: #""created_at":"#).last ?? "")
                    .trimmingCharacters(in: .newlines)], "\(alone.stdoutText)")
    }

    @Test func migrateKnowledgeBasePipelineRuns() throws {
        let work = try CLIWorkspace()
        var run: FactpipeRun?
        try defaultTargetsUntouched { run = try runExample("migrate-knowledge-base.toml", in: work) }
        let result = try #require(run)
        try expectLoads(work, [
            ("hexagonal_kb-2025-09-15.db.zst", Counts(records: 4_244, inserted: 4_237, duplicates: 2, rejected: 5, warnings: 41)),
            ("kb_statements.txt", Counts(records: 18_160, inserted: 13_915, duplicates: 4_240, rejected: 5, warnings: 0)),
        ])
        let json = try result.json()
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["decision"] as? String } == ["load", "load"])
        // After the loads: optimize, then the snapshot. Done with rejects: exit 2.
        #expect(json["status"] as? String == "done", "\(json["message"] ?? "")")
        #expect((json["steps"] as? [String])?.count == 2, "\(json["steps"] ?? "")")
        #expect(result.status == 2, "\(result.stderr)")
        try expectSnapshot(work)
    }

    @Test func nightlyPipelineRuns() throws {
        let work = try CLIWorkspace()
        var run: FactpipeRun?
        try defaultTargetsUntouched { run = try runExample("nightly-ndjson.toml", in: work) }
        let result = try #require(run)
        try expectLoads(work, [
            ("k_assistant_facts.ndjson", Counts(records: 583, inserted: 435, duplicates: 24, rejected: 124, warnings: 0)),
            ("kb_facts.ndjson", Counts(records: 4_244, inserted: 4_237, duplicates: 2, rejected: 5, warnings: 41)),
        ])
        let json = try result.json()
        #expect(json["status"] as? String == "done", "\(json["message"] ?? "")")
        // The file asks for optimize; --snapshot on the command line adds a snapshot after it.
        #expect((json["steps"] as? [String])?.count == 2, "optimize and the snapshot --snapshot asked for")
        #expect(result.status == 2, "\(result.stderr)")
        // A second run finds both inputs in the ledger and skips them.
        let again = try runExample("nightly-ndjson.toml", in: work)
        let inputs = try #require(try again.json()["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["decision"] as? String } == ["skip", "skip"])
        #expect(try SQLiteFile.ledger(work.database).count == 2)
        // The same day's snapshot was written over, which the first run's step did not say and this one's
        // does (a run with the clock set back replaced an older night's without a word).
        let steps = try #require(try again.json()["steps"] as? [String])
        let first = try #require(try result.json()["steps"] as? [String])
        #expect(!first.joined().contains("replaced"), "\(first)")
        #expect(steps.last?.contains("; it replaced the snapshot made 20") == true, "\(steps)")
    }

    @Test func weeklySnapshotPipelineRuns() throws {
        let work = try CLIWorkspace()
        var run: FactpipeRun?
        try defaultTargetsUntouched { run = try runExample("weekly-snapshot.toml", in: work) }
        let result = try #require(run)
        try expectLoads(work, [
            ("tool_sync_facts.txt", Counts(records: 30, inserted: 30, duplicates: 0, rejected: 0, warnings: 0)),
        ])
        #expect(try SQLiteFile.ledger(work.database).first?["conflict_policy"] as? String == "update")
        let json = try result.json()
        #expect(json["status"] as? String == "done", "\(json["message"] ?? "")")
        #expect((json["steps"] as? [String])?.count == 1, "snapshot")
        #expect(result.status == 0, "\(result.stderr)")
        try expectSnapshot(work)
    }

    // MARK: Dry runs

    @Test(arguments: ["migrate-knowledge-base.toml", "nightly-ndjson.toml", "weekly-snapshot.toml"])
    func aDryRunOfAnExampleWritesNothing(_ name: String) throws {
        let work = try CLIWorkspace()
        let run = try runExample(name, in: work, extra: ["--dry-run"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(files(work.url.path).isEmpty, "a dry run wrote \(files(work.url.path))")
        let json = try run.json()
        #expect(json["dry_run"] as? Bool == true)
        #expect(json["status"] as? String == "done")
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(!inputs.isEmpty)
        #expect(inputs.allSatisfy { $0["decision"] as? String == "load" && $0["load"] == nil })
        #expect((json["steps"] as? [Any])?.isEmpty == true)
        #expect(run.stderr.contains(": would load"), "\(run.stderr)")
    }

    @Test func aDryRunAfterARunSaysWhatWouldBeSkippedAndChangesNothing() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", "Dry(a).\n")
        let file = try work.write("job.toml", """
            name = "job"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt"]
            """)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        try work.write("b.txt", "Dry(b).\n")
        let ledger = try SQLiteFile.ledger(work.database)
        let plan = try Factpipe.run(["run", file, "--dry-run", "--json"])
        #expect(plan.status == 0)
        let inputs = try #require(try plan.json()["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["decision"] as? String } == ["skip", "load"])
        #expect((inputs[0]["reason"] as? String)?.contains("loaded by load 1 from \(input)") == true)
        // The reason the run itself gives (one planner for both).
        #expect(plan.stderr.contains("\(input): would skip — the same content (SHA-256 "), "\(plan.stderr)")
        #expect(plan.stderr.contains("was loaded by load 1 from \(input); --force loads it again"), "\(plan.stderr)")
        #expect(plan.stderr.contains("\(work.path("b.txt")): would load"))
        #expect((try SQLiteFile.ledger(work.database) as NSArray) == (ledger as NSArray))
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }

    @Test func aDryRunOnAnExistingDatabaseLeavesNoNewFilesBesideIt() throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", "Dry(a).\n")
        let file = try work.write("job.toml", """
            name = "job"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt"]
            """)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        let before = files(work.url.path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: work.database))
        let plan = try Factpipe.run(["run", file, "--dry-run", "-q"])
        #expect(plan.status == 0)
        #expect(files(work.url.path) == before, "a dry run left \(Set(files(work.url.path)).subtracting(before))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: work.database)) == bytes)
    }

    // MARK: Flags over the file

    @Test func commandLineFlagsOverrideTheFile() throws {
        let work = try CLIWorkspace()
        // Ten facts, line 11 repeats line 1, five more.
        var lines = (1...10).map { "Over(item\($0))." }
        lines.append("Over(item1).")
        lines += (12...16).map { "Over(item\($0))." }
        try work.write("in.txt", lines.joined(separator: "\n") + "\n")
        let file = try work.write("job.toml", """
            name = "overrides"
            database = "from-file.sqlite"
            [sources]
            paths = ["in.txt"]
            [load]
            on_conflict = "ignore"
            batch_size = 50000
            """)
        let other = work.path("from-flag.sqlite")
        let run = try Factpipe.run(["run", file, "--db", other, "--on-conflict", "fail", "--batch-size", "5", "--json", "-q"])
        // fail: aborted at line 11; batch size 5: lines 1–10 were committed before it.
        #expect(run.status == 3, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("from-file.sqlite")))
        let row = try #require(try SQLiteFile.ledger(other).first)
        #expect(row["conflict_policy"] as? String == "fail")
        #expect(row["status"] as? String == "aborted")
        #expect(int(row, "records") == 10 && int(row, "inserted") == 10)
        #expect((row["message"] as? String)?.contains("in.txt:11: Over(item1). appears earlier in the input") == true,
                "\(row["message"] ?? "")")
        #expect(try run.json()["status"] as? String == "aborted")

        // Without them, the file's settings: ignore, and one batch.
        let plain = try Factpipe.run(["run", file, "--json", "-q"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let fileRow = try #require(try SQLiteFile.ledger(work.path("from-file.sqlite")).first)
        #expect(fileRow["conflict_policy"] as? String == "ignore")
        #expect(int(fileRow, "records") == 16 && int(fileRow, "duplicates") == 1)
    }

    @Test func maxErrorsOnTheCommandLineOverridesTheFile() throws {
        let work = try CLIWorkspace()
        try work.write("in.txt", "Good(a).\nbad one\nbad two\nGood(b).\n")
        let file = try work.write("job.toml", """
            name = "budget"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [load]
            max_errors = 10
            """)
        let run = try Factpipe.run(["run", file, "--max-errors", "1", "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "aborted")
    }

    // MARK: Bad files

    static let badFixtures: [(file: String, expected: String)] = [
        ("bad-unknown-key.toml", ":9: load.batchsize: unknown key; known in this table: atomic, batch_size"),
        ("bad-unknown-table.toml", ":8: [loading]: unknown table; known: [after], [limits], [load], [mapping], [sources]"),
        ("bad-batch-size-string.toml", ":10: load.batch_size: must be an integer, not a string"),
        ("bad-on-conflict.toml", ":9: load.on_conflict: overwrite is not one of ignore, replace, update, fail"),
        ("bad-missing-database.toml", ": database: is required"),
        ("bad-missing-name.toml", ": name: is required"),
        ("bad-missing-sources-paths.toml", ": sources.paths: is required"),
        ("bad-unclosed-string.toml", ":2: string not closed on its line"),
        ("bad-inline-table.toml", ":9: inline tables are not supported; use a [table]"),
        ("bad-dotted-key.toml", ":4: dotted keys are not supported"),
    ]

    @Test(arguments: badFixtures.map(\.file))
    func aBadPipelineFileFailsWithItsLineAndKey(_ name: String) throws {
        let expected = try #require(Self.badFixtures.first { $0.file == name }?.expected)
        let work = try CLIWorkspace()
        let path = work.path(name)
        try FileManager.default.copyItem(atPath: fixturePath("pipelines/\(name)"), toPath: path)
        for extra in [[], ["--dry-run"]] {
            let run = try Factpipe.run(["run", path] + extra)
            #expect(run.status == 1, "\(name) \(extra)")
            #expect(run.stderr.hasPrefix("factpipe run: error: \(path)\(expected)"), "\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        #expect(files(work.url.path) == [name], "a bad file wrote \(files(work.url.path))")
    }

    @Test func aMissingPipelineFileFailsAndUsageErrorsExit64() throws {
        let work = try CLIWorkspace()
        let missing = try Factpipe.run(["run", work.path("none.toml")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("none.toml: cannot read the pipeline file"), "\(missing.stderr)")
        #expect(try Factpipe.run(["run", work.path("none.toml"), "--batch-size", "0"]).status == 64)
        #expect(try Factpipe.run(["run"]).status == 64)
    }

    /// A pipeline given through a pipe — `run <(envsubst < p.toml)`, `run -` — has no folder of its own:
    /// its relative database, sources and rejects are the current directory's. (Resolved against the
    /// pipe's `/dev/fd`, every source was missing and the run failed.)
    @Test(arguments: ["<(cat job.toml)", "- < job.toml"])
    func aPipelineThroughAPipeResolvesItsPathsInTheCurrentFolder(_ given: String) throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming"), withIntermediateDirectories: false)
        try work.write("incoming/a.txt", "P(a).\nnot a statement\nP(b).\n")
        try work.write("job.toml", """
            name = "piped"
            database = "kb.sqlite"
            [sources]
            paths = ["incoming/*.txt"]
            [load]
            rejects = "rejects/{source}.ndjson"
            """)
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), [
            "-c", "cd '\(work.url.path)' && '\(BinaryLocator.factpipe.path)' run \(given) --json; echo \"exit=$?\" >&2",
        ])
        #expect(run.stderr.contains("exit=2"), "\(run.stderr)")
        #expect(try run.json()["status"] as? String == "done", "\(run.stdoutText)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id") == ["P(a).", "P(b)."])
        #expect(try work.read("rejects/a.ndjson").split(separator: "\n").count == 1)
        #expect(try SQLiteFile.strings(work.database, "SELECT source FROM factpipe_loads") == ["incoming/a.txt"])
    }

    /// Sources a run cannot load as asked fail it in one line before any lock or write: a file named
    /// without wildcards that is not there (a run that loads nothing said "done"), and a FIFO a pattern
    /// matches (the run blocked on it forever, its writer lock held). A pattern that matches nothing is
    /// a quiet night: done.
    @Test func aMissingNamedSourceOrAFIFOFailsTheRunAndAnEmptyPatternDoesNot() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming"), withIntermediateDirectories: false)
        func pipeline(_ paths: String) throws -> String {
            try work.write("job.toml", "name = \"nightly\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\(paths)]\n")
        }
        let missing = try Factpipe.run(["run", try pipeline(#""incoming/today.ndjson""#), "--quiet"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("incoming/today.ndjson: no such file"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))

        let quiet = try Factpipe.run(["run", try pipeline(#""incoming/*.ndjson""#), "--json"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(try quiet.json()["status"] as? String == "done")

        #expect(mkfifo(work.path("incoming/stray.ndjson"), 0o600) == 0)
        let fifo = try Factpipe.run(["run", try pipeline(#""incoming/*.ndjson""#), "--quiet"])
        #expect(fifo.status == 1)
        #expect(fifo.stderr.contains("stray.ndjson: not a regular file"), "\(fifo.stderr)")
    }

    /// A file in the drop folder whose name is not UTF-8 failed every run with "cannot read it: No such file
    /// or directory" (its name read back with U+FFFD): the run now says what is wrong with it, and a dry run
    /// too, before anything is created.
    @Test func aFileWhoseNameIsNotUTF8FailsTheRunNamingItsBytes() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming"), withIntermediateDirectories: false)
        _ = try work.write("incoming/b.ndjson", #"{"statement":"P(b)."}"# + "\n")
        let latin1 = Array(work.path("incoming/caf").utf8).map { CChar(bitPattern: $0) }
            + [CChar(bitPattern: 0xE9)] + Array(".ndjson".utf8CString)
        let fd = open(latin1, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        close(fd)
        let file = try work.write("job.toml", "name = \"nightly\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"incoming/*.ndjson\"]\n")
        for extra in [[], ["--dry-run"]] {
            let run = try Factpipe.run(["run", file, "--quiet"] + extra)
            #expect(run.status == 1, "\(extra)")
            #expect(run.stderr.contains("incoming/caf\\xE9.ndjson: its name is not UTF-8"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))
        }
    }

    /// A pattern whose folder is not there fails the run (a typo, or a drop folder gone, made a quiet
    /// night of 0 loads), before anything is created; an empty folder that is there stays a quiet night.
    @Test func aPatternInAFolderThatIsNotThereFailsTheRun() throws {
        let work = try CLIWorkspace()
        let file = try work.write("job.toml", "name = \"nightly\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"incomming/*.ndjson\"]\n")
        let typo = try Factpipe.run(["run", file, "--quiet"])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("incomming/*.ndjson: no such folder "), "\(typo.stderr)")
        #expect(typo.stderr.contains("incomming (the folder a pattern's wildcards look in must exist"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))
        try FileManager.default.createDirectory(atPath: work.path("incomming"), withIntermediateDirectories: false)
        #expect(try Factpipe.run(["run", file, "--quiet"]).status == 0)
    }

    /// The rejects file of a template without `{source}`, and the `--report` file, where the sources'
    /// wildcards match them, are the run's own: every later run left them out instead of failing (64).
    @Test func aRejectsOrReportFileAmongTheSourcesDoesNotFailTheNextRun() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: false)
        _ = try work.write("in/a.ndjson", #"{"statement":"IsA(x, y)."}"# + "\n")
        let file = try work.write("job.toml", """
            name = "nightly"
            database = "kb.sqlite"
            [sources]
            paths = ["in/*"]
            [load]
            rejects = "in/rejects.ndjson"
            """)
        let report = work.path("in/report.json")
        let first = try Factpipe.run(["run", file, "--quiet", "--report", report])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.path("in/rejects.ndjson")))
        _ = try work.write("in/b.ndjson", #"{"statement":"IsA(n, y)."}"# + "\n" + #"{"statement":"broken("}"# + "\n")
        let second = try Factpipe.run(["run", file, "--quiet", "--report", report])
        #expect(second.status == 2, "\(second.stderr)")
        let sources = try SQLiteFile.strings(work.database, "SELECT source FROM factpipe_loads ORDER BY id")
        #expect(sources.map { ($0 as NSString).lastPathComponent } == ["a.ndjson", "b.ndjson"], "\(sources)")
        #expect(try work.read("in/rejects.ndjson").contains("broken("))
        let third = try Factpipe.run(["run", file, "--quiet", "--report", report])
        #expect(third.status == 0, "\(third.stderr)")
        // A report or metrics path that names a user's input is an input: refused, not written over it.
        for option in ["--report", "--metrics-file"] {
            let input = try work.write("in/c.ndjson", #"{"statement":"IsA(c, y)."}"# + "\n")
            let refused = try Factpipe.run(["run", file, "--quiet", option, input])
            #expect(refused.status == 64, "\(option): \(refused.stderr)")
            #expect(try work.read("in/c.ndjson") == #"{"statement":"IsA(c, y)."}"# + "\n")
        }
    }

    /// The report and the metrics file are written once the run is over: one that names the run's rejects
    /// file, its snapshot or a file beside the snapshot is refused before anything is loaded. (It replaced
    /// them, and the run said done.)
    @Test func aReportOrMetricsFileThatIsARejectsFileOrTheSnapshotIsRefused() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "P(a).\nnot a fact\nP(b).\n")
        let file = try work.write("p.toml", """
            name = "x"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [load]
            rejects = "rej-{source}.ndjson"
            [after]
            snapshot = "snap.ndjson.zst"
            """)
        for option in ["--report", "--metrics-file"] {
            for output in ["rej-in.ndjson", "snap.ndjson.zst", "snap.ndjson.zst.sha256", "snap.ndjson.zst.manifest.json"] {
                let refused = try Factpipe.run(["run", file, "--quiet", option, work.path(output)])
                #expect(refused.status == 64, "\(option) \(output): \(refused.stderr)")
                #expect(refused.stderr.contains("give each its own file"), "\(refused.stderr)")
            }
            let named = try Factpipe.run(["run", file, "--quiet", "--rejects", work.path("r.ndjson"), option, work.path("r.ndjson")])
            #expect(named.status == 64, "\(option) --rejects: \(named.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: work.database))
        // Once loaded, the rejects file holds its reject and the snapshot is one: a report beside them is refused too.
        let run = try Factpipe.run(["run", file, "--quiet", "--report", work.path("report.json")])
        #expect(run.status == 2, "\(run.stderr)")
        let again = try Factpipe.run(["run", file, "--quiet", "--report", work.path("rej-in.ndjson")])
        #expect(again.status == 64, "\(again.stderr)")
        #expect(try work.read("rej-in.ndjson").contains("not a fact"))
        let verified = try Factpipe.run(["verify", work.path("snap.ndjson.zst")])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// Rejects written into a dated folder under the sources' folder are the pipeline's own files: the
    /// next run does not load them as input (their template's folder was left relative and never matched).
    @Test func rejectsInADatedFolderAmongTheSourcesAreNotLoadedTheNextNight() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming/batch1"), withIntermediateDirectories: true)
        _ = try work.write("incoming/batch1/a.ndjson", #"{"statement":"A(1)."}"# + "\n" + #"{"statement":"broken("}"# + "\n")
        try FileManager.default.createDirectory(atPath: work.path("pipelines"), withIntermediateDirectories: false)
        let file = try work.write("pipelines/job.toml", """
            name = "nightly"
            database = "../kb.sqlite"
            [sources]
            paths = ["../incoming/*/*.ndjson"]
            [load]
            rejects = "../incoming/{date}/rejected-{source}.ndjson"
            """)
        let first = try Factpipe.run(["run", file, "--json"])
        #expect(first.status == 2, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.path("incoming/\(today)/rejected-a.ndjson")))
        let second = try Factpipe.run(["run", file, "--dry-run", "--json"])
        let inputs = try #require(try second.json()["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["source"] as? String }.map { $0.hasSuffix("incoming/batch1/a.ndjson") } == [true],
                "\(inputs)")
    }

    /// An input loaded on an earlier night is skipped: with `{date}` in the rejects template, every night
    /// left an empty rejects file (and a dated folder) for every such input. A skipped input's empty rejects
    /// file and the folder made for it go; a loaded input's stays, even empty.
    @Test func aSkippedInputLeavesNoEmptyRejectsFile() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: false)
        _ = try work.write("in/a.ndjson", #"{"statement":"A(1)."}"# + "\n")
        let file = try work.write("job.toml", """
            name = "nightly"
            database = "kb.sqlite"
            [sources]
            paths = ["in/*.ndjson"]
            [load]
            rejects = "rejects/{date}/{source}.ndjson"
            """)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        #expect(try work.read("rejects/\(today)/a.ndjson").isEmpty)
        try FileManager.default.removeItem(atPath: work.path("rejects"))
        let again = try Factpipe.run(["run", file, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let inputs = try #require(try again.json()["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["decision"] as? String } == ["skip"])
        #expect(!FileManager.default.fileExists(atPath: work.path("rejects/\(today)")), "an empty rejects folder stayed")
        #expect(FileManager.default.fileExists(atPath: work.path("rejects")))

        // Nor does an input refused before its load began (a header alone), night after night.
        _ = try work.write("in/b.ndjson", "statement,confidence\n")
        let refused = try Factpipe.run(["run", file, "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("rejects/\(today)")), "an empty rejects folder stayed")
    }

    /// A file named as the rejects template would name one is left out only when it is a rejects file;
    /// a file named as the snapshot template would name one only when it is a factpipe snapshot. By name
    /// alone, a user's `facts-extra.ndjson` beside rejects named `{source}-{date}.ndjson` was left out
    /// without a word (exit 0, nothing loaded), and a user's file named like today's snapshot was left out
    /// and then replaced by it.
    @Test func filesNamedLikeThePipelinesOwnAreLoadedUnlessTheyAreItsOwn() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming"), withIntermediateDirectories: false)
        try work.write("incoming/facts-2025-12-05.ndjson", #"{"statement":"D1(a)."}"# + "\n")
        try work.write("incoming/facts-extra.ndjson", #"{"statement":"D2(a)."}"# + "\n" + #"{"statement":"bad("}"# + "\n")
        let rejectsJob = try work.write("rejects.toml", """
            name = "nightly"
            database = "kb.sqlite"
            [sources]
            paths = ["incoming/*.ndjson", "incoming/facts-extra.ndjson"]
            [load]
            rejects = "incoming/{source}-{date}.ndjson"
            """)
        let first = try Factpipe.run(["run", rejectsJob, "--json"])
        #expect(first.status == 2, "\(first.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == ["D1(a).", "D2(a)."])
        #expect(try work.read("incoming/facts-extra-\(today).ndjson").split(separator: "\n").count == 1)
        // The next night: the rejects files now beside the inputs are the pipeline's own, and left out.
        let second = try Factpipe.run(["run", rejectsJob, "--dry-run", "--json"])
        let inputs = try #require(try second.json()["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { ($0["source"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } }
            == ["facts-2025-12-05.ndjson", "facts-extra.ndjson"], "\(inputs)")

        // A user's file where today's snapshot goes is an input the snapshot would replace: refused, kept.
        try FileManager.default.createDirectory(atPath: work.path("data"), withIntermediateDirectories: false)
        try work.write("data/other.ndjson", #"{"statement":"K2(a)."}"# + "\n")
        let plain = try work.write("user.ndjson", #"{"statement":"USERDATA(a)."}"# + "\n")
        try Factpipe.tool("/usr/bin/zstd", ["-q", "-f", plain, "-o", work.path("data/kb-\(today).ndjson.zst")])
        let before = try sha256sum(work.path("data/kb-\(today).ndjson.zst"))
        let snapshotJob = try work.write("snapshot.toml", """
            name = "weekly"
            database = "kb2.sqlite"
            [sources]
            paths = ["data/*"]
            [after]
            snapshot = "data/kb-{date}.ndjson.zst"
            """)
        let refused = try Factpipe.run(["run", snapshotJob])
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("is the input"), "\(refused.stderr)")
        #expect(try sha256sum(work.path("data/kb-\(today).ndjson.zst")) == before)
        // A factpipe snapshot named by the template (an earlier night's) is the pipeline's own: left out.
        try FileManager.default.removeItem(atPath: work.path("data/kb-\(today).ndjson.zst"))
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path("data/kb-2026-01-01.ndjson.zst"), "-q"])
        #expect(export.status == 0, "\(export.stderr)")
        let weekly = try Factpipe.run(["run", snapshotJob, "--json"])
        #expect(weekly.status == 0, "\(weekly.stderr)")
        #expect(try SQLiteFile.strings(work.path("kb2.sqlite"), "SELECT statement FROM facts") == ["K2(a)."])
    }

    /// A source named without wildcards is loaded, or fails the run: never a quiet night. One with a `[`
    /// in its name is that file when no file matches it as a pattern.
    @Test func aSourceNamedOutrightIsLoadedOrFailsTheRun() throws {
        let work = try CLIWorkspace()
        try work.write("data[1].txt", "P(a).\n")
        let brackets = try work.write("brackets.toml", """
            name = "n"
            database = "kb.sqlite"
            [sources]
            paths = ["data[1].txt"]
            """)
        let run = try Factpipe.run(["run", brackets, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts") == ["P(a)."])
        let itself = try work.write("itself.toml", """
            name = "n"
            database = "kb.sqlite"
            [sources]
            paths = ["kb.sqlite"]
            """)
        let refused = try Factpipe.run(["run", itself])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("kb.sqlite: is the database: a pipeline never loads its own files"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("no input matches"), "\(refused.stderr)")
    }

    @Test func keepSnapshotsRemovesOnlyOlderSnapshotsOfTheSameDatabase() throws {
        let work = try CLIWorkspace()
        let file = work.path("weekly.toml")
        try """
            name = "retention"
            database = "\(work.database)"
            [sources]
            paths = ["\(fixturePath("hakgal/tool_sync_facts.txt"))"]
            [after]
            snapshot = "\(work.path("snap-{date}.ndjson.zst"))"
            keep_snapshots = 1
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let first = try Factpipe.run(["run", file, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        let current = work.path("snap-\(today).ndjson.zst")
        // An older snapshot of the same database, another database's snapshot, and a stray file.
        try FileManager.default.copyItem(atPath: current, toPath: work.path("snap-2020-01-01.ndjson.zst"))
        try FileManager.default.copyItem(atPath: current + ".sha256", toPath: work.path("snap-2020-01-01.ndjson.zst.sha256"))
        let other = try CLIWorkspace()
        #expect(try Factpipe.run(["import", fixturePath("hakgal/tool_sync_facts.txt"), "--db", other.database, "-q"])
            .status == 0)
        #expect(try Factpipe.run(["export", "--db", other.database, "-o", work.path("snap-2019-01-01.ndjson.zst"), "-q"])
            .status == 0)
        try "not an archive".write(toFile: work.path("snap-notes.ndjson.zst"), atomically: true, encoding: .utf8)

        let second = try Factpipe.run(["run", file, "--force", "--json", "-q"])
        #expect(second.status == 0, "\(second.stderr)")
        let steps = try #require(try second.json()["steps"] as? [String])
        #expect(steps.last?.contains("removed 1 older (keeping 1)") == true, "\(steps)")
        #expect(!FileManager.default.fileExists(atPath: work.path("snap-2020-01-01.ndjson.zst")))
        #expect(!FileManager.default.fileExists(atPath: work.path("snap-2020-01-01.ndjson.zst.sha256")))
        for kept in [current, work.path("snap-2019-01-01.ndjson.zst"), work.path("snap-notes.ndjson.zst")] {
            #expect(FileManager.default.fileExists(atPath: kept), "\(kept)")
        }
    }

    /// The ledger's `rules` name the pipeline file's `[mapping]` table as the file names it (they said `[fields]`,
    /// a table no pipeline file has). A load recorded so by an earlier release is judged by the same rules.
    @Test func theRulesOfALoadNameItsMappingAsThePipelineFileDoes() throws {
        let work = try CLIWorkspace()
        try work.write("in.csv", "statement,conf\n\"B(1)\",0.5\n\"not a statement\",0.5\n")
        let pipeline = try work.write("p.toml", """
            name = "m"
            database = "\(work.database)"
            [sources]
            paths = ["in.csv"]
            [mapping]
            conf = "confidence"
            """)
        #expect(try Factpipe.run(["run", pipeline, "-q"]).status == 2)
        let rules = try SQLiteFile.strings(work.database, "SELECT rules FROM factpipe_loads")
        #expect(rules.count == 1 && rules[0].hasSuffix(", [mapping] conf = confidence"), "\(rules)")
        let same = try Factpipe.run(["run", pipeline, "--dry-run"])
        #expect(same.stderr.contains("would skip — the same content") && !same.stderr.contains("other rules"), "\(same.stderr)")
        try RawDatabase(work.database).execute("UPDATE factpipe_loads SET rules = replace(rules, '[mapping]', '[fields]')")
        let earlier = try Factpipe.run(["run", pipeline, "--dry-run"])
        #expect(earlier.stderr == same.stderr, "\(earlier.stderr)")
    }

    /// A `[mapping]` target written in capitals was taken by the file's check and then matched no field of an
    /// NDJSON record: its confidence became 1.0 and its source nothing, the values kept in metadata, exit 0,
    /// while the CSV beside it loaded right. Targets and input names are matched whatever their case.
    @Test func aMappingSpeltInCapitalsMapsNDJSONFieldsAsItMapsCSVColumns() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: false)
        try work.write("in/a.ndjson", "{\"statement\": \"A(1)\", \"Conf\": 0.25, \"origin\": \"wiki\"}\n")
        try work.write("in/b.csv", "statement,conf,ORIGIN\n\"B(1)\",0.5,book\n")
        let pipeline = try work.write("p.toml", """
            name = "m"
            database = "\(work.database)"
            [sources]
            paths = ["in/*"]
            [mapping]
            conf = "Confidence"
            Origin = "Source"
            """)
        let run = try Factpipe.run(["run", pipeline, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.strings(work.database, """
            SELECT statement || ' ' || confidence || ' ' || source || ' ' || fact_metadata FROM facts ORDER BY statement
            """) == ["A(1). 0.25 wiki {}", "B(1). 0.5 book {}"])
    }
}
