import Foundation
import Testing

/// No output overwrites an input or the database: every file a command writes is compared with its
/// inputs and its database by file identity, and refused with exit 64 before anything is opened.
@Suite struct OutputPathCommandTests {
    private static let facts = "IsA(Dog, Animal).\nIsA(Cat, Animal).\nnot a fact\n"

    /// Runs factpipe with `arguments`, which must be refused (64) with `text` in what it says.
    private func expectRefused(
        _ arguments: [String], saying text: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let run = try Factpipe.run(arguments)
        #expect(run.status == 64, "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains(text), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
    }

    private func names(_ work: CLIWorkspace) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
    }

    @Test func rejectsNamingAnInputIsRefusedAndTheInputKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        let before = try sha256sum(input)
        for spelling in [input, work.url.path + "/./in.txt"] {
            let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", spelling])
            #expect(run.status == 64, "\(run.stderr)")
            #expect(run.stderr.contains("is the input \(input)"), "\(run.stderr)")
        }
        // A hard link is the same file under another name.
        #expect(link(input, work.path("hard.txt")) == 0)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", work.path("hard.txt")])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(try sha256sum(input) == before)
        #expect(try names(work) == ["hard.txt", "in.txt"])
    }

    @Test func outputsNamingTheDatabaseAreRefusedAndTheDatabaseKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        let more = try work.write("more.txt", "IsA(Fox, Animal).\n")
        try FileManager.default.createSymbolicLink(atPath: work.path("link.sqlite"), withDestinationPath: work.database)
        let before = try sha256sum(work.database)
        for (option, path) in [
            ("--rejects", work.database), ("--report", work.path("link.sqlite")),
            ("--metrics-file", work.url.path + "/./kb.sqlite"), ("--rejects", work.database + "-wal"),
        ] {
            let run = try Factpipe.run(["import", more, "--db", work.database, option, path, "-q"])
            #expect(run.status == 64, "\(option) \(path): \(run.stderr)")
            #expect(run.stderr.contains("\(option) \(path) is the database"), "\(run.stderr)")
        }
        // The database given as an input to itself.
        let itself = try Factpipe.run(["import", work.path("link.sqlite"), "--db", work.database, "-q"])
        #expect(itself.status == 64, "\(itself.stderr)")
        #expect(try sha256sum(work.database) == before)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    /// `-` is the file standard input or output is redirected from or to: `/dev/stdin` as an output
    /// named the input file itself (its real path), and an export appended to the database wrote into it.
    @Test func standardInputAndOutputRedirectedToFilesAreGuardedAsThoseFiles() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        let more = try work.write("more.txt", "IsA(Fox, Animal).\n")
        let before = (input: try sha256sum(more), database: try sha256sum(work.database))
        let binary = BinaryLocator.factpipe.path
        for option in ["--metrics-file", "--report", "--rejects"] {
            let run = try Factpipe.runProcess(
                URL(fileURLWithPath: "/bin/sh"),
                ["-c", "\"$0\" import - --db \"$1\" \(option) /dev/stdin -q < \"$2\"", binary, work.database, more])
            #expect(run.status == 64, "\(option): \(run.stderr)")
            #expect(run.stderr.contains("\(option) /dev/stdin is the input -"), "\(run.stderr)")
        }
        let appended = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "\"$0\" export --db \"$1\" -o - >> \"$1\"", binary, work.database])
        #expect(appended.status == 64, "\(appended.stderr)")
        #expect(appended.stderr.contains("standard output is redirected into a SQLite database (\(work.database))"),
                "\(appended.stderr)")
        let itself = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import - --db \"$1\" -q < \"$1\"", binary, work.database])
        #expect(itself.status == 64, "\(itself.stderr)")
        #expect(try sha256sum(more) == before.input)
        #expect(try sha256sum(work.database) == before.database)
        // A pipe or a terminal is no file: piping facts in and the export out still work.
        let piped = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "cat \"$2\" | \"$0\" import - --db \"$1\" -q && \"$0\" export --db \"$1\" -o - | wc -l",
             binary, work.database, more])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }

    /// A FIFO as the metrics file with no process reading it: the load is kept and the command ends at
    /// once with one line, instead of waiting for a reader with Ctrl-C set aside.
    /// `-` is standard output to the check of outputs against inputs, but `--report` and `--metrics-file`
    /// are files written under a temporary name and renamed: `--report -` made a file named `-`, and so
    /// `import ./- --report -` wrote the report over its own input. Both options refuse `-`.
    @Test func aReportOrMetricsFileGivenAsDashIsRefusedAndAnInputNamedDashKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("-", Self.facts)
        let before = try sha256sum(input)
        let shell = URL(fileURLWithPath: "/bin/sh")
        let binary = BinaryLocator.factpipe.path
        for option in ["--report", "--metrics-file"] {
            for command in ["import ./- --db kb.sqlite", "export --db kb.sqlite -o out.ndjson"] {
                let run = try Factpipe.runProcess(
                    shell, ["-c", "cd \"$1\" && exec \"$0\" \(command) \(option) - -q", binary, work.url.path])
                #expect(run.status == 64, "\(command) \(option) -: \(run.stderr)")
                #expect(run.stderr.contains("\(option) needs a file path; it is never written to standard output"),
                        "\(run.stderr)")
            }
        }
        #expect(try sha256sum(input) == before)
        #expect(try names(work) == ["-"])
        // A file named `-` is still one path away.
        let named = try Factpipe.runProcess(
            shell, ["-c", "cd \"$1\" && exec \"$0\" import ./- --db kb.sqlite --report ./report.json -q",
                    binary, work.url.path])
        #expect(named.status == 2, "\(named.stderr)")
        #expect(try sha256sum(input) == before)
        #expect(try work.read("report.json").contains("\"inserted\":2"))
    }

    /// `--json` promises one JSON object on standard output; rejects sent there as well would come first.
    @Test func rejectsOnStandardOutputBesideJSONAreRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "-", "--json"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--json and --rejects - would all write to standard output"), "\(run.stderr)")
        // Named another way, it is standard output all the same.
        let named = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "/dev/stdout", "--json"])
        #expect(named.status == 64, "\(named.stderr)")
        #expect(named.stderr.contains("--json and --rejects /dev/stdout would all write to standard output"), "\(named.stderr)")
        // Standard output holds the one JSON object: the failure.
        let failure = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        #expect(failure["exit_code"] as? Int == 64)
        #expect(try names(work) == ["in.txt"])
        // Either alone is fine.
        let rejects = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "-", "-q"])
        #expect(rejects.status == 2, "\(rejects.stderr)")
        #expect(rejects.stdoutText.contains("\"record\":\"not a fact\""), "\(rejects.stdoutText)")
    }

    @Test func aMetricsFIFONobodyReadsFailsAtOnceAndKeepsTheLoad() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        let fifo = work.path("metrics.prom")
        try #require(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        let run = try Factpipe.run(["import", input, "--db", work.database, "--metrics-file", fifo, "-q"])
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(run.status != 0, "\(run.stderr)")
        #expect(run.stderr.contains("no process reads this FIFO"), "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }

    @Test func exportBackupAndRestoreRefuseToWriteOverTheirSource() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        let before = try sha256sum(work.database)
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.url.path + "/./kb.sqlite"])
        #expect(export.status == 64, "\(export.stderr)")
        let report = try Factpipe.run(
            ["backup", "--db", work.database, "--to", work.url.path, "--report", work.database])
        #expect(report.status == 64, "\(report.stderr)")
        #expect(try sha256sum(work.database) == before)

        let snapshot = work.path("snap.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        let archive = try sha256sum(snapshot)
        let restore = try Factpipe.run(["restore", snapshot, "--to", snapshot, "--force"])
        #expect(restore.status == 64, "\(restore.stderr)")
        #expect(try sha256sum(snapshot) == archive)
    }

    /// A pipeline whose rejects template names its input: the input is not appended to.
    @Test func pipelineRejectsEqualToAnInputIsRefused() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        let input = try work.write("in/a.txt", Self.facts)
        let file = try work.write("p.toml", """
            name = "same"
            database = "kb.sqlite"
            [sources]
            paths = ["in/*.txt"]
            [load]
            rejects = "in/{source}.txt"
            """)
        let before = try sha256sum(input)
        let run = try Factpipe.run(["run", file])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("rejects \(work.path("in/a.txt")) is the input"), "\(run.stderr)")
        #expect(try sha256sum(input) == before)
        #expect(!FileManager.default.fileExists(atPath: work.database))
    }

    /// The snapshot (and its `.sha256` and manifest) is written after the loads: a rejects template that
    /// names the same file had its rejects replaced by the snapshot, and the run still said "2, done with
    /// rejects". Such a pipeline is refused before it loads anything.
    @Test(arguments: ["snaps/{date}.ndjson", "snaps/{date}.ndjson.sha256"])
    func pipelineRejectsThatTheSnapshotWouldReplaceAreRefused(rejects: String) throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", Self.facts)
        func pipeline(rejects: String) throws -> String {
            try work.write("p.toml", """
                name = "p"
                database = "kb.sqlite"
                [sources]
                paths = ["a.txt"]
                [load]
                rejects = "\(rejects)"
                [after]
                snapshot = "snaps/{date}.ndjson"
                """)
        }
        let run = try Factpipe.run(["run", try pipeline(rejects: rejects)])
        #expect(run.status == 64, "\(run.stderr)")
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let rejectsPath = work.path(rejects.replacingOccurrences(of: "{date}", with: today))
        #expect(run.stderr.contains("rejects \(rejectsPath) is the file snapshot"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database))
        #expect(!FileManager.default.fileExists(atPath: work.path("snaps")))
        // Apart, both are written: the rejects keep the refused record.
        let apart = try Factpipe.run(["run", try pipeline(rejects: "snaps/{date}-rejects.ndjson")])
        #expect(apart.status == 2, "\(apart.stderr)")
        #expect(try work.read("snaps/\(today)-rejects.ndjson").contains("not a fact"))
        #expect(try work.read("snaps/\(today).ndjson").contains("IsA(Dog, Animal)."))
    }

    /// The pipeline file is read, never written: its rejects template, its snapshot, `--report` or
    /// `--metrics-file` named like it (or through a link) replaced it with rejects, facts or a report, and
    /// the next night's run failed on a pipeline that was gone. Refused (64) before anything is loaded.
    @Test(arguments: [
        ("[load]\nrejects = \"p.toml\"", [String]()), ("[after]\nsnapshot = \"link.toml\"", []),
        ("", ["--report", "p.toml"]), ("", ["--metrics-file", "./p.toml"]), ("", ["--snapshot", "p.toml"]),
        ("", ["--rejects", "link.toml"]),
        // Through a folder the run is to make: no identity yet.
        ("[load]\nrejects = \"new/../p.toml\"", []), ("", ["--snapshot", "new/../p.toml"]),
    ])
    func outputsNamingThePipelineFileAreRefusedAndItIsKept(section: String, options: [String]) throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", Self.facts)
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["a.txt"]
            \(section)
            """)
        #expect(symlink("p.toml", work.path("link.toml")) == 0)
        let before = try sha256sum(file)
        let run = try Factpipe.run(["run", file] + options.map { $0.hasPrefix("--") ? $0 : work.path($0) })
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("is the pipeline file \(file)"), "\(run.stderr)")
        #expect(try sha256sum(file) == before)
        #expect(try names(work) == ["a.txt", "link.toml", "p.toml"])
    }

    /// Under `--json`, a run refused for its paths (64) prints the failure object as every other failure
    /// does. (Standard output was empty.)
    @Test func aRunRefusedForItsPathsPrintsItsFailureUnderJSON() throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", Self.facts)
        let file = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"a.txt\"]\n")
        let run = try Factpipe.run(["run", file, "--report", file, "--json"])
        #expect(run.status == 64, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        #expect(int(json, "exit_code") == 64)
        #expect((json["error"] as? String)?.contains("is the pipeline file") == true, "\(json)")
    }

    /// A pattern that matches the pipeline file's own folder (`*`) does not load the pipeline as facts,
    /// nor a hard link to it.
    @Test func sourcesBesideThePipelineFileLeaveItOut() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/a.txt", Self.facts)
        let file = try work.write("in/p.toml", """
            name = "p"
            database = "../kb.sqlite"
            [sources]
            paths = ["*"]
            format = "text"
            """)
        #expect(link(file, work.path("in/same.toml")) == 0)
        let run = try Factpipe.run(["run", file, "--json"])
        #expect(run.status == 2, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let inputs = try #require(summary["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["source"] as? String } == [work.path("in/a.txt")], "\(inputs)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    /// A path through a folder the run is still to make has no file identity: `new/../kb.sqlite` as the
    /// snapshot was caught only by the export after the loads (exit 1), and `new/../in/{source}.txt` as
    /// the rejects only by the load. Both are refused (64) before anything is written.
    @Test(arguments: [
        ("rejects", "new/../in/{source}.txt", "is the input"), ("snapshot", "new/../kb.sqlite", "is the database"),
    ])
    func pipelineOutputsThroughFoldersToBeMadeAreCheckedBeforeTheLoads(key: String, path: String, message: String)
        throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        let input = try work.write("in/a.txt", Self.facts)
        let section = key == "rejects" ? "[load]" : "[after]"
        let file = try work.write("p.toml", """
            name = "through"
            database = "kb.sqlite"
            [sources]
            paths = ["in/*.txt"]
            \(section)
            \(key) = "\(path)"
            """)
        let before = try sha256sum(input)
        let run = try Factpipe.run(["run", file])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(try sha256sum(input) == before)
        #expect(try names(work) == ["in", "p.toml"])
    }

    /// An output that is another SQLite database (or its log or journal) is refused, not only the
    /// command's own: `generate -o other.sqlite`, a typo for `other.ndjson`, wrote text over a database.
    @Test func anOutputThatIsAnotherSQLiteDatabaseIsRefusedAndKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        let other = work.path("other.sqlite")
        #expect(try Factpipe.run(["import", input, "--db", other, "-q"]).status == 2)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        // A log with committed transactions, as a killed writer leaves it.
        let wal = work.path("held.sqlite-wal")
        try Data([0x37, 0x7f, 0x06, 0x82] + [UInt8](repeating: 1, count: 60)).write(to: URL(fileURLWithPath: wal))
        let before = (other: try sha256sum(other), wal: try sha256sum(wal))
        for arguments in [
            ["generate", "--facts", "5", "-o", other],
            ["export", "--db", work.database, "-o", other],
            ["import", input, "--db", work.database, "--rejects", other, "--force"],
            ["import", input, "--db", work.database, "--report", wal, "--force"],
        ] {
            try expectRefused(arguments, saying: "is a SQLite")
        }
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [after]
            snapshot = "other.sqlite"
            """)
        try expectRefused(["run", file, "--force"], saying: "snapshot \(other) is a SQLite database")
        #expect(try sha256sum(other) == before.other)
        #expect(try sha256sum(wal) == before.wal)
        #expect(try SQLiteFile.int(other, "SELECT count(*) FROM facts") == 2)
        // restore --to replaces a database, as asked with --force.
        try FileManager.default.createDirectory(atPath: work.path("bk"), withIntermediateDirectories: true)
        #expect(try Factpipe.run(["backup", "--db", work.database, "--to", work.path("bk"), "-q"]).status == 0)
        let backup = try #require(try FileManager.default.contentsOfDirectory(atPath: work.path("bk"))
            .first { $0.hasSuffix(".db.zst") })
        let restore = try Factpipe.run(["restore", work.path("bk/" + backup), "--to", other, "--force", "-q"])
        #expect(restore.status == 0, "\(restore.stderr)")
    }

    /// An output that is an existing factpipe snapshot or backup is refused as a database is: `--rejects
    /// kb.ndjson.zst` (a typo) or a report named like a backup wrote over what may be the only copy, exit 0.
    /// The archive an export or a pipeline's snapshot writes anew is still replaced, as asked.
    @Test func anOutputThatIsAFactpipeArchiveIsRefusedAndKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.facts)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        let compressed = work.path("kb.ndjson.zst")
        let plain = work.path("kb.csv")
        for archive in [compressed, plain] {
            #expect(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
        }
        try FileManager.default.createDirectory(atPath: work.path("bk"), withIntermediateDirectories: true)
        #expect(try Factpipe.run(["backup", "--db", work.database, "--to", work.path("bk"), "-q"]).status == 0)
        let backup = work.path("bk/" + (try #require(
            try FileManager.default.contentsOfDirectory(atPath: work.path("bk")).first { $0.hasSuffix(".db.zst") })))
        let before = try [compressed, plain, backup].map { try sha256sum($0) }
        for (arguments, kind) in [
            (["import", input, "--db", work.database, "--rejects", compressed, "--force"], "snapshot"),
            (["import", input, "--db", work.database, "--report", plain, "--force"], "snapshot"),
            (["export", "--db", work.database, "-o", work.path("new.ndjson"), "--metrics-file", backup], "backup"),
            (["generate", "--facts", "5", "-o", compressed], "snapshot"),
        ] {
            try expectRefused(arguments, saying: "is a factpipe \(kind) of 2 facts made")
        }
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [load]
            rejects = "kb.ndjson.zst"
            """)
        try expectRefused(["run", file, "--force"], saying: "is a factpipe snapshot")
        // Standard output appended to an archive counts as that file.
        let appended = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "exec \"$0\" import \"$1\" --db \"$2\" --rejects - --force -q >> \"$3\"",
            BinaryLocator.factpipe.path, input, work.database, compressed,
        ])
        #expect(appended.status == 64, "\(appended.stderr)")
        #expect(appended.stderr.contains("--rejects - (standard output) is a factpipe snapshot"), "\(appended.stderr)")
        #expect(try [compressed, plain, backup].map { try sha256sum($0) } == before)
        // The archive an export or a pipeline writes anew replaces the old one.
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", compressed, "-q"]).status == 0)
        let snapshotting = try work.write("s.toml", """
            name = "s"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [after]
            snapshot = "kb.csv"
            """)
        try work.write("in.txt", Self.facts + "IsA(Cow, Animal).\n")
        let snapshot = try Factpipe.run(["run", snapshotting, "--force", "-q"])
        #expect(snapshot.status == 0 || snapshot.status == 2, "\(snapshot.stderr)")
        #expect(try sha256sum(plain) != before[1])
    }

    /// A pipeline file into `kb.sqlite` whose run writes the snapshot `snaps/kb.ndjson.zst`, run once (exit 2: a
    /// line of `facts` is refused); returns the file and the snapshot.
    private func snapshottedRun(_ work: CLIWorkspace) throws -> (file: String, snapshot: String) {
        try work.write("in.txt", Self.facts)
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [after]
            snapshot = "snaps/kb.ndjson.zst"
            """)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 2)
        return (file, work.path("snaps/kb.ndjson.zst"))
    }

    /// `run FILE --db scratch.sqlite` wrote the scratch database's snapshot over the day's snapshot of the
    /// file's database, exit 0. A run replaces only a snapshot of its own database, and says so before it loads.
    @Test func aRunIntoAnotherDatabaseLeavesTheFileDatabasesSnapshot() throws {
        let work = try CLIWorkspace()
        let (file, snapshot) = try snapshottedRun(work)
        let before = try sha256sum(snapshot)
        for extra in [[], ["--dry-run"]] {
            let other = try Factpipe.run(["run", file, "--db", work.path("scratch.sqlite")] + extra)
            #expect(other.status == 64, "\(extra): \(other.stderr)")
            #expect(other.stderr.contains("is a snapshot of \(work.database) made 20"), "\(other.stderr)")
            #expect(other.stderr.contains("not of this run's database"), "\(other.stderr)")
        }
        #expect(try sha256sum(snapshot) == before)
        #expect(!FileManager.default.fileExists(atPath: work.path("scratch.sqlite")))
        // Nor a backup at that path.
        try FileManager.default.createDirectory(atPath: work.path("bk"), withIntermediateDirectories: true)
        let backup = try Factpipe.run(["backup", "--db", work.database, "--to", work.path("bk"), "--json"])
        let backupPath = try #require(try backup.json()["file"] as? String)
        let backupFile = try work.write("b.toml", """
            name = "b"
            database = "kb.sqlite"
            [sources]
            paths = ["in.txt"]
            [after]
            snapshot = "\(backupPath)"
            """)
        try expectRefused(["run", backupFile], saying: "a run's snapshot never replaces a backup")
        // Its own database's snapshot a run replaces, as before; also when the database is made anew (a night
        // that rebuilds it from scratch: the database is not there yet when the paths are checked).
        try work.write("in.txt", Self.facts + "IsA(Cow, Animal).\n")
        #expect(try Factpipe.run(["run", file, "-q"]).status == 2)
        let second = try sha256sum(snapshot)
        #expect(second != before)
        for suffix in ["", "-wal", "-shm", "-factpipe.lock"] { try? FileManager.default.removeItem(atPath: work.database + suffix) }
        try work.write("in.txt", Self.facts + "IsA(Cow, Animal).\nIsA(Hen, Bird).\n")
        // Through a link to the folder, as a path the database is not at yet.
        try FileManager.default.createSymbolicLink(atPath: work.path("link"), withDestinationPath: work.url.path)
        let rebuilt = try Factpipe.run(["run", work.path("link/p.toml"), "-q"])
        #expect(rebuilt.status == 2, "\(rebuilt.stderr)")
        #expect(try sha256sum(snapshot) != second)
    }

    /// Another database at the database's path (another host's `kb.sqlite`, its runs writing into one shared
    /// folder) replaced the day's snapshot of the first one, exit 0. The snapshot records its database's
    /// identity: the run is refused before it loads, and the first database's run still replaces it. (A run
    /// that makes the database anew replaces it, as before: `aRunIntoAnotherDatabaseLeaves…`.)
    @Test func aRunOfAnotherDatabaseAtTheSamePathLeavesTheSnapshot() throws {
        let work = try CLIWorkspace()
        let (file, snapshot) = try snapshottedRun(work)
        let before = try sha256sum(snapshot)
        try FileManager.default.moveItem(atPath: work.database, toPath: work.path("first.sqlite"))
        let other = try Factpipe.run(["import", try work.write("other.txt", "IsA(Hen, Bird).\n"), "--db", work.database])
        #expect(other.status == 0, "\(other.stderr)")
        let made = try sha256sum(work.database)
        for extra in [["--dry-run"], []] {
            let run = try Factpipe.run(["run", file] + extra)
            #expect(run.status == 64, "\(extra): \(run.stderr)")
            #expect(run.stderr.contains("is a snapshot of another database at \(work.database)"), "\(run.stderr)")
        }
        #expect(try sha256sum(snapshot) == before)
        #expect(try sha256sum(work.database) == made)
        try FileManager.default.removeItem(atPath: work.database)
        try FileManager.default.moveItem(atPath: work.path("first.sqlite"), toPath: work.database)
        try work.write("in.txt", Self.facts + "IsA(Cow, Animal).\n")
        #expect(try Factpipe.run(["run", file, "-q"]).status == 2)
        #expect(try sha256sum(snapshot) != before)
    }

    /// A pattern beside the database matches only the inputs: never the database, its side files, its
    /// lock, or the pipeline's own rejects files, however often it runs.
    @Test func pipelineGlobsNeverMatchFactpipesOwnFiles() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("data"), withIntermediateDirectories: true)
        try work.write("data/a.txt", Self.facts)
        let file = try work.write("p.toml", """
            name = "beside"
            database = "data/kb.sqlite"
            [sources]
            paths = ["data/*"]
            [load]
            rejects = "data/{source}-rejects-{date}.ndjson"
            [after]
            snapshot = "data/snap-{date}.ndjson"
            """)
        for _ in 0..<3 {
            let run = try Factpipe.run(["run", file, "--force", "--json"])
            #expect(run.status == 2, "\(run.stderr)")
            let inputs = try #require(try run.json()["inputs"] as? [[String: Any]])
            let sources = inputs.compactMap { $0["source"] as? String }.map { ($0 as NSString).lastPathComponent }
            #expect(sources == ["a.txt"], "\(sources)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: work.path("data")).sorted()
        let expected = ["a.txt", "a-rejects-", "kb.sqlite", "snap-"]
        #expect(left.allSatisfy { name in expected.contains { name.hasPrefix($0) } }, "\(left)")
        #expect(left.contains { $0.hasPrefix("a-rejects-") }, "\(left)")
        let database = work.path("data/kb.sqlite")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM factpipe_loads WHERE source NOT LIKE '%a.txt'") == 0)
    }
}

/// Outputs with long names (up to what a name may be, 255 bytes, less what SQLite adds to a database's): their
/// temporary names were 48 bytes longer than theirs, so a snapshot, backup restore or rejects file named with
/// 200 bytes or more could not be written at all ("File name too long").
@Suite struct LongOutputNameTests {
    @Test func outputsWithLongNamesAreWritten() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.ndjson", #"{"statement":"A(a)."}"# + "\n" + #"{"statement":"bad"}"# + "\n")
        let long = String(repeating: "é", count: 110)  // 220 bytes
        let rejects = work.path(long + ".rj")
        let load = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects])
        #expect(load.status == 2, "\(load.stderr)")
        #expect(try String(contentsOfFile: rejects, encoding: .utf8).contains("bad"))
        let snapshot = work.path(long + ".ndjson.zst")
        let export = try Factpipe.run(["export", "--db", work.database, "-o", snapshot])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try Factpipe.run(["verify", snapshot, "-q"]).status == 0)
        let restored = work.path(long + ".db")
        let restore = try Factpipe.run(["restore", snapshot, "--to", restored])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try SQLiteFile.int(restored, "SELECT count(*) FROM facts") == 1)
        // Nothing temporary left beside them.
        #expect(try work.contents("").filter { $0.contains(".factpipe-tmp-") }.isEmpty)
    }
}
