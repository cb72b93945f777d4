import Foundation
import Testing

/// `scripts/soak` at a small size: a pipeline run night after night with new, repeated, broken and
/// killed-then-resumed inputs, readers at work, backups and exports restored — every promise checked
/// after every round.
@Suite struct SoakScriptTests {
    @Test func aFewNightsOfLoadsKeepEveryPromise() throws {
        let script = packageRootURL().appendingPathComponent("scripts/soak")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", script.path, "--rounds", "4", "--facts", "3000", "--bin", BinaryLocator.factpipe.path])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderr)")
        #expect(run.stdoutText.contains("killed and resumed"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("soak: 4 rounds, 12000 facts, 60 refused"), "\(run.stdoutText)")
        #expect(run.stdoutText.hasSuffix(": ok\n"), "\(run.stdoutText)")
    }
}

/// The log a load leaves behind.
@Suite struct WriteAheadLogTests {
    @Test func aLoadEmptiesTheLogOnceNoReaderNeedsIt() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "20000", "--seed", "3", "-o", input, "-q"]).status == 0)
        // A reader connected all along (as a server's would be), between its queries: with it open, the
        // log is not removed when the load closes its connection.
        let reader = try SQLiteShell(work.database)
        defer { reader.close() }
        reader.send("SELECT count(*) FROM facts;")
        try #require(poll(timeout: 30) { FileManager.default.fileExists(atPath: work.database + "-shm") })
        let run = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "1000", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        let log = (try? FileManager.default.attributesOfItem(atPath: work.database + "-wal")[.size] as? Int) ?? -1
        #expect(log == 0, "the log keeps \(log) bytes after the load")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") > 19_000)
    }

    @Test func aReaderHoldingTheLogDoesNotHoldUpTheLoad() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "5000", "--seed", "4", "-o", input, "-q"]).status == 0)
        // A read transaction open across the whole load.
        let reader = try SQLiteShell(work.database)
        defer { reader.close() }
        reader.send("BEGIN; SELECT count(*) FROM facts;")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--quiet", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") ?? 0 > 4_000)
    }
}

/// A `sqlite3` shell kept open on a database, fed statements through its standard input.
final class SQLiteShell {
    private let process = Process()
    private let input = Pipe()

    init(_ database: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func send(_ sql: String) {
        input.fileHandleForWriting.write(Data((sql + "\n").utf8))
    }

    /// Ends its input and waits for it to exit.
    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
