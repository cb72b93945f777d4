import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP in the middle of a load: the open batch is rolled back, the committed ones stay,
/// and the summary and the ledger both say `interrupted`. The load reads a FIFO the test holds open, so
/// it is sure to be mid-load, with a known number of records committed, when the signal comes.
@Suite struct ImportSignalTests {
    /// Starts `factpipe import` of a held-open FIFO into `database`, writes `records` facts into it,
    /// waits until `committed` of them are committed (the rest wait in the open batch, as the input
    /// has not ended), sends `signal` and returns the finished run with the FIFO's path.
    private func interruptedImport(
        _ work: CLIWorkspace, database: String, records: Int, committed: Int, batchSize: Int, signal: Int32,
        quiet: Bool = false
    ) throws -> (run: FactpipeRun, input: String) {
        let input = try HeldOpenFIFO(work.path("facts-\(signal).fifo"))
        let load = try BackgroundProcess(
            BinaryLocator.factpipe,
            ["import", input.path, "--db", database, "--batch-size", "\(batchSize)", "--json"] + (quiet ? ["-q"] : []))
        try signalMidLoad(load, input, database: database, records: records, committed: committed, signal: signal)
        let run = try load.wait()
        input.close()
        return (run, input.path)
    }

    /// Opens the load's FIFO once the load reads it, writes `records` facts, waits until `committed` are
    /// committed and sends `signal`.
    private func signalMidLoad(
        _ load: BackgroundProcess, _ input: HeldOpenFIFO, database: String, records: Int, committed: Int, signal: Int32
    ) throws {
        try #require(input.openWhenReaderArrives(), "the load did not open its input")
        try input.write((0..<records).map { "Signal(item\($0), Kind\($0 % 7))." }.joined(separator: "\n") + "\n")
        let query = "SELECT coalesce(max(records), 0) FROM factpipe_loads"
        let reached = poll(timeout: 60) { (readOnlyInt(database, query) ?? 0) >= committed || !load.isRunning }
        try #require(reached && load.isRunning, "the load did not commit \(committed) records while its input was open")
        kill(load.pid, signal)
    }

    /// One Ctrl-C that arrives twice at once (to the process group, and forwarded by a wrapper) is one
    /// request for the clean stop: only a second signal a second later stops at once.
    @Test func twoSignalsAtOnceStopTheLoadCleanly() throws {
        let work = try CLIWorkspace()
        let input = try HeldOpenFIFO(work.path("twice.fifo"))
        let load = try BackgroundProcess(
            BinaryLocator.factpipe, ["import", input.path, "--db", work.database, "--batch-size", "1000", "--json"])
        try signalMidLoad(load, input, database: work.database, records: 3_500, committed: 3_000, signal: SIGINT)
        // Another signal (two of one kind may merge into one before delivery), right after the first.
        kill(load.pid, SIGTERM)
        let run = try load.wait()
        input.close()
        // Whichever of the two was taken first names the exit code.
        #expect([130, 143].contains(run.status), "\(run.stderr)")
        #expect(!run.stderr.contains("again"), "\(run.stderr)")
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "interrupted")
    }

    @Test func sigintStopsTheLoadAfterItsLastCommittedBatch() throws {
        let work = try CLIWorkspace()
        let (run, input) = try interruptedImport(
            work, database: work.database, records: 5_500, committed: 5_000, batchSize: 1_000, signal: SIGINT)
        #expect(run.status == 130, "\(run.stderr)")
        let json = try run.json()
        // The summary names the status the ledger records.
        #expect(json["status"] as? String == "interrupted")
        #expect(json["interrupted"] as? Bool == true)
        #expect(json["message"] as? String == "interrupted; the open batch was rolled back")
        expectCountsAddUp(json)
        #expect(run.stderr.contains("factpipe: interrupted; the open batch was rolled back"))
        // The five whole batches stay; the 500 records of the open one are rolled back.
        #expect(int(json, "records") == 5_000)
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(ledger["source"] as? String == input)
        #expect(ledger["status"] as? String == "interrupted")
        #expect(int(ledger, "records") == 5_000)
        #expect(int(ledger, "inserted") == 5_000)
        expectCountsAddUp(ledger)
        #expect(int(ledger, "updated") == 0)
        #expect(int(ledger, "checkpoint_line") == 5_001)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 5_000)
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
    }

    @Test func sigtermStopsTheLoadWithExitCode143() throws {
        let work = try CLIWorkspace()
        let (run, _) = try interruptedImport(
            work, database: work.database, records: 2_250, committed: 2_000, batchSize: 500, signal: SIGTERM,
            quiet: true)
        #expect(run.status == 143, "\(run.stderr)")
        // --quiet leaves out the summary, not why the load stopped.
        #expect(run.stderr == "factpipe: interrupted; the open batch was rolled back\n")
        let json = try run.json()
        #expect(json["interrupted"] as? Bool == true)
        expectCountsAddUp(json)
        #expect(int(json, "records") == 2_000)
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "interrupted")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == int(json, "inserted"))
        #expect(int(json, "inserted") == 2_000)
    }

    /// The terminal closing (SIGHUP) stops a load as SIGTERM does: committed batches kept, the ledger
    /// `interrupted`, exit 129. (Its default action killed the process: the ledger said `running`.)
    @Test func sighupStopsTheLoadWithExitCode129() throws {
        let work = try CLIWorkspace()
        let (run, _) = try interruptedImport(
            work, database: work.database, records: 2_250, committed: 2_000, batchSize: 500, signal: SIGHUP)
        #expect(run.status == 129, "\(run.stderr)")
        #expect(try run.json()["status"] as? String == "interrupted")
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "interrupted")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2_000)
    }

    /// A load started ignoring SIGHUP (`nohup`) goes on ignoring it, to the end of its input.
    @Test func aLoadStartedUnderNohupLoadsThroughASIGHUP() throws {
        let work = try CLIWorkspace()
        let input = try HeldOpenFIFO(work.path("facts.fifo"))
        let load = try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/env"), [
            "--ignore-signal=HUP", BinaryLocator.factpipe.path, "import", input.path, "--db", work.database,
            "--batch-size", "500", "--json",
        ])
        try signalMidLoad(load, input, database: work.database, records: 2_250, committed: 2_000, signal: SIGHUP)
        usleep(200_000)
        #expect(load.isRunning, "SIGHUP did not stop it")
        try input.write((2_250..<3_000).map { "Signal(item\($0), Kind\($0 % 7))." }.joined(separator: "\n") + "\n")
        input.close()
        let run = try load.wait()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 3_000)
    }
}
