import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Inputs that can be read only once — a named pipe, a `<(…)` path, standard input — are opened
/// once and read once: recognising their format or compression from their first bytes loses nothing.
@Suite struct InputReadOnceTests {
    private func factLines(_ count: Int, predicate: String = "IsA") -> String {
        (0..<count).map { "\(predicate)(thing\($0), Kind\($0 % 7))." }.joined(separator: "\n") + "\n"
    }

    /// Starts `factpipe import FIFO` and writes `bytes` into the FIFO from one writer, which then closes.
    private func loadThroughFIFO(
        _ work: CLIWorkspace, _ bytes: Data, extra: [String] = []
    ) throws -> (FactpipeRun, ended: Bool) {
        let fifo = work.path("input.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", fifo, "--db", work.database, "--json", "-q"] + extra)
        // Blocks until the load opens the FIFO for reading.
        let fd = open(fifo, O_WRONLY)
        try #require(fd >= 0)
        signal(SIGPIPE, SIG_IGN)
        let written = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress, raw.count) }
        close(fd)
        #expect(written == bytes.count)
        let ended = poll(timeout: 30) { !load.isRunning }
        if !ended { load.killNine() }
        return (try load.wait(), ended)
    }

    @Test func aFIFOWithOneWriterLoadsEveryFactAndFinishes() throws {
        let work = try CLIWorkspace()
        let (run, ended) = try loadThroughFIFO(work, Data(factLines(500).utf8))
        #expect(ended, "the load still waited for a second writer")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 500)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement = 'IsA(thing0, Kind0).'") == 1)
    }

    @Test(arguments: ["gzip", "zstd"])
    func aCompressedStreamThroughAFIFOLoadsEveryFact(_ tool: String) throws {
        let work = try CLIWorkspace()
        let plain = work.path("facts.txt")
        try work.write("facts.txt", factLines(2_000))
        let compressed = try Factpipe.tool("/usr/bin/\(tool)", ["-c", plain]).stdout
        let (run, ended) = try loadThroughFIFO(work, compressed)
        #expect(ended, "the load still waited for a second writer")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try run.json()["loads"] != nil)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2_000)
    }

    @Test func aSQLiteDatabaseThroughAFIFOIsReadFromItsOneStream() throws {
        let work = try CLIWorkspace()
        let source = work.path("source.db")
        try Factpipe.tool("/usr/bin/sqlite3", [source, """
            CREATE TABLE facts (statement TEXT); INSERT INTO facts VALUES ('IsA(a, b).'), ('IsA(c, d).');
            """])
        let (run, ended) = try loadThroughFIFO(work, try Data(contentsOf: URL(fileURLWithPath: source)))
        #expect(ended)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    /// `import - < other.sqlite` copies standard input, the file alone: commits a program left in its `-wal`
    /// (open, or killed) were not in the copy, and the load said done with 1,000 of 1,500 facts. Standard
    /// input that is such a file is refused, naming it; by its name the load reads the log too.
    @Test func aDatabaseOnStandardInputWithALogBesideItIsRefused() throws {
        let work = try CLIWorkspace()
        let source = work.path("other.sqlite")
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("CREATE TABLE facts(statement TEXT)")
            c.executemany("INSERT INTO facts VALUES (?)", [("IsA(a%d, b)." % i,) for i in range(1000)])
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            c.execute("PRAGMA wal_autocheckpoint=0")
            c.executemany("INSERT INTO facts VALUES (?)", [("IsA(c%d, d)." % i,) for i in range(500)])
            os._exit(0)
            """
        _ = try Factpipe.tool("/usr/bin/python3", ["-c", script, source])
        try #require(try work.size(source + "-wal") > 0)
        let load = "'\(BinaryLocator.factpipe.path)' import - --db '\(work.database)' < '\(source)'"
        let piped = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", load])
        #expect(piped.status == 1, "\(piped.stderr)")
        #expect(piped.stderr.contains("standard input is \(source), a database with a -wal beside it"), "\(piped.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        let named = try Factpipe.run(["import", source, "--db", work.database, "--json", "-q"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(int(try named.json(), "inserted") == 1_500)
    }

    /// `import -` typed at a prompt (standard input a terminal) waited without a word; it says what it reads
    /// and how to end it, and one Ctrl-D ends it (a terminal's end is not lasting: the reader read again after
    /// it and waited, and three were needed). Redirected or piped, it says nothing of the kind.
    @Test func standardInputFromATerminalIsSaidAndEndsWithControlD() throws {
        let work = try CLIWorkspace()
        let script = """
            import os, pty, select, signal, sys, time
            binary, db = sys.argv[1], sys.argv[2]
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(binary, [binary, "import", "-", "--db", db])
            os.write(fd, b"P(a).\\n\\x04")
            out = b""
            deadline = time.time() + 30
            while True:
                if time.time() > deadline:
                    os.kill(pid, signal.SIGKILL)  # one Ctrl-D did not end it: a second read waited for more
                    break
                if not select.select([fd], [], [], 0.5)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode("utf-8", "replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let typed = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/python3"),
                                            ["-c", script, BinaryLocator.factpipe.path, work.database])
        #expect(typed.status == 0, "\(typed.stdoutText) \(typed.stderr)")
        #expect(typed.stdoutText.contains("reading facts from the terminal (standard input), a record a line; Ctrl-D"),
                "\(typed.stdoutText)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts") == ["P(a)."])
        let piped = try Factpipe.run(["import", "-", "--db", work.path("piped.sqlite")], stdin: Data("Q(b).\n".utf8))
        #expect(piped.status == 0 && !piped.stderr.contains("from the terminal"), "\(piped.stderr)")
    }

    @Test func aProcessSubstitutionPathLosesNoBytes() throws {
        let work = try CLIWorkspace()
        let plain = try work.write("facts.txt", factLines(300))
        let script = "'\(BinaryLocator.factpipe.path)' import <(cat '\(plain)') --db '\(work.database)' --json -q"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 300)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement = 'IsA(thing0, Kind0).'") == 1)
    }

    @Test func anInheritedPipeDescriptorPathIsReadOnce() throws {
        let work = try CLIWorkspace()
        let plain = try work.write("facts.ndjson", (0..<200).map { "{\"statement\":\"P(a\($0), b)\"}" }
            .joined(separator: "\n") + "\n")
        // bash opens descriptor 7 on a pipe from `cat` and the binary inherits it.
        let script = "'\(BinaryLocator.factpipe.path)' import /dev/fd/7 --db '\(work.database)' --json -q "
            + "7< <(cat '\(plain)')"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 200)
    }

    /// Standard input redirected from a file that the shell already read into (`read` took its first line) is
    /// loaded from where it stands: counted from the file's start, it "shrank", and the load failed.
    @Test func standardInputPartlyReadByTheShellLoadsTheRest() throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.ndjson", (0..<50).map { "{\"statement\":\"P(a\($0), b)\"}" }.joined(separator: "\n") + "\n")
        let script = "cd '\(work.url.path)' && { read -r first; '\(BinaryLocator.factpipe.path)' import - --db kb.sqlite "
            + "--json -q; } < in.ndjson"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 49)
        let database = work.path("kb.sqlite")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts WHERE statement = 'P(a0, b).'") == 0)
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts WHERE statement = 'P(a49, b).'") == 1)
    }

    /// `-` and `/dev/stdin` (or the file `<` redirected from) are one input read twice: refused.
    @Test(arguments: ["/dev/stdin", "/proc/self/fd/0", "in.txt"])
    func standardInputNamedTwiceIsRefused(other: String) throws {
        let work = try CLIWorkspace()
        _ = try work.write("in.txt", "A(x, y).\nB(x, y).\n")
        for redirection in ["< in.txt", "| cat in.txt"] where !(other == "in.txt" && redirection.hasPrefix("|")) {
            let load = "'\(BinaryLocator.factpipe.path)' import - '\(other)' --db kb.sqlite -q"
            let script = redirection.hasPrefix("|")
                ? "cd '\(work.url.path)' && cat in.txt | \(load)" : "cd '\(work.url.path)' && \(load) \(redirection)"
            let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script])
            #expect(run.status == 64, "\(other) \(redirection): \(run.stderr)")
            #expect(run.stderr.contains("standard input can be read only once"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))
        }
    }
}
