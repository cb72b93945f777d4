import Foundation
import Testing

/// `run`'s steps after the load, as a user sees them: the snapshot retention keeps the right files.
@Suite struct RunAfterStepsTests {
    private var today: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date())
    }

    /// A pipeline file into `kb.sqlite` of two facts, writing `snap-{date}.ndjson.zst` and keeping 1.
    private func retentionJob(_ work: CLIWorkspace) throws -> String {
        let input = try work.write("in.txt", "Kept(one).\nKept(two).\n")
        return try work.write("job.toml", """
            name = "retention"
            database = "kb.sqlite"
            [sources]
            paths = ["\(input)"]
            [after]
            snapshot = "snap-{date}.ndjson.zst"
            keep_snapshots = 1
            """)
    }

    /// An older snapshot whose name sorts after today's (a date in the future, a clock set wrong) is the
    /// one retention removes; the snapshot the run just wrote stays.
    @Test func retentionNeverRemovesTheSnapshotJustWritten() throws {
        let work = try CLIWorkspace()
        let file = try retentionJob(work)
        let first = try Factpipe.run(["run", file, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        let current = work.path("snap-\(today).ndjson.zst")
        let future = work.path("snap-2999-12-31.ndjson.zst")
        try FileManager.default.copyItem(atPath: current, toPath: future)
        try FileManager.default.copyItem(atPath: current + ".sha256", toPath: future + ".sha256")

        let second = try Factpipe.run(["run", file, "--force", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let steps = try #require(try second.json()["steps"] as? [String])
        #expect(steps.count == 1, "\(steps)")
        #expect(steps.first?.hasPrefix("snapshot \(current): 2 facts, ") == true, "\(steps)")
        #expect(steps.first?.hasSuffix("; removed 1 older (keeping 1)") == true, "\(steps)")
        #expect(second.stderr.contains("factpipe: after: snapshot \(current): 2 facts"), "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: current))
        #expect(!FileManager.default.fileExists(atPath: future))
        #expect(!FileManager.default.fileExists(atPath: future + ".sha256"))
        #expect(try Factpipe.run(["verify", current, "-q"]).status == 0)
    }

    /// A database made anew at the pipeline's database path (a night that rebuilds it from scratch) replaces the
    /// day's snapshot as before; the earlier snapshots of the database the path held before record another
    /// identity: `keep_snapshots` leaves them (they may be another host's) and the run says so.
    @Test func retentionLeavesAndNamesTheSnapshotsOfAnotherDatabaseAtThePath() throws {
        let work = try CLIWorkspace()
        let file = try retentionJob(work)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        let current = work.path("snap-\(today).ndjson.zst")
        let earlier = work.path("snap-2000-01-01.ndjson.zst")
        try FileManager.default.copyItem(atPath: current, toPath: earlier)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: work.path("kb.sqlite" + suffix)) }
        let rebuilt = try Factpipe.run(["run", file, "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let steps = try #require(try rebuilt.json()["steps"] as? [String])
        #expect(steps.first?.contains("; it replaced the snapshot made 20") == true, "\(steps)")
        #expect(steps.first?.contains("; left 1 of other databases at that database's path") == true, "\(steps)")
        #expect(FileManager.default.fileExists(atPath: earlier))
        #expect(try Factpipe.run(["verify", current, "-q"]).status == 0)
    }
}

extension RunAfterStepsTests {
    /// A snapshot an earlier release wrote records no identity: once the database has one, it may be this
    /// database's or another host's at the same path. `keep_snapshots` leaves it, and the step says so.
    /// And a database without an identity is not the one a snapshot recording one is of: the run refuses to
    /// replace the day's (it took a database it could not read the identity of and one without for the same).
    @Test func retentionLeavesAndNamesSnapshotsThatRecordNoIdentity() throws {
        let work = try CLIWorkspace()
        let file = try retentionJob(work)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        // As an earlier release made the database and wrote a snapshot of it: no identity in either.
        try RawDatabase(work.path("kb.sqlite")).execute("DELETE FROM factpipe_sequence WHERE name = 'database_id'")
        let current = work.path("snap-\(today).ndjson.zst")
        let refused = try Factpipe.run(["run", file, "--force"])
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("is a snapshot of another database at"), "\(refused.stderr)")
        for suffix in ["", ".sha256"] { try FileManager.default.removeItem(atPath: current + suffix) }
        let earlier = work.path("snap-2000-01-01.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.path("kb.sqlite"), "-o", earlier, "-q"]).status == 0)
        let later = try Factpipe.run(["run", file, "--force", "--json"])
        #expect(later.status == 0, "\(later.stderr)")
        let steps = try #require(try later.json()["steps"] as? [String])
        #expect(steps.first?.contains("; left 1 that record no database identity") == true, "\(steps)")
        #expect(steps.first?.contains("removed") == false, "\(steps)")
        #expect(FileManager.default.fileExists(atPath: earlier))
        #expect(try Factpipe.run(["verify", earlier, "-q"]).status == 0)
    }

    /// A load holding the writer lock when the run reaches `[after] optimize` (someone loading at a
    /// terminal, the same pipeline run twice) is waited for, up to `wait_seconds`, as the run's own loads
    /// wait: the optimize step refused at once, the run failed and its snapshot was not written.
    @Test func theOptimizeStepWaitsForALoadThatHoldsTheLock() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("drop"), withIntermediateDirectories: true)
        try work.write("drop/in.txt", "Kept(one).\nKept(two).\n")
        let file = try work.write("job.toml", """
            name = "waits"
            database = "kb.sqlite"
            [sources]
            paths = ["drop/*.txt"]
            [load]
            wait_seconds = 60
            [after]
            optimize = true
            snapshot = "snap-{date}.ndjson.zst"
            """)
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        try #require(try Factpipe.run(["optimize", "--db", work.path("kb.sqlite")]).status == 0)

        // Nothing new in the drop folder (the load phase takes no lock); the lock is let go a second after
        // the run starts.
        try FileManager.default.removeItem(atPath: work.path("drop/in.txt"))
        var lock: HeldLoadLock? = try HeldLoadLock(database: work.path("kb.sqlite"))
        let released = Date().addingTimeInterval(1)
        let run = try Factpipe.run(["run", file, "--json"]) { _ in
            usleep(useconds_t(max(0, released.timeIntervalSinceNow) * 1_000_000))
            lock = nil
        }
        #expect(lock == nil)
        #expect(run.status == 0, "\(run.stderr)")
        let steps = try #require(try run.json()["steps"] as? [String], "\(run.stdoutText)")
        #expect(steps.count == 2 && steps[0].hasPrefix("optimize") && steps[1].hasPrefix("snapshot"), "\(steps)")
        #expect(FileManager.default.fileExists(atPath: work.path("snap-\(today).ndjson.zst")))
    }
}
