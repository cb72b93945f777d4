import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A signal while `optimize` rebuilds the indexes or vacuums: the step stops, its transaction rolls back,
/// the log it wrote is truncated, and the command exits 130 (143 for SIGTERM). Before, the default action
/// killed it and left a log of up to 70 % of the database beside it.
@Suite struct OptimizeSignalTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalDuringAStepRollsItBackAndLeavesNoLog(signal: Int32) throws {
        let work = try CLIWorkspace()
        var facts = 400_000
        for attempt in 1...3 {
            for file in [work.database, work.database + "-wal", work.database + "-shm"] {
                try? FileManager.default.removeItem(atPath: file)
            }
            let input = work.path("facts.ndjson")
            #expect(try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "4", "-o", input, "-q"]).status == 0)
            #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
            let count = try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")
            let optimize = try BackgroundProcess(
                BinaryLocator.factpipe, ["optimize", "--db", work.database, "--reindex", "--vacuum"])
            // REINDEX and VACUUM write through the log: a few MB of it means one of them runs.
            _ = poll(timeout: 60) {
                !optimize.isRunning || ((try? FileManager.default.attributesOfItem(
                    atPath: work.database + "-wal")[.size] as? Int) ?? 0) > 4_000_000
            }
            kill(optimize.pid, signal)
            let run = try optimize.wait()
            guard run.stderr.contains("interrupted during") else {
                Issue.record("attempt \(attempt): optimize of \(facts) facts finished before the signal; trying with more")
                facts *= 2
                continue
            }
            #expect(run.status == (signal == SIGTERM ? 143 : 130), "\(run.stderr)")
            #expect(run.stderr.contains("that step was rolled back"), "\(run.stderr)")
            let log = (try? FileManager.default.attributesOfItem(atPath: work.database + "-wal")[.size] as? Int) ?? 0
            #expect(log == 0, "the log left beside the database: \(log) bytes")
            #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
            #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == count)
            // The next optimize runs to its end.
            #expect(try Factpipe.run(["optimize", "--db", work.database]).status == 0)
            return
        }
        Issue.record("every optimize finished before it could be signalled")
    }
}
