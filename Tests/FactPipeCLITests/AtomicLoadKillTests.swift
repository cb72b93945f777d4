import FactPipeTestSupport
import Foundation
import Testing

/// An atomic load killed before it commits leaves no facts; its rejects must not stay either, or the
/// next run of it writes them a second time.
@Suite struct AtomicLoadKillTests {
    static let pendingTable = "factpipe_pending_rejects"

    private static func tables(_ database: String) throws -> [String] {
        try SQLiteFile.strings(database, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    }

    @Test func aKilledAtomicLoadsRejectsAreCutSoItsNextRunWritesThemOnce() throws {
        let work = try CLIWorkspace()
        try Self.killAndRunAgain(
            work: work, database: work.database,
            facts: { try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") },
            tables: { try Self.tables(work.database) })
    }

    /// An atomic load of a FIFO into `database` is killed once its rejects are on disk, and then run again;
    /// the rejects file holds each of them once. `facts` and `tables` read the store.
    static func killAndRunAgain(
        work: CLIWorkspace, database: String, facts: () throws -> [String], tables: () throws -> [String]
    ) throws {
        let rejects = work.path("rejects.ndjson")
        let earlier = try Factpipe.run([
            "import", try work.write("earlier.txt", "bad earlier\nP(a).\n"), "--db", database, "--rejects", rejects,
        ])
        #expect(earlier.status == 2, "\(earlier.stderr)")  // done, with rejects
        let before = try work.read("rejects.ndjson")
        let schema = try tables()
        #expect(!schema.contains(pendingTable))

        // The atomic load reads a FIFO held open, so it is still running when its rejects are on disk.
        let content = "bad one\nQ(1).\nQ(2).\nbad two\nQ(3).\nQ(4).\n"
        let fifo = try HeldOpenFIFO(work.path("in.fifo"))
        let arguments = [
            "import", fifo.path, "--db", database, "--atomic", "--resume", "--rejects", rejects,
            "--batch-size", "2", "--json",
        ]
        let killed = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        #expect(fifo.openWhenReaderArrives())
        try fifo.write(content)
        let written = poll(timeout: 60) {
            (try? work.read("rejects.ndjson"))?.split(separator: "\n").count == 3 || !killed.isRunning
        }
        #expect(written && killed.isRunning, "the load's two rejects never reached the file")
        killed.killNine()
        _ = try killed.wait()
        fifo.close()
        #expect(try facts() == ["P(a)."])
        #expect(try work.read("rejects.ndjson").split(separator: "\n").count == 3, "the killed load's rejects")
        #expect(try tables().contains(pendingTable))

        // Its next run cuts them first, then writes them again: each once.
        let again = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        #expect(fifo.openWhenReaderArrives())
        try fifo.write(content)
        fifo.close()
        let run = try again.wait()
        #expect(run.status == 2, "\(run.stderr)")  // done, with rejects
        let summary = try run.json()
        #expect(int(summary, "inserted") == 4)
        let notes = summary["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("atomic load of \(fifo.path) that was stopped before it committed") },
                "\(notes)")
        let lines = try work.read("rejects.ndjson")
        #expect(lines.hasPrefix(before))
        let added = String(lines.dropFirst(before.count)).split(separator: "\n")
        #expect(added.count == 2, "\(added)")
        #expect(added.allSatisfy { $0.contains("\"source\":\"\(fifo.path)\"") })
        #expect(try facts() == ["P(a).", "Q(1).", "Q(2).", "Q(3).", "Q(4)."])
        // The rows that named the rejects file went with the commit.
        #expect(try tables() == schema)
    }

    @Test func anAtomicLoadThatCommitsOrFailsLeavesTheSchemaAsItWas() throws {
        let work = try CLIWorkspace()
        let rejects = work.path("rejects.ndjson")
        try work.loadFacts()
        let schema = try Self.tables(work.database)
        let done = try Factpipe.run([
            "import", try work.write("ok.txt", "bad\nR(1).\n"), "--db", work.database, "--atomic", "--rejects", rejects,
        ])
        #expect(done.status == 2, "\(done.stderr)")
        #expect(try Self.tables(work.database) == schema)
        #expect(try work.read("rejects.ndjson").split(separator: "\n").count == 1)
        let failed = try Factpipe.run([
            "import", try work.write("fails.txt", "bad\nR(2).\nbad again\n"), "--db", work.database, "--atomic",
            "--rejects", rejects, "--max-errors", "1",
        ])
        #expect(failed.status != 0)
        #expect(try Self.tables(work.database) == schema)
        #expect(try work.read("rejects.ndjson").isEmpty, "a failed atomic load keeps no rejects")
    }
}

/// An atomic load of several inputs that fails at the last one stores nothing, and says so.
@Suite struct AtomicLoadSummaryTests {
    @Test func aFailedAtomicLoadReportsNothingInsertedAndEachInputOnceAsFailed() throws {
        let work = try CLIWorkspace()
        try Self.failAtTheLastInput(work: work, database: work.database)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }

    /// Loads two good inputs and a cut-short gzip file atomically into `database`: the summary inserts
    /// nothing and lists each input once, none of them done.
    static func failAtTheLastInput(work: CLIWorkspace, database: String) throws {
        let first = try work.write("a.txt", "A(a, b).\n")
        let second = try work.write("c.txt", "B(a, b).\n")
        let broken = work.path("b.ndjson.gz")
        let text = String(repeating: #"{"statement":"C(x, y)."}"# + "\n", count: 2_000)
        let gzipped = try Factpipe.tool("/bin/gzip", ["-c"], stdin: Data(text.utf8)).stdout
        try gzipped.prefix(gzipped.count / 2).write(to: URL(fileURLWithPath: broken))
        let run = try Factpipe.run(["import", first, second, broken, "--db", database, "--atomic", "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try run.json()
        #expect(int(summary, "inserted") == 0)
        let loads = summary["loads"] as? [[String: Any]] ?? []
        #expect(loads.count == 3, "\(loads)")
        #expect(loads.allSatisfy { ($0["status"] as? String) != "done" }, "\(loads)")
    }
}
