import Foundation
import Testing

/// A command that only reads, stopped by a signal, ends through its own end: exit 128 + the signal, an
/// `interrupted` object under `--json`, and no `-wal` or `-shm` left beside the database (killed by the
/// signal, it printed nothing and left both, which later readers then kept).
@Suite struct ReaderSignalTests {
    @Test func statsStoppedByASignalSaysSoAndLeavesNoSideFiles() throws {
        let work = try Self.bigDatabase()
        let stats = try BackgroundProcess(BinaryLocator.factpipe, ["stats", "--db", work.database, "--json"])
        // Signalled once it has the database open (its -shm is there) and while it counts.
        try #require(poll(timeout: 30) { FileManager.default.fileExists(atPath: work.database + "-shm") })
        kill(stats.process.processIdentifier, SIGTERM)
        let run = try stats.wait()
        #expect(run.status == 143, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "interrupted" && json["exit_code"] as? Int == 143, "\(json)")
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
        #expect(try SQLiteFile.strings(work.database, "PRAGMA quick_check") == ["ok"])
    }

    /// A backup ends by its signal handler, which removes its temporary files; it ended with the database
    /// open, and left its `-wal` and `-shm` beside it. Its connections are interrupted and closed first now.
    @Test func backupStoppedByASignalLeavesNoSideFiles() throws {
        let work = try Self.bigDatabase()
        let folder = work.path("backups")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let backup = try BackgroundProcess(BinaryLocator.factpipe, ["backup", "--db", work.database, "--to", folder])
        // Signalled while it copies the database (its -shm is there).
        try #require(poll(timeout: 30) { FileManager.default.fileExists(atPath: work.database + "-shm") })
        kill(backup.process.processIdentifier, SIGINT)
        let run = try backup.wait()
        #expect(run.status == 130, "\(run.stderr)")
        #expect(try work.contents("backups").isEmpty)
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
    }

    /// A query whose reader stopped reading (its pipe full) ends on a signal: it waited in `write(2)`, which
    /// no signal ended, until `kill -9`, and its read meanwhile kept a load's log from the database.
    @Test func aQueryWaitingForAReaderThatStoppedEndsOnASignal() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "5000", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let process = Process()
        process.executableURL = BinaryLocator.factpipe
        process.arguments = ["query", "--db", work.database, "--limit", "0", "--format", "ndjson"]
        let output = Pipe()  // never read: full after 64 KiB
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try #require(poll(timeout: 30) {
            var entry = pollfd(fd: output.fileHandleForWriting.fileDescriptor, events: Int16(POLLOUT), revents: 0)
            return poll(&entry, 1, 0) == 0  // no room left: the query waits for its reader
        }, "the pipe never filled")
        usleep(200_000)
        kill(process.processIdentifier, SIGTERM)
        let ended = poll(timeout: 5) { !process.isRunning }
        #expect(ended, "the query still waits after SIGTERM")
        if ended {
            #expect(process.terminationStatus == 143 && process.terminationReason == .exit)
        }
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
    }

    /// Standard output shared with a parent that made it non-blocking (Node does): `query` and `generate`
    /// wait for room as `export` does, and give every byte (they failed after 64 KiB with "Resource
    /// temporarily unavailable").
    @Test(arguments: [["query", "--limit", "0", "--format", "ndjson"], ["generate", "--facts", "5000", "-o", "-", "-q"]])
    func aNonBlockingStandardOutputGetsEveryByte(_ arguments: [String]) throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "5000", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let command = arguments[0] == "query" ? arguments + ["--db", work.database] : arguments
        let expected = try Factpipe.run(command).stdout
        try #require(expected.count > 200_000)
        // The parent: a pipe whose writing end is non-blocking, read half a second late (full by then).
        let script = """
            import fcntl, os, subprocess, sys, threading, time
            r, w = os.pipe()
            fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
            p = subprocess.Popen(sys.argv[2:], stdout=w, stderr=subprocess.DEVNULL)
            os.close(w)
            watchdog = threading.Timer(30, p.kill)  # a command that never ends fails the test, not holds it
            watchdog.daemon = True
            watchdog.start()
            time.sleep(0.5)
            out = open(sys.argv[1] + ".out", "wb")
            while True:
                b = os.read(r, 65536)
                if not b: break
                out.write(b)
            out.close()
            sys.exit(0 if p.wait() == 0 else 1)
            """
        let received = work.path("received")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, received, BinaryLocator.factpipe.path] + command)
        #expect(run.status == 0, "\(run.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: received + ".out"))
        // Compared as a Bool: a failed `==` of two large `Data` has the test library diff them byte by byte, for ever.
        let same = bytes == expected
        #expect(same, "\(bytes.count) of \(expected.count) bytes")
    }

    /// A database of over a million facts, grown by SQL (a load of that many takes the test's debug build
    /// long): `stats` takes a second or so to count it, a backup as long to copy and check it, so a signal
    /// comes while they work.
    private static func bigDatabase() throws -> CLIWorkspace {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "40000", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        do {
            let database = try RawDatabase(work.database)
            for round in 0..<5 {
                try database.execute("""
                    INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, source, context,
                    fact_metadata, created_at, load_id) SELECT 'R\(round)' || statement, predicate, subject, object,
                    args, arity, confidence, source, context, fact_metadata, created_at, load_id FROM facts
                    """)
            }
        }  // closed: its -wal and -shm go with it
        for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: work.database + suffix)) }
        return work
    }
}
