import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ImportSignalTests {
    /// Starts `factpipe import`, sends SIGINT after `delay`, and returns the finished run.
    private func interruptedImport(
        _ arguments: [String], after delay: Duration, signal: Int32 = SIGINT
    ) throws -> FactpipeRun {
        try Factpipe.run(arguments) { process in
            // The delay counts from the moment the load's ledger row exists: on a busy machine hashing
            // the input can take longer than the delay itself.
            if let database = arguments.firstIndex(of: "--db").map({ arguments[$0 + 1] }) {
                let deadline = Date().addingTimeInterval(20)
                while process.isRunning, Date() < deadline {
                    if (try? SQLiteFile.int(database, "SELECT count(*) FROM factpipe_loads")).map({ $0 > 0 }) == true {
                        break
                    }
                    Thread.sleep(forTimeInterval: 0.02)
                }
            }
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            kill(process.processIdentifier, signal)
        }
    }

    @Test func sigintStopsTheLoadAfterItsLastCommittedBatch() throws {
        let work = try CLIWorkspace()
        var facts = 300_000
        var attempt = 0
        while true {
            attempt += 1
            let input = work.path("generated-\(facts).ndjson")
            let generate = try Factpipe.run(["generate", "--facts", "\(facts)", "-o", input, "-q"])
            #expect(generate.status == 0)
            let database = work.path("interrupted-\(attempt).sqlite")
            let run = try interruptedImport(
                ["import", input, "--db", database, "--batch-size", "1000", "--json"], after: .milliseconds(300))
            if run.status == 0 || run.status == 2, attempt < 3 {
                // The load finished before the signal: try again with more to load.
                try? FileManager.default.removeItem(atPath: input)
                facts *= 2
                continue
            }
            #expect(run.status == 130, "\(run.stderr)")
            let json = try run.json()
            // The summary names the status the ledger records.
            #expect(json["status"] as? String == "interrupted")
            #expect(json["interrupted"] as? Bool == true)
            #expect(json["message"] as? String == "interrupted; the open batch was rolled back")
            expectCountsAddUp(json)
            #expect(run.stderr.contains("factpipe: interrupted; the open batch was rolled back"))
            let records = try #require(int(json, "records"))
            #expect(records < facts)
            #expect(records % 1_000 == 0, "only whole batches are committed")
            let ledger = try #require(try SQLiteFile.ledger(database).first)
            #expect(ledger["status"] as? String == "interrupted")
            #expect(int(ledger, "records") == records)
            #expect(int(ledger, "records") == (int(ledger, "inserted") ?? 0) + (int(ledger, "duplicates") ?? 0)
                + (int(ledger, "rejected") ?? 0))
            #expect(int(ledger, "updated") == 0)
            #expect(int(ledger, "checkpoint_line") == records + 1)
            #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == int(ledger, "inserted"))
            let integrity = try SQLiteFile.strings(database, "PRAGMA integrity_check")
            #expect(integrity == ["ok"])
            break
        }
    }

    @Test func sigtermStopsTheLoadWithExitCode143() throws {
        let work = try CLIWorkspace()
        let input = work.path("generated.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "100000", "-o", input, "-q"]).status == 0)
        let database = work.path("terminated.sqlite")
        let run = try interruptedImport(
            ["import", input, "--db", database, "--batch-size", "500", "--json", "-q"], after: .milliseconds(300),
            signal: SIGTERM)
        #expect(run.status == 143, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        let json = try run.json()
        #expect(json["interrupted"] as? Bool == true)
        expectCountsAddUp(json)
        #expect(try SQLiteFile.ledger(database).first?["status"] as? String == "interrupted")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == int(json, "inserted"))
    }
}
