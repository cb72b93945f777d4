import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A writer lock file removed while a load runs (a cleanup of `*.lock` files) let a second import take a
/// new one and run beside the first: the first then ended with counts that did not add up. Each commit now
/// checks the lock file: removed and not re-created, the lock is taken again; re-created by another load,
/// the first load writes nothing more.
@Suite struct LockFileRemovedTests {
    private func pipedLoad(_ work: CLIWorkspace) throws -> PipedLoad {
        try PipedLoad(["import", "-", "--db", work.database, "--format", "text", "--batch-size", "2"])
    }

    @Test func aLockFileRemovedIsTakenAgainAndKeepsTheNextLoadWaiting() throws {
        let work = try CLIWorkspace()
        let load = try pipedLoad(work)
        try load.feed("A(1).\nA(2).\n", committing: 2, in: work.database)
        let lockFile = work.database + "-factpipe.lock"
        #expect(unlink(lockFile) == 0)
        try load.feed("A(3).\nA(4).\n", committing: 4, in: work.database)
        // The commit took the lock again, on a new file that names its holder.
        let holder = try String(contentsOfFile: lockFile, encoding: .utf8)
        #expect(holder.hasPrefix("pid \(load.process.pid),"), "\(holder)")
        let other = try Factpipe.run(
            ["import", try work.write("b.txt", "B(1).\n"), "--db", work.database, "--wait", "0"])
        #expect(other.status == 1, "\(other.stderr)")
        #expect(other.stderr.contains("another load is writing to this database (pid \(load.process.pid)"),
                "\(other.stderr)")
        let run = try load.finish()
        #expect(run.status == 0, "\(run.stderr)")
        let db = try RawDatabase(work.database, readOnly: true)
        #expect(try db.int("SELECT count(*) FROM facts") == 4)
        #expect(try db.int("SELECT count(*) FROM factpipe_loads") == 1)
    }

    @Test func aLockFileAnotherLoadRecreatedStopsTheFirstLoadAtItsLastCommit() throws {
        let work = try CLIWorkspace()
        let load = try pipedLoad(work)
        try load.feed("A(1).\nA(2).\n", committing: 2, in: work.database)
        #expect(unlink(work.database + "-factpipe.lock") == 0)
        let other = try Factpipe.run(["import", try work.write("b.txt", "B(1).\n"), "--db", work.database])
        #expect(other.status == 0, "\(other.stderr)")
        try load.write("A(3).\nA(4).\n")
        let run = try load.finish()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the lock file was removed or replaced while this load ran"), "\(run.stderr)")
        let db = try RawDatabase(work.database, readOnly: true)
        // What the first load committed before the other ran is kept; nothing after it was written.
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement IN ('A(1).', 'A(2).', 'B(1).')") == 3)
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement IN ('A(3).', 'A(4).')") == 0)
        #expect(try db.column("PRAGMA integrity_check") == ["ok"])
    }

    /// An atomic load commits once, after its rejects were appended to the rejects file: a lock file
    /// re-created by someone else meanwhile takes back those rejects with the facts.
    @Test func anAtomicLoadWhoseLockFileWasReplacedKeepsNeitherFactsNorRejects() throws {
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", try work.write("z.txt", "Z(0).\n"), "--db", work.database, "-q"])
            .status == 0)
        let rejects = work.path("rejects.ndjson")
        let load = try PipedLoad(
            ["import", "-", "--db", work.database, "--format", "text", "--atomic", "--rejects", rejects])
        try load.write("A(1).\nnot a fact\n")
        // Its transaction shows nothing until the end; its lock file names it once it holds the lock.
        let lockFile = work.database + "-factpipe.lock"
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOfFile: lockFile, encoding: .utf8))?.hasPrefix("pid \(load.process.pid),") != true {
            try #require(Date() < deadline && load.process.isRunning, "the load never took the lock")
            usleep(10_000)
        }
        // Replaced in one step (a rename): removed first and then written, the load could check its lock file in
        // between, find none, take the lock again on a file of its own, and have the words written into that.
        let replacement = try work.write("replacement.lock", "pid 1, another load\n")
        #expect(rename(replacement, lockFile) == 0)
        let run = try load.finish()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the lock file was removed or replaced while this load ran"), "\(run.stderr)")
        #expect(run.stderr.contains("pid 1, another load"), "\(run.stderr)")
        #expect(try work.read("rejects.ndjson").isEmpty)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
    }
}
