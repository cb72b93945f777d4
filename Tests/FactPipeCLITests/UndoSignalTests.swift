import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT or SIGTERM during an `undo` killed it outright: no word, its `-wal` and `-shm` left, and when the
/// signal came just after the commit the undo had happened though the shell said "Terminated". The undo's
/// transaction now rolls back, the command says so and exits 130 / 143, and the next undo runs whole.
@Suite struct UndoSignalTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalDuringAnUndoRollsItBackAndSaysSo(signal: Int32) throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "300000", "--seed", "9", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let count = try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")
        var stopped = false
        for _ in 0..<3 where !stopped {
            let load = try SQLiteFile.int(work.database, "SELECT max(id) FROM factpipe_loads")
            let undo = try BackgroundProcess(BinaryLocator.factpipe, ["undo", "\(load)", "--db", work.database, "--json"])
            // Signalled once it holds the writer lock (its signal handling is set up before it asks for it): a
            // signal sent after a fixed delay could come before that on a loaded machine, where a process started
            // with SIGINT ignored (a background job of a script) then never saw it and the undo ran whole.
            let lock = work.database + "-factpipe.lock"
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, undo.process.isRunning,
                  !((try? String(contentsOfFile: lock, encoding: .utf8)) ?? "").contains("undo of load \(load)") {
                usleep(200)
            }
            kill(undo.pid, signal)
            let run = try undo.wait()
            if run.status == 0 {
                // Done before the signal: load it again and try sooner.
                #expect(try Factpipe.run(["import", input, "--db", work.database, "--force", "-q"]).status == 0)
                continue
            }
            stopped = true
            #expect(run.status == (signal == SIGTERM ? 143 : 130), "\(run.stderr)")
            // `--json` says so, with the code the process exits with (it said 1, "failed").
            let object = try run.json()
            #expect(object["status"] as? String == "interrupted" && object["exit_code"] as? Int == Int(run.status),
                    "\(object)")
            #expect(run.stderr.contains("was rolled back, the database is as it was")
                || run.stderr.contains("interrupted while waiting"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.database + "-wal"))
            #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads ORDER BY id").last == "done")
            #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == count)
        }
        #expect(stopped, "every undo finished before its signal")
        let whole = try Factpipe.run(["undo", "\(try SQLiteFile.int(work.database, "SELECT max(id) FROM factpipe_loads"))",
                                      "--db", work.database])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }
}
