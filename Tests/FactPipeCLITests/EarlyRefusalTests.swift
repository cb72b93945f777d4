import Foundation
import Testing

/// What a command could never do is refused before it creates or changes anything.
@Suite struct EarlyRefusalTests {
    @Test(arguments: [["optimize"], ["undo", "1"]])
    func anEmptyFileIsNoDatabaseToOptimizeOrUndo(arguments: [String]) throws {
        let work = try CLIWorkspace()
        let empty = try work.write("empty.db", "")
        let run = try Factpipe.run(arguments + ["--db", empty])
        #expect(run.status != 0, "\(run.stderr)")
        #expect(run.stderr.contains("not a factpipe database (an empty file)"), "\(run.stderr)")
        #expect(try work.size(empty) == 0)
        #expect(try work.contents("") == ["empty.db"])
    }

    @Test(arguments: ["nowhere/rejects.ndjson", "."])
    func aRejectsFileThatCannotBeOpenedIsRefusedBeforeTheDatabaseIsCreated(rejects: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(a).\n")
        let run = try Factpipe.run(["import", input, "--db", work.path("kb.db"), "--rejects", work.path(rejects)])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--rejects"), "\(run.stderr)")
        #expect(try work.contents("") == ["in.txt"])
    }

    /// A page cache past what SQLite takes: `--cache-mb 9000000000000` crashed a merge into a database with
    /// facts (an overflow in sizing its sort), leaving the ledger saying `running`.
    @Test func aPageCacheTooLargeForSQLiteIsRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(a).\n")
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let more = try work.write("more.txt", "B(b).\n")
        for megabytes in ["9000000000000", "1048577"] {
            let run = try Factpipe.run(["import", more, "--db", work.database, "--cache-mb", megabytes])
            #expect(run.status == 64, "\(megabytes): \(run.stderr)")
            #expect(run.stderr.contains("--cache-mb must be at most 1048576"), "\(run.stderr)")
        }
        #expect(try Factpipe.run(["import", more, "--db", work.database, "--cache-mb", "1048576", "-q"]).status == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }
}

/// An empty path (an unset variable) is a usage error naming what is missing, before anything is
/// created: `scale-test --work-dir ""` worked in the root folder, and an empty input or archive was
/// reported as a file named "" that could not be opened.
@Suite struct EmptyPathTests {
    @Test(arguments: [
        (["import", "", "--db", "kb.sqlite"], "an input path is empty"),
        (["import", "in.txt", "", "--db", "kb.sqlite"], "an input path is empty"),
        (["restore", "", "--to", "kb.sqlite"], "the archive path is empty"),
        (["verify", ""], "the archive path is empty"),
        (["run", ""], "the pipeline file path is empty"),
        (["scale-test", "--facts", "10", "--queries", "1", "--work-dir", ""], "--work-dir needs a folder"),
    ])
    func anEmptyPathIsAUsageError(arguments: [String], message: String) throws {
        let work = try CLIWorkspace()
        try work.write("in.txt", "A(a).\n")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", work.url.path,
                                              BinaryLocator.factpipe.path] + arguments)
        #expect(run.status == 64, "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(try work.contents("") == ["in.txt"])
    }
}

/// The writer lock file is truncated and written: a symlink in its place is refused, and the file it
/// points to is left as it was.
@Suite struct LockFileLinkTests {
    /// SQLite will not open a database whose log or journal is a symbolic link, and said only "unable to
    /// open database file"; the load now names the link. The file it points to is kept.
    @Test(arguments: ["-wal", "-shm", "-journal"])
    func aLogThatIsASymlinkIsNamedAndItsTargetKept(suffix: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(a).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.path("kb.sqlite"), "-q"]).status == 0)
        let precious = try work.write("precious.txt", "keep me\n")
        try FileManager.default.createSymbolicLink(atPath: work.path("kb.sqlite" + suffix), withDestinationPath: precious)
        let run = try Factpipe.run(["import", try work.write("more.txt", "B(b).\n"), "--db", work.path("kb.sqlite")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("kb.sqlite\(suffix) is a symbolic link"), "\(run.stderr)")
        #expect(try work.read("precious.txt") == "keep me\n")
    }

    @Test func aLockFileThatIsASymlinkIsRefusedAndItsTargetKept() throws {
        let work = try CLIWorkspace()
        let precious = try work.write("precious.txt", "keep me\n")
        try FileManager.default.createSymbolicLink(
            atPath: work.path("kb.sqlite-factpipe.lock"), withDestinationPath: precious)
        let run = try Factpipe.run(["import", try work.write("in.txt", "A(a).\n"), "--db", work.path("kb.sqlite")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("is a symbolic link"), "\(run.stderr)")
        #expect(try work.read("precious.txt") == "keep me\n")
    }
}
