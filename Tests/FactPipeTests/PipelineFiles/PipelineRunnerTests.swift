import Foundation
import Testing

@testable import FactPipe

/// `PipelineRunner` on real files and databases: one load per input, skips, stops, steps after.
@Suite struct PipelineRunnerTests {
    private func pipeline(_ work: LoadWorkspace, paths: [String], extra: String = "") throws -> PipelineFile {
        let list = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        return try PipelineFile.load(path: try work.write("job.toml", """
            name = "job"
            database = "facts.sqlite"
            [sources]
            paths = [\(list)]
            [load]
            batch_size = 2
            rejects = "rejects/{date}-{source}.ndjson"
            [after]
            optimize = true
            snapshot = "snapshots/kb-{date}.ndjson.zst"
            keep_snapshots = 2
            \(extra)
            """))
    }

    private var today: String { String(Timestamp.now().prefix(10)) }

    @Test func eachInputIsItsOwnLoadWithItsOwnRejectsFileThenTheStepsRun() throws {
        let work = try LoadWorkspace()
        try work.write("a.txt", "P(a, b).\nnot a fact\nP(c, d).\n")
        try work.write("b.ndjson", #"{"statement":"P(a,b)"}"# + "\n" + #"{"statement":"Q(x)."}"# + "\n")
        let file = try pipeline(work, paths: ["*.txt", "*.ndjson"])
        let summary = PipelineRunner(file: file).run()
        #expect(summary.status == .done, "\(summary.message ?? "")")
        #expect(summary.inputs.map(\.path) == [work.path("a.txt"), work.path("b.ndjson")])
        #expect(summary.inputs.map(\.decision) == [.load, .load])
        let a = try #require(summary.inputs[0].summary)
        let b = try #require(summary.inputs[1].summary)
        #expect([a.records, a.inserted, a.rejected] as [Int] == [3, 2, 1])
        #expect([b.records, b.inserted, b.duplicates] as [Int] == [2, 1, 1])
        expectCountsAddUp(a)
        expectCountsAddUp(b)

        let ledger = try work.database().ledger()
        #expect(ledger.map(\.source) == [work.path("a.txt"), work.path("b.ndjson")])
        #expect(ledger.map(\.status) == ["done", "done"])
        #expect(ledger.map(\.records) == [3, 2])
        let rejectsA = work.path("rejects/\(today)-a.ndjson")
        #expect(try rejectLines(rejectsA).count == 1)
        #expect(try rejectLines(rejectsA).first?["record"] as? String == "not a fact")
        // b had no rejects; its file is there and empty.
        #expect(try rejectLines(work.path("rejects/\(today)-b.ndjson")).isEmpty)

        // The steps ran in the library and say what they did.
        try #require(summary.steps.count == 2)
        guard case .optimized(let report) = summary.steps[0], case .snapshot(let snapshot, let keep) = summary.steps[1]
        else {
            Issue.record("steps: \(summary.steps)")
            return
        }
        #expect(report.path == work.databasePath && report.isIntact)
        #expect(snapshot.path == work.path("snapshots/kb-\(today).ndjson.zst") && keep == 2)
        #expect(snapshot.manifest.factCount == 3 && snapshot.removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: snapshot.path))
        // The snapshot's folder is made for the step.
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: work.path("snapshots"), isDirectory: &isFolder) && isFolder.boolValue)
    }

    @Test func inputsWithTheSameFileNameKeepEachOthersRejects() throws {
        let work = try LoadWorkspace()
        for folder in ["monday", "tuesday"] {
            try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: true)
            try work.write("\(folder)/facts.txt", "Day(\(folder)).\nrefused on \(folder)\n")
        }
        let file = try PipelineFile.load(path: try work.write("job.toml", """
            name = "job"
            database = "facts.sqlite"
            [sources]
            paths = ["monday/*.txt", "tuesday/*.txt"]
            [load]
            rejects = "rejects/{date}-{source}.ndjson"
            """))
        let summary = PipelineRunner(file: file).run()
        #expect(summary.status == .done)
        #expect(summary.inputs.compactMap { $0.summary?.rejected } == [1, 1])
        // Every refused record of the run is in a rejects file, whichever input it came from.
        var records: [String] = []
        for name in filesIn(work.path("rejects")) {
            records += try rejectLines(work.path("rejects/\(name)")).compactMap { $0["record"] as? String }
        }
        #expect(records.sorted() == ["refused on monday", "refused on tuesday"],
                "rejects files: \(filesIn(work.path("rejects")))")
    }

    @Test func aSecondRunSkipsWhatWasLoadedUnlessForced() throws {
        let work = try LoadWorkspace()
        try work.write("a.txt", "P(a, b).\nP(c, d).\n")
        let file = try pipeline(work, paths: ["a.txt"])
        #expect(PipelineRunner(file: file).run().status == .done)
        let again = PipelineRunner(file: file).run()
        #expect(again.status == .done)
        #expect(again.inputs.map(\.decision) == [.skip])
        let reason = try #require(again.inputs.first?.reason)
        #expect(reason.contains("was loaded by load 1 from \(work.path("a.txt"))"), "\(reason)")
        #expect(try work.database().ledger().count == 1)

        var forced = file
        forced.options.force = true
        let third = PipelineRunner(file: forced).run()
        #expect(third.inputs.map(\.decision) == [.load])
        #expect(third.inputs.first?.summary?.duplicates == 2)
        #expect(try work.database().ledger().map(\.status) == ["done", "done"])
    }

    @Test func theRunStopsAtTheFirstLoadThatDoesNotFinishAndSkipsTheSteps() throws {
        let work = try LoadWorkspace()
        try work.write("1-good.txt", "P(a).\nP(b).\n")
        let text = (0..<30_000).map { "Q(n\($0), \(String(repeating: "w", count: 1 + $0 % 40)))." }
            .joined(separator: "\n") + "\n"
        try work.write("2-plain.txt", text)
        try gzipCLI(work.path("2-plain.txt"), work.path("2-broken.txt.gz"))
        try FileManager.default.removeItem(atPath: work.path("2-plain.txt"))
        let whole = try work.directory.contents("2-broken.txt.gz")
        try work.write("2-broken.txt.gz", Array(whole.prefix(whole.count * 2 / 3)))
        try work.write("3-never.txt", "R(z).\n")
        let file = try pipeline(work, paths: ["*.txt", "*.gz"])
        #expect(file.expandSources().map { URL(fileURLWithPath: $0).lastPathComponent }
            == ["1-good.txt", "3-never.txt", "2-broken.txt.gz"])

        var ordered = file
        ordered.sourcePatterns = [work.path("1-good.txt"), work.path("2-broken.txt.gz"), work.path("3-never.txt")]
        ordered.options.batchSize = 1_000
        let summary = PipelineRunner(file: ordered).run()
        #expect(summary.status == .failed)
        #expect(summary.message?.hasPrefix(work.path("2-broken.txt.gz") + ": ") == true, "\(summary.message ?? "")")
        #expect(summary.inputs.map(\.path)
            == [work.path("1-good.txt"), work.path("2-broken.txt.gz"), work.path("3-never.txt")])
        #expect(summary.inputs.map(\.status) == [.done, .failed, .notTried])
        #expect(summary.inputs.map(\.decision) == [.load, .load, .notTried])
        #expect(summary.steps.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work.path("snapshots")))
        let ledger = try work.database().ledger()
        #expect(ledger.map(\.status) == ["done", "failed"])
        #expect(!ledger.contains { $0.source.hasSuffix("3-never.txt") })
        #expect(try work.database().int("SELECT count(*) FROM facts WHERE predicate = 'R'") == 0)
        // The broken input's committed batches stay.
        #expect(ledger.last.map { $0.inserted > 0 && $0.records % 1_000 == 0 } == true)
    }

    /// An interrupt that comes once an input's load is recorded as done (during the index builds that end
    /// it, or as the writer takes its last look) lets that load finish; the run then stops there: the
    /// next input is not read and the steps after the loads do not run.
    @Test func anInterruptAfterALoadWasRecordedDoneStopsTheRunBeforeItsNextInput() throws {
        let work = try LoadWorkspace()
        // Large enough that the end of its load, after the ledger says done, leaves the watcher below
        // time to see it: the load builds the indexes it dropped for its bulk append.
        try work.write("1-big.txt", (1...150_000).map { "Big(n\($0), x)." }.joined(separator: "\n") + "\n")
        try work.write("2-next.txt", "Next(a).\n")
        var file = try pipeline(work, paths: ["1-big.txt", "2-next.txt"])
        file.options.batchSize = 50_000
        let progress = ImportProgress()
        let database = work.databasePath
        let watcher = Thread {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline && !progress.isCancelled.load(ordering: .relaxed) {
                let done = try? RawDatabase(database, readOnly: true)
                    .int("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
                if (done ?? 0) > 0 {
                    progress.cancel()
                    return
                }
                usleep(500)
            }
        }
        watcher.start()
        let summary = PipelineRunner(file: file).run(progress: progress)
        let wasCancelled = progress.isCancelled.load(ordering: .relaxed)
        #expect(wasCancelled)
        #expect(summary.status == .interrupted, "\(summary.message ?? "")")
        #expect(summary.inputs.map(\.status) == [.done, .notTried], "\(summary.inputs)")
        #expect(summary.message == "interrupted after \(work.path("1-big.txt")); the inputs after it were not read")
        #expect(summary.steps.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work.path("snapshots")))
        let db = try work.database()
        #expect(try db.ledger().map(\.status) == ["done"])
        #expect(try db.int("SELECT count(*) FROM facts") == 150_000)
        #expect(try db.int("SELECT count(*) FROM facts WHERE predicate = 'Next'") == 0)
        // The first load finished: the indexes its bulk append dropped are there.
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func aFailingStepAfterTheLoadFailsTheRunAndKeepsTheLoad() throws {
        let work = try LoadWorkspace()
        try work.write("a.txt", "P(a).\n")
        // A device that is always full: the snapshot cannot be written (what can be told before the loads, a
        // file where its folder should be, is refused before them).
        var file = try pipeline(work, paths: ["a.txt"])
        file.snapshotTemplate = "/dev/full"
        let summary = PipelineRunner(file: file).run()
        #expect(summary.status == .failed)
        let message = try #require(summary.message)
        #expect(message.hasPrefix("after the load: /dev/full: "), "\(message)")
        #expect(summary.steps.count == 1, "the optimize step before it is reported: \(summary.steps)")
        #expect(try work.database().ledger().map(\.status) == ["done"])
    }

    @Test func aDryRunSaysWhatWouldBeSkippedAndLoadedAndWritesNothing() throws {
        let work = try LoadWorkspace()
        try work.write("a.txt", "P(a).\n")
        let file = try pipeline(work, paths: ["*.txt"])
        #expect(PipelineRunner(file: file).run().status == .done)
        try work.write("b.txt", "P(b).\n")
        try work.write("a-copy.txt", "P(a).\n")
        let before = try work.database().ledger()
        let plan = PipelineRunner(file: file, isDryRun: true).run()
        #expect(plan.status == .done)
        #expect(plan.inputs.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a-copy.txt", "a.txt", "b.txt"])
        #expect(plan.inputs.map(\.decision) == [.skip, .skip, .load])
        #expect(plan.inputs.map(\.status) == [.skipped, .skipped, .planned])
        #expect(plan.inputs[0].reason?.contains("load 1 from \(work.path("a.txt"))") == true)
        #expect(plan.steps.isEmpty)
        #expect(try work.database().ledger() == before)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 1)
    }

    /// A database made before the ledger had `records_assertions` is planned from its ledger all the same
    /// (the run itself adds the column first).
    @Test func aDryRunReadsTheLedgerOfADatabaseMadeByAnEarlierVersion() throws {
        let work = try LoadWorkspace()
        try work.write("a.txt", "P(a).\n")
        let file = try pipeline(work, paths: ["*.txt"])
        #expect(PipelineRunner(file: file).run().status == .done)
        try work.database().execute("ALTER TABLE factpipe_loads DROP COLUMN records_assertions")
        try work.write("b.txt", "P(b).\n")
        let plan = PipelineRunner(file: file, isDryRun: true).run()
        #expect(plan.status == .done, "\(plan.message ?? "")")
        #expect(plan.inputs.map(\.decision) == [.skip, .load], "\(plan.inputs.map(\.reason))")
    }

    /// A load that fails names its input once in the run's message.
    @Test func aFailedInputIsNamedOnce() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/a.txt", "IsA(Dog, Animal).\n")
        var database = Array("SQLite format 3\u{0}".utf8)
        database += Array(repeating: 0x41, count: 200)
        let damaged = try work.write("in/b.txt", database)
        let file = try pipeline(work, paths: ["in/*.txt"])
        let result = PipelineRunner(file: file).run()
        #expect(result.status == .failed)
        let message = try #require(result.message)
        #expect(message.hasPrefix("\(damaged): "), "\(message)")
        #expect(message.components(separatedBy: "b.txt").count == 2, "\(message)")
    }
}
