import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A database file moved over (`mv new.sqlite kb.sqlite`) or removed while a load writes to it left the
/// load on a file nobody could open by that name: it said "done: 979,054 inserted" and the path held the
/// other file's 2 facts. Each commit now checks that the path still names the file the load opened.
@Suite struct DatabaseReplacedTests {
    /// Feeds a load from a pipe in two parts; between them, once the first part is committed, `replace`
    /// runs on the database's path. Returns what the load printed.
    private func load(_ work: CLIWorkspace, arguments: [String] = [], replace: (String) throws -> Void) throws
        -> FactpipeRun {
        let load = try PipedLoad(
            ["import", "-", "--db", work.database, "--format", "text", "--batch-size", "2"] + arguments)
        try load.feed("A(1).\nnot a fact\n", committing: 2, in: work.database)
        try replace(work.database)
        try load.write("A(3).\nA(4).\n")
        return try load.finish()
    }

    @Test func aDatabaseMovedOverDuringALoadFailsTheLoadAndIsLeftAsItWas() throws {
        let work = try CLIWorkspace()
        let other = work.path("other.sqlite")
        #expect(try Factpipe.run(["import", try work.write("o.txt", "B(1).\nB(2).\nB(3).\n"), "--db", other, "-q"])
            .status == 0)
        let run = try load(work, arguments: ["--rejects", work.path("rejects.ndjson")]) { path in
            #expect(rename(other, path) == 0)
        }
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the database file was replaced or removed while the load wrote to it"),
                "\(run.stderr)")
        #expect(!run.stderr.contains("done:"), "\(run.stderr)")
        // The load's log beside the path was emptied into the file it belonged to: a reader of the file
        // now at the path, the first below, would have taken its pages for its own.
        let log = work.database + "-wal"
        let logSize = FileManager.default.fileExists(atPath: log) ? try work.size(log) : 0
        #expect(logSize == 0)
        // The file now at the path is the one moved there, untouched.
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 3)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE predicate = 'A'") == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_loads") == 1)
        // Nothing of the load is anywhere now: its rejects went with it.
        #expect(try work.read("rejects.ndjson").isEmpty)
    }

    @Test func aDatabaseRemovedDuringALoadFailsTheLoad() throws {
        let work = try CLIWorkspace()
        let run = try load(work) { path in
            #expect(unlink(path) == 0)
        }
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the database file was replaced or removed"), "\(run.stderr)")
    }

    @Test func anAtomicLoadIntoADatabaseMovedOverFailsToo() throws {
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", try work.write("z.txt", "Z(0).\n"), "--db", work.database, "-q"])
            .status == 0)
        let other = work.path("other.sqlite")
        #expect(try Factpipe.run(["import", try work.write("o.txt", "B(1).\n"), "--db", other, "-q"]).status == 0)
        let load = try PipedLoad(["import", "-", "--db", work.database, "--format", "text", "--atomic"])
        try load.write("A(1).\nA(2).\n")
        // The atomic load holds its transaction open, so nothing of it shows: give it time to have begun.
        try load.wait(for: 1, from: "SELECT count(*) FROM factpipe_loads", in: work.database)
        usleep(200_000)
        #expect(rename(other, work.database) == 0)
        let run = try load.finish()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the database file was replaced or removed"), "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }

    /// The same through `--into-existing`, into a knowledge base of another program's making: in
    /// rollback-journal mode SQLite refuses the write itself ("attempt to write a readonly database"), in
    /// WAL mode only the check sees it.
    @Test(arguments: ["delete", "wal"])
    func aKnowledgeBaseMovedOverDuringALoadIntoItFailsTheLoad(journalMode: String) throws {
        let work = try CLIWorkspace()
        let kb = work.path("kb.db")
        let other = work.path("other.db")
        for path in [kb, other] {
            try Factpipe.tool("/usr/bin/sqlite3", [path, """
                PRAGMA journal_mode=\(journalMode);
                CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, created_at TEXT);
                INSERT INTO facts(statement, created_at) VALUES ('Old(fact).', '2020-01-01T00:00:00Z');
                """])
        }
        let load = try PipedLoad(
            ["import", "-", "--db", kb, "--into-existing", "--format", "text", "--batch-size", "2"])
        try load.write("A(1).\nA(2).\n")
        try load.wait(for: 3, from: "SELECT count(*) FROM facts", in: kb)
        #expect(rename(other, kb) == 0)
        try load.write("A(3).\nA(4).\n")
        let run = try load.finish()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the database file was replaced or removed"), "\(run.stderr)")
        #expect(try SQLiteFile.strings(kb, "SELECT statement FROM facts") == ["Old(fact)."])
    }

    /// An input that finished before the file was moved went into the old file too: it is reported failed.
    @Test func theInputsLoadedBeforeTheMoveAreReportedFailedToo() throws {
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "F(1).\nF(2).\n")
        let other = work.path("other.sqlite")
        #expect(try Factpipe.run(["import", try work.write("o.txt", "B(1).\n"), "--db", other, "-q"]).status == 0)
        let load = try PipedLoad(
            ["import", first, "-", "--db", work.database, "--format", "text", "--batch-size", "2", "--json"])
        try load.write("A(1).\nA(2).\n")
        // Both inputs have a committed batch: the first is done, the second is being read.
        try load.wait(for: 2, from: "SELECT count(*) FROM factpipe_loads WHERE records >= 2", in: work.database)
        #expect(rename(other, work.database) == 0)
        try load.write("A(3).\nA(4).\n")
        let run = try load.finish()
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let loads = try #require(summary["loads"] as? [[String: Any]])
        #expect(loads.map { $0["status"] as? String } == ["failed", "failed"], "\(loads)")
    }

    /// `optimize` works on the file it opened: moved over meanwhile, it says so and fails (1) instead of
    /// reporting a file it never touched as optimized. A reader held open keeps its checkpoint waiting
    /// (250 ms), so the move lands while it runs.
    @Test func optimizeOfADatabaseMovedOverFailsAndLeavesTheNewFileAsItWas() throws {
        let work = try CLIWorkspace()
        let other = work.path("other.sqlite")
        for attempt in 1...3 {
            for file in [work.database, other] { try? FileManager.default.removeItem(atPath: file) }
            #expect(try Factpipe.run(["import", try work.write("a.txt", "A(1).\nA(2).\n"), "--db", work.database, "-q"])
                .status == 0)
            #expect(try Factpipe.run(["import", try work.write("b.txt", "B(1).\n"), "--db", other, "-q"]).status == 0)
            let otherBytes = try sha256sum(other)
            let reader = try RawDatabase(work.database, readOnly: true)
            try reader.execute("BEGIN")
            #expect(try reader.int("SELECT count(*) FROM facts") == 2)
            let optimize = try BackgroundProcess(BinaryLocator.factpipe, ["optimize", "--db", work.database])
            // ANALYZE has written to the log: optimize has the file open.
            _ = poll(timeout: 60) {
                !optimize.isRunning || ((try? FileManager.default.attributesOfItem(
                    atPath: work.database + "-wal")[.size] as? Int) ?? 0) > 0
            }
            #expect(rename(other, work.database) == 0)
            try reader.execute("COMMIT")
            let run = try optimize.wait()
            // Finished before the move (a machine too slow to poll in time): the next attempt, unrecorded.
            guard run.status != 0 else { continue }
            #expect(run.status == 1, "attempt \(attempt): \(run.stderr)")
            #expect(run.stderr.contains("the database file was replaced or removed while optimize wrote to it"),
                    "\(run.stderr)")
            #expect(!run.stdoutText.contains("optimized"), "\(run.stdoutText)")
            #expect(try sha256sum(work.database) == otherBytes)
            #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts") == ["B(1)."])
            return
        }
        Issue.record("every optimize finished before the file could be moved")
    }
}
