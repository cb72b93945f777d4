import FactPipeTestSupport
import Foundation
import Testing

/// An atomic load keeps the database's schema as it was, whether it commits or fails, and a failed
/// one keeps no rejects.
@Suite struct AtomicLoadSchemaTests {
    private static func tables(_ database: String) throws -> [String] {
        try SQLiteFile.strings(database, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    }

    @Test func aKilledAtomicLoadLeavesNoRejectsForItsNextRunToRepeat() throws {
        let work = try CLIWorkspace()
        try Self.killAndRunAgain(
            work: work, database: work.database,
            facts: { try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") })
    }

    /// An atomic load of a FIFO into `database` is killed once its two rejects are spooled, then run
    /// again: the rejects file holds each reject once, and nothing of the spool is left. `facts` reads
    /// the store.
    static func killAndRunAgain(work: CLIWorkspace, database: String, facts: () throws -> [String]) throws {
        let rejects = work.path("rejects.ndjson")
        let earlier = try Factpipe.run([
            "import", try work.write("earlier.txt", "bad earlier\nP(a).\n"), "--db", database, "--rejects", rejects,
        ])
        #expect(earlier.status == 2, "\(earlier.stderr)")  // done, with rejects
        let before = try work.read("rejects.ndjson")

        // The atomic load reads a FIFO held open, so it is still running when its rejects are spooled.
        let content = "bad one\nQ(1).\nQ(2).\nbad two\nQ(3).\nQ(4).\n"
        let fifo = try HeldOpenFIFO(work.path("in.fifo"))
        let arguments = [
            "import", fifo.path, "--db", database, "--atomic", "--resume", "--rejects", rejects,
            "--batch-size", "2", "--json",
        ]
        let killed = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        #expect(fifo.openWhenReaderArrives())
        try fifo.write(content)
        // The spool is unlinked at once: the load holds it open, and its bytes are read through /proc.
        let spooled = poll(timeout: 60) {
            let spool = spoolText(of: killed.pid)
            return spool?.split(separator: "\n").count == 2 || !killed.isRunning
        }
        #expect(spooled && killed.isRunning, "the load's two rejects never reached its spool")
        killed.killNine()
        _ = try killed.wait()
        fifo.close()
        #expect(try facts() == ["P(a)."])
        #expect(try work.read("rejects.ndjson") == before, "the killed load wrote nothing into the rejects file")
        #expect(try work.contents("").filter { $0.contains(".factpipe-tmp-") }.isEmpty, "no spool is left")

        // Its next run removes the dead spool and writes each reject once.
        let again = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        #expect(fifo.openWhenReaderArrives())
        try fifo.write(content)
        fifo.close()
        let run = try again.wait()
        #expect(run.status == 2, "\(run.stderr)")  // done, with rejects
        #expect(int(try run.json(), "inserted") == 4)
        let lines = try work.read("rejects.ndjson")
        #expect(lines.hasPrefix(before))
        let added = String(lines.dropFirst(before.count)).split(separator: "\n")
        #expect(added.count == 2, "\(added)")
        #expect(added.allSatisfy { $0.contains("\"source\":\"\(fifo.path)\"") })
        #expect(try facts() == ["P(a).", "Q(1).", "Q(2).", "Q(3).", "Q(4)."])
        #expect(try work.contents("").filter { $0.contains(".factpipe-tmp-") }.isEmpty)
    }

    /// The text of the load `pid`'s spool, read through the descriptor it holds.
    static func spoolText(of pid: Int32) -> String? {
        let folder = "/proc/\(pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for descriptor in descriptors {
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + descriptor),
                link.contains(".factpipe-tmp-"), link.hasSuffix(" (deleted)")
            else { continue }
            return try? String(contentsOfFile: folder + "/" + descriptor, encoding: .utf8)
        }
        return nil
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
