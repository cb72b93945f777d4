import Foundation
import Testing

/// `--db` is a file path and one database, whatever its spelling: what is not a file path is refused
/// with exit 64 before anything is created, a command that fails early leaves no file behind, and a
/// symlink and its target share one writer lock.
@Suite struct DatabasePathCommandTests {
    private func names(_ work: CLIWorkspace) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
    }

    @Test func whatIsNotAFilePathIsRefusedWithoutATrace() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        let devices: [String] = ["/dev/null-factpipe.lock", "/dev/null-journal"].filter {
            !FileManager.default.fileExists(atPath: $0)
        }
        let paths = ["", ":memory:", "file:" + work.path("uri.db"), "file:" + work.path("uri.db") + "?mode=rwc",
                     work.url.path, "/dev/null"]
        for db in paths {
            for command in [["import", input], ["undo", "1"], ["optimize"], ["stats"], ["query"], ["loads"],
                            ["export", "-o", work.path("out.ndjson")], ["backup", "--to", work.url.path]] {
                let run = try Factpipe.run(command + ["--db", db])
                #expect(run.status == 64, "\(command) --db '\(db)': \(run.status) \(run.stderr)")
            }
        }
        #expect(try names(work) == ["in.txt"])
        #expect(devices.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "a file appeared in /dev")
    }

    /// `-` is standard input or output to every other option; as `--db` (or `restore --to`, or a pipeline's
    /// `database`) it made a database named `-` in the working folder. It is refused; `./-` names that file.
    @Test func aDashIsNotADatabasePath() throws {
        let work = try CLIWorkspace()
        try work.write("in.txt", "IsA(Dog, Animal).\n")
        try work.write("job.toml", "name = \"job\"\ndatabase = \"-\"\n[sources]\npaths = [\"in.txt\"]\n")
        let shell = URL(fileURLWithPath: "/bin/sh")
        let binary = BinaryLocator.factpipe.path
        func run(_ command: String) throws -> FactpipeRun {
            try Factpipe.runProcess(shell, ["-c", "cd \"$1\" && exec \"$0\" \(command)", binary, work.url.path])
        }
        for command in [
            "import in.txt --db -", "undo 1 --db -", "optimize --db -", "stats --db -", "query --db -", "loads --db -",
            "export --db - -o out.ndjson", "backup --db - --to .", "restore missing.db.zst --to -", "run job.toml",
        ] {
            let result = try run(command)
            #expect(result.status == 64, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("- is standard input or output, not a database file"),
                    "\(command): \(result.stderr)")
        }
        #expect(try names(work) == ["in.txt", "job.toml"])
        let named = try run("import in.txt --db ./- -q")
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try SQLiteFile.int(work.path("-"), "SELECT count(*) FROM facts") == 1)
    }

    /// An argument that is not UTF-8 reached the command with its bad bytes replaced by U+FFFD:
    /// `--db $'kb\xe9.sqlite'` created and loaded `kb\u{FFFD}.sqlite`, never the file the user named. Any
    /// such argument is refused (64) before anything is created.
    @Test func anArgumentThatIsNotUTF8IsRefused() throws {
        let work = try CLIWorkspace()
        try work.write("in.txt", "IsA(Dog, Animal).\n")
        let shell = URL(fileURLWithPath: "/bin/sh")
        for (command, shown) in [
            ("import in.txt --db \"$(printf 'kb\\351.sqlite')\"", "argument 4 (kb\\xE9.sqlite) is not UTF-8"),
            ("import in.txt --db kb.sqlite --rejects \"$(printf 'r\\377.ndjson')\" --json", "argument 6 (r\\xFF.ndjson)"),
            ("export --db kb.sqlite -o \"$(printf 'out\\351.ndjson')\"", "(out\\xE9.ndjson) is not UTF-8"),
        ] {
            let run = try Factpipe.runProcess(
                shell, ["-c", "cd \"$1\" && exec \"$0\" \(command)", BinaryLocator.factpipe.path, work.url.path])
            #expect(run.status == 64, "\(command): \(run.stderr)")
            #expect(run.stderr.contains(shown), "\(command): \(run.stderr)")
            #expect(try names(work) == ["in.txt"], "\(command)")
            if command.hasSuffix("--json") {
                let failure = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
                #expect(failure["exit_code"] as? Int == 64)
            }
        }
    }

    /// A database in a folder whose name is not UTF-8, reached as the current folder or through a link: its
    /// real path read as U+FFFD in the bad byte's place, so the load failed naming a path that does not exist
    /// (or, beside a folder of that name, made its lock file there), readers left `-wal` and `-shm`, and a
    /// snapshot's manifest named another file. Every command refuses it (64), naming the folder.
    @Test func aDatabaseInAFolderWhoseNameIsNotUTF8IsRefused() throws {
        let work = try CLIWorkspace()
        try work.write("in.txt", "IsA(Dog, Animal).\n")
        let shell = URL(fileURLWithPath: "/bin/sh")
        let setup = "cd \"$1\" && mkdir \"$(printf 'cwd\\377')\" \"$(printf 'cwd\\357\\277\\275')\" && "
            + "ln -s \"$(printf 'cwd\\377')\" link"
        #expect(try Factpipe.runProcess(shell, ["-c", setup, "sh", work.url.path]).status == 0)
        for command in [
            "exec \"$0\" import in.txt --db link/kb.sqlite",
            "cd link && exec \"$0\" import ../in.txt --db kb.sqlite",
            "exec \"$0\" stats --db link/kb.sqlite",
        ] {
            let run = try Factpipe.runProcess(
                shell, ["-c", "cd \"$1\" && \(command)", BinaryLocator.factpipe.path, work.url.path])
            #expect(run.status == 64, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("its real path goes through cwd\\xFF, a name that is not UTF-8"),
                    "\(command): \(run.stderr)")
        }
        // Nothing made in either folder: not in the one named, not in the one its lossy name names.
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("cwd\u{FFFD}")).isEmpty)
        let listing = try Factpipe.runProcess(shell, ["-c", "ls -A \"$1\"/link/", "sh", work.url.path])
        #expect(listing.status == 0 && listing.stdoutText.isEmpty, "\(listing.stdoutText)")
    }

    @Test func failingBeforeWritingCreatesNoDatabase() throws {
        let work = try CLIWorkspace()
        let undo = try Factpipe.run(["undo", "5", "--db", work.path("typo.db")])
        #expect(undo.status == 1, "\(undo.stderr)")
        let missing = try Factpipe.run(["import", work.path("missing.txt"), "--db", work.path("new.db")])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("missing.txt"), "\(missing.stderr)")
        let existing = try Factpipe.run(["import", "--into-existing", work.path("missing.txt"),
                                         "--db", work.path("kb.db")])
        #expect(existing.status == 1, "\(existing.stderr)")
        #expect(try names(work) == [])
    }

    /// A damaged database is named once in the message, and no lock file is left beside it.
    @Test func aDamagedDatabaseIsNamedOnceAndGetsNoLockFile() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        var bytes = Data("SQLite format 3\u{0}".utf8)
        bytes.append(Data(repeating: 0x41, count: 4_000))
        let damaged = try work.write("mal2.db", bytes)
        let asDatabase = try Factpipe.run(["import", input, "--db", damaged])
        #expect(asDatabase.status == 1)
        let asInput = try Factpipe.run(["import", damaged, "--db", work.database])
        #expect(asInput.status == 1)
        for run in [asDatabase, asInput] {
            for line in run.stderr.split(separator: "\n") {
                #expect(line.components(separatedBy: "mal2.db").count <= 2, "\(line)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: damaged + "-factpipe.lock"))
    }

    /// Two loads started together, one through the database's name and one through a symlink to it:
    /// one waits for the other, and every fact of both is in the database with every count adding up.
    @Test func aSymlinkAndItsTargetShareOneLock() throws {
        let work = try CLIWorkspace()
        func facts(_ range: Range<Int>) -> String {
            range.map { "IsA(x\($0), Thing).\n" }.joined()
        }
        let first = try work.write("first.txt", facts(0..<50_000))
        let second = try work.write("second.txt", facts(25_000..<75_000))
        let database = work.path("sy.db")
        try FileManager.default.createSymbolicLink(atPath: work.path("link_sy.db"), withDestinationPath: database)
        let loads = [
            try BackgroundProcess(
                BinaryLocator.factpipe, ["import", first, "--db", database, "--wait", "300", "--json"]),
            try BackgroundProcess(BinaryLocator.factpipe,
                                  ["import", second, "--db", work.path("link_sy.db"), "--wait", "300", "--json"]),
        ]
        for load in loads {
            let run = try load.wait()
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try run.json()["status"] as? String == "done")
        }
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == 75_000)
        let ledger = try SQLiteFile.ledger(database)
        #expect(ledger.count == 2)
        for row in ledger {
            #expect(row["status"] as? String == "done", "\(row)")
            #expect(int(row, "records") == 50_000)
            expectCountsAddUp(row)
        }
        #expect(try names(work).filter { $0.hasSuffix("-factpipe.lock") } == ["sy.db-factpipe.lock"])
    }

    /// A symlink to a database still to be created: the lock goes where the database will be.
    @Test func aDanglingSymlinkLocksBesideTheFileItCreates() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        try FileManager.default.createDirectory(atPath: work.path("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.path("link.db"), withDestinationPath: "real/new.db")
        #expect(try Factpipe.run(["import", input, "--db", work.path("link.db"), "-q"]).status == 0)
        #expect(try names(work) == ["in.txt", "link.db", "real"])
        let real = try FileManager.default.contentsOfDirectory(atPath: work.path("real")).sorted()
        #expect(real == ["new.db", "new.db-factpipe.lock"])
    }

    /// Two hard links are two names, and SQLite would keep a log for each: writing is refused.
    @Test func aHardLinkedDatabaseIsNotWritten() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        #expect(link(work.database, work.path("hard.sqlite")) == 0)
        let more = try work.write("more.txt", "IsA(Cat, Animal).\n")
        let run = try Factpipe.run(["import", more, "--db", work.path("hard.sqlite")])
        #expect(run.status == 1)
        #expect(run.stderr.contains("2 hard links"), "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
        #expect(!FileManager.default.fileExists(atPath: work.path("hard.sqlite-factpipe.lock")))
    }

    /// Nor is it read: a reader through a second name sees neither the log its writer keeps under the first
    /// nor that writer's locks (an export through a link of a database being loaded held statements twice or
    /// lacked facts long committed, exit 0, and `verify` passed it). Every reader refuses it, under both names.
    @Test func aHardLinkedWALDatabaseIsNotRead() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        #expect(link(work.database, work.path("hard.sqlite")) == 0)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
        for database in [work.path("hard.sqlite"), work.database] {
            for command in [["export", "-o", work.path("s.ndjson")], ["backup", "--to", work.path("backups")],
                            ["stats"], ["query"], ["loads"]] {
                let run = try Factpipe.run(command + ["--db", database])
                #expect(run.status == 1, "\(command): \(run.stderr)")
                #expect(run.stderr.contains("cannot read it consistently: the file has 2 hard links"), "\(run.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: work.path("s.ndjson")))
        #expect(unlink(work.path("hard.sqlite")) == 0)
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.ndjson"), "-q"])
        #expect(export.status == 0, "\(export.stderr)")
    }
}
