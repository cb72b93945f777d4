import FactPipeTestSupport
import Foundation
import Testing

/// An atomic load keeps the database's schema as it was, whether it commits or fails, and a failed
/// one keeps no rejects.
@Suite struct AtomicLoadSchemaTests {
    private static func tables(_ database: String) throws -> [String] {
        try SQLiteFile.strings(database, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
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
