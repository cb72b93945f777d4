import Foundation
import Testing

/// Standard output or error redirected into the database: what a command prints would be written
/// over it. Every command that takes --db refuses before it writes a byte.
@Suite struct StreamIntoDatabaseTests {
    @Test(arguments: [
        (["query", "--predicate", "HasPart", "--limit", "0", "--format", "ndjson"], "1<>"),
        (["stats", "--json"], ">>"), (["loads"], ">>"), (["optimize"], "2>>"), (["stats"], "2>>"),
    ])
    func aStreamRedirectedIntoTheDatabaseIsRefused(arguments: [String], redirection: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        let command = ([BinaryLocator.factpipe.path, arguments[0], "--db", work.database] + arguments.dropFirst())
            .map { "'\($0)'" }.joined(separator: " ")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection) '\(work.database)'; echo \"exit=$?\""])
        #expect(run.stdoutText.contains("exit=64"), "\(arguments) \(redirection): \(run.stdoutText) \(run.stderr)")
        #expect(try sha256sum(work.database) == before, "not a byte was written into it")
        #expect(try SQLiteFile.strings(work.database, "PRAGMA quick_check") == ["ok"])
    }

    @Test func theDatabaseGivenAsDbEqualsPathIsGuardedTheSameWay() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        for (arguments, redirection) in [(["stats", "--json"], ">>"), (["stats"], "2>>")] {
            let command = ([BinaryLocator.factpipe.path, arguments[0], "--db=\(work.database)"] + arguments.dropFirst())
                .map { "'\($0)'" }.joined(separator: " ")
            let run = try Factpipe.runProcess(
                URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection) '\(work.database)'; echo \"exit=$?\""])
            #expect(run.stdoutText.contains("exit=64"), "\(arguments) \(redirection): \(run.stdoutText) \(run.stderr)")
            #expect(try sha256sum(work.database) == before, "\(arguments) \(redirection)")
        }
    }

    /// Runs `arguments` through the shell with `redirection` into `target`; returns the exit status and stderr.
    private func shell(_ arguments: [String], _ redirection: String, _ target: String) throws -> (String, String) {
        let command = ([BinaryLocator.factpipe.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection) '\(target)'; echo \"exit=$?\""])
        return (run.stdoutText, run.stderr)
    }

    /// A pipeline file names its own database, and it may fail before it is read: the stream is judged
    /// by the file it goes into, whatever the command.
    @Test func runAndCommandsWithoutDbRefuseAStreamIntoASQLiteFile() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let input = work.path("in.txt")
        try "P(a).\n".write(toFile: input, atomically: true, encoding: .utf8)
        let good = work.path("good.toml")
        try "name = \"n\"\ndatabase = \"\(work.database)\"\n[sources]\npaths = [\"\(input)\"]\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let bad = work.path("bad.toml")
        try "name = \"n\"\ndatabase = \"\(work.database)\"\n[[sources]]\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let before = try sha256sum(work.database)
        for (arguments, redirection) in [
            (["run", bad, "--json"], "1<>"), (["run", good, "--json"], ">>"), (["run", bad], "2>>"),
            (["generate", "--facts", "3"], ">>"), (["query", "--db", work.path("other.sqlite")], "1<>"),
        ] {
            let (stdout, stderr) = try shell(arguments, redirection, work.database)
            #expect(stdout.contains("exit=64"), "\(arguments) \(redirection): \(stdout) \(stderr)")
            #expect(try sha256sum(work.database) == before, "\(arguments) \(redirection): not a byte into it")
            if !redirection.hasPrefix("2") {
                #expect(stderr.contains("standard output is redirected into a SQLite database (\(work.database))"),
                        "\(stderr)")
            }
        }
        #expect(try SQLiteFile.strings(work.database, "PRAGMA quick_check") == ["ok"])
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement = 'P(a).'") == 0)
        // The same pipeline with its output elsewhere runs.
        let (stdout, stderr) = try shell(["run", good, "--json"], ">>", work.path("report.json"))
        #expect(stdout.contains("exit=0"), "\(stdout) \(stderr)")
    }

    /// A write-ahead log holds committed transactions until a checkpoint: a stream into it is refused too.
    @Test func aStreamIntoAWriteAheadLogIsRefused() throws {
        let work = try CLIWorkspace()
        let database = work.path("other.sqlite")
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA journal_mode=WAL")
            c.execute("CREATE TABLE t(x)"); c.execute("INSERT INTO t VALUES (1)"); c.commit()
            os._exit(0)  # no checkpoint: the log keeps the transactions
            """
        try Factpipe.tool("/usr/bin/python3", ["-c", script, database])
        let log = database + "-wal"
        let before = try sha256sum(log)
        let (stdout, _) = try shell(["generate", "--facts", "3", "--quiet"], "2>>", log)
        #expect(stdout.contains("exit=64"), "\(stdout)")
        let (again, stderr) = try shell(["generate", "--facts", "3"], ">>", log)
        #expect(again.contains("exit=64"), "\(again)")
        #expect(stderr.contains("a SQLite write-ahead log (\(log))"), "\(stderr)")
        #expect(try sha256sum(log) == before)
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM t") == 1)
    }
}
