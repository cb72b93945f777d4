import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two loads into different databases naming one rejects file: the second started the file afresh under
/// the first, whose rejects were lost while it reported them written (exit 2, "done"). The file is now
/// held by the load writing it, and another load naming it is refused before it writes.
@Suite struct RejectsSharedTests {
    /// True while some process holds `path` with `flock` (tried without waiting, and let go at once).
    private func isHeld(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// An import of standard input into `database` writing its rejects to `rejects`, running until `feed`
    /// is closed; returned once it holds the rejects file.
    private func loadHoldingRejects(
        _ rejects: String, database: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (feed: Pipe, load: BackgroundProcess) {
        let feed = Pipe()
        let load = try BackgroundProcess(BinaryLocator.factpipe,
            ["import", "-", "--format", "text", "--db", database, "--rejects", rejects, "--json"],
            stdin: feed.fileHandleForReading)
        let deadline = Date().addingTimeInterval(20)
        while !isHeld(rejects), load.isRunning, Date() < deadline { usleep(20_000) }
        #expect(isHeld(rejects), "the running load holds its rejects file", sourceLocation: sourceLocation)
        return (feed, load)
    }

    @Test func aSecondLoadNamingTheRejectsFileOfARunningLoadIsRefused() throws {
        let work = try CLIWorkspace()
        let shared = work.path("shared.ndjson")
        let (feed, first) = try loadHoldingRejects(shared, database: work.path("one.sqlite"))

        let other = try work.write("other.txt", "Q(a).\nnot a statement\n")
        let second = try Factpipe.run(["import", other, "--db", work.path("two.sqlite"), "--rejects", shared])
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("cannot open \(shared) for writing: another load is writing it; "
            + "give each load its own rejects file"), "\(second.stderr)")
        // Refused before its database or lock file was made: nothing new is left beside it.
        for name in ["two.sqlite", "two.sqlite-factpipe.lock"] {
            #expect(!FileManager.default.fileExists(atPath: work.path(name)), "\(name) was left")
        }

        var text = ""
        for index in 0..<3_000 { text += index % 100 == 0 ? "bad line \(index)\n" : "P(a\(index)).\n" }
        try feed.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        try feed.fileHandleForWriting.close()
        let done = try first.wait()
        #expect(done.status == 2, "\(done.stderr)")
        #expect(int(try done.json(), "rejected") == 30)
        let lines = try String(contentsOfFile: shared, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 30, "every reject of the first load is in the file")
        #expect(lines.allSatisfy { $0.contains(#""source":"-""#) })
        #expect(!isHeld(shared))

        // Once the first load is over, the second may start the file afresh with its own rejects.
        let again = try Factpipe.run(["import", other, "--db", work.path("two.sqlite"), "--rejects", shared])
        #expect(again.status == 2, "\(again.stderr)")
        #expect(try String(contentsOfFile: shared, encoding: .utf8).split(separator: "\n").count == 1)
    }

    /// A rejects file deleted while the load wrote it took the refusals with it, and the load said nothing.
    @Test func aRejectsFileDeletedDuringTheLoadIsNoted() throws {
        let work = try CLIWorkspace()
        let rejects = work.path("rejects.ndjson")
        let feed = Pipe()
        let load = try BackgroundProcess(BinaryLocator.factpipe,
            ["import", "-", "--format", "text", "--db", work.database, "--rejects", rejects, "--json"],
            stdin: feed.fileHandleForReading)
        let deadline = Date().addingTimeInterval(20)
        while !isHeld(rejects), load.isRunning, Date() < deadline { usleep(20_000) }
        #expect(isHeld(rejects), "the load holds its rejects file")
        try FileManager.default.removeItem(atPath: rejects)
        try feed.fileHandleForWriting.write(contentsOf: Data("P(a).\nnot a fact\nQ(b).\n".utf8))
        try feed.fileHandleForWriting.close()
        let done = try load.wait()
        #expect(done.status == 2, "\(done.stderr)")
        let notes = try done.json()["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("the rejects file \(rejects) was deleted while the load wrote it") }, "\(notes)")
        #expect(!FileManager.default.fileExists(atPath: rejects))
    }

    /// The same pipeline started twice, or a load run again while its first run goes on: the second names
    /// the rejects file the first holds, but it loads into the same database, so it waits for the first as
    /// for any load into that database (it failed at once, "another load is writing it", while a run
    /// started a moment later waited), and its rejects follow the first's.
    @Test func aSecondLoadIntoTheSameDatabaseWaitsForTheLoadHoldingItsRejectsFile() throws {
        let work = try CLIWorkspace()
        let shared = work.path("rejects.ndjson")
        let (feed, first) = try loadHoldingRejects(shared, database: work.database)

        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: false)
        try work.write("in/other.txt", "Q(a).\nnot a statement\n")
        let pipeline = try work.write("p.toml", """
            name = "p"
            database = "\(work.database)"
            [sources]
            paths = ["in/*.txt"]
            [load]
            rejects = "\(shared)"
            """)
        let second = try BackgroundProcess(BinaryLocator.factpipe, ["run", pipeline, "--json"])
        usleep(1_000_000)
        #expect(second.isRunning, "the second load waits for the first")

        try feed.fileHandleForWriting.write(contentsOf: Data("P(a).\nbad line\n".utf8))
        try feed.fileHandleForWriting.close()
        #expect(try first.wait().status == 2)
        let run = try second.wait()
        #expect(run.status == 2, "\(run.stderr)")
        let lines = try String(contentsOfFile: shared, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains(#""source":"-""#) == true && lines.last?.contains("other.txt") == true)
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == ["P(a).", "Q(a)."])
    }
}
