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

    /// A signal while a run's `[after] optimize` runs stops that step as `factpipe optimize` stops it:
    /// rolled back, 130. Before, the step ran on to its end and the run exited 0.
    @Test func aSignalDuringARunsOptimizeStopsTheStep() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        let file = try work.write("p.toml", """
            name = "p"
            database = "kb.sqlite"
            [sources]
            paths = ["facts.ndjson"]
            [after]
            optimize = true
            """)
        var facts = 200_000
        for attempt in 1...3 {
            for name in ["kb.sqlite", "kb.sqlite-wal", "kb.sqlite-shm", "kb.sqlite-factpipe.lock"] {
                try? FileManager.default.removeItem(atPath: work.path(name))
            }
            #expect(try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "5", "-o", input, "-q"]).status == 0)
            let run = try BackgroundProcess(BinaryLocator.factpipe, ["run", file])
            // The optimize step holds the writer lock under its own name.
            _ = poll(timeout: 120) {
                !run.isRunning || ((try? String(contentsOfFile: work.database + "-factpipe.lock", encoding: .utf8))?
                    .contains("optimize started") ?? false)
            }
            kill(run.pid, SIGINT)
            let result = try run.wait()
            // Finished before the signal (a fast machine): more facts, a longer ANALYZE.
            guard result.stderr.contains("interrupted during") else {
                facts *= 2
                continue
            }
            #expect(result.status == 130, "attempt \(attempt): \(result.stderr)")
            #expect(result.stderr.contains("that step was rolled back"), "\(result.stderr)")
            #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
            #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["done"])
            return
        }
        Issue.record("every run finished its optimize before it could be signalled")
    }

    /// The checkpoint and the integrity check stop on a signal as the steps before them do. A signal in the
    /// check ended it as a failed statement, exit 1 — which says the check found damage — and one during
    /// the checkpoint was dropped while the whole check ran (exit 0). Signals at moments spread over the
    /// command: each ends it with 130 naming its step, or comes after its end (0), never 1.
    @Test func aSignalDuringTheCheckpointOrTheCheckIsAnInterruptNotAFailure() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "200000", "--seed", "6", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        var interrupted = 0
        for delay in stride(from: 50_000, through: 750_000, by: 100_000) {
            let optimize = try BackgroundProcess(BinaryLocator.factpipe, ["optimize", "--db", work.database])
            usleep(useconds_t(delay))
            kill(optimize.pid, SIGINT)
            let run = try optimize.wait()
            #expect(run.status == 130 || run.status == 0, "after \(delay) µs: \(run.status) \(run.stderr)")
            #expect(!run.stderr.contains("statement failed"), "after \(delay) µs: \(run.stderr)")
            if run.status == 130 {
                interrupted += 1
                #expect(run.stderr.contains("interrupted during"), "\(run.stderr)")
            }
        }
        #expect(interrupted > 0, "every optimize finished before its signal")
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
    }
}
