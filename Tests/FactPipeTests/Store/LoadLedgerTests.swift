import Foundation
import Testing

@testable import FactPipe

/// True for an ISO 8601 UTC time as factpipe writes it: `2025-09-15T10:00:00.123456Z`.
func isISO8601UTC(_ text: String?) -> Bool {
    guard let text else { return false }
    return text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z/) != nil
}

/// `date` as `YYYY-MM-DDTHH:MM:SS` in UTC, to compare with the first 19 characters of a stored time.
func utcSeconds(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return String(formatter.string(from: date).prefix(19))
}

/// The load ledger: what each load records, and how it decides to skip or resume an input.
@Suite struct LoadLedgerTests {
    private static let facts = """
        {"statement":"HasPart(Computer, CPU).","confidence":0.9,"source":"a"}
        {"statement":"HasPart(Computer, RAM)."}
        not json at all
        {"statement":"HasPart(Computer,CPU)"}
        {"statement":"IsA(CPU, Chip)."}

        """

    /// `loads` says which running loads have no process left. A load that ended between the read of its row
    /// and the look at the lock had recorded its end first: it is not called stopped (read once, it was).
    @Test func aLoadThatEndedAfterItsRowWasReadIsNotCalledStopped() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("a.txt", "P(a).\n"))
        var read = try LoadRecord.all(databasePath: work.databasePath)
        read[0].status = .running  // as read while the load ran
        #expect(LoadRecord.stopped(read, databasePath: work.databasePath).isEmpty)
        try work.database().execute("UPDATE factpipe_loads SET status = 'running'")  // as a kill left it
        #expect(LoadRecord.stopped(read, databasePath: work.databasePath).map(\.id) == [1])
    }

    @Test func everyLoadRecordsSourceSizeHashTimesStatusCountsAndCheckpoint() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        let before = Date()
        let summary = work.load(input)
        let after = Date()
        #expect(summary.status == .done)
        let row = try #require(try work.database().ledger().first)
        #expect(try work.database().ledger().count == 1)
        #expect(row.id == 1)
        #expect(row.source == input)
        #expect(row.sourceSize == Self.facts.utf8.count)
        #expect(row.sourceSHA256 == (try sha256sum(input)))
        #expect(row.format == "ndjson")
        #expect(row.compression == "none")
        #expect(row.conflictPolicy == "ignore")
        #expect(row.status == "done")
        #expect([row.records, row.inserted, row.updated, row.duplicates, row.rejected, row.warnings] as [Int] == [5, 3, 0, 1, 1, 0])
        expectLedgerAddsUp(row)
        #expect(row.checkpointOffset == Self.facts.utf8.count)
        #expect(row.checkpointLine == 6, "the line after the last one")
        #expect(isISO8601UTC(row.startedAt), "\(row.startedAt)")
        #expect(isISO8601UTC(row.finishedAt), "\(row.finishedAt ?? "nil")")
        let finished = try #require(row.finishedAt)
        #expect(row.startedAt <= finished)
        #expect(row.startedAt.prefix(19) >= utcSeconds(before.addingTimeInterval(-1)))
        #expect(finished.prefix(19) <= utcSeconds(after.addingTimeInterval(1)))
        #expect(row.message == nil)
        // The facts it inserted carry its id.
        #expect(try work.database().column("SELECT DISTINCT load_id FROM facts") == ["1"])
        // The summary names the same row.
        #expect(summary.sources.map(\.loadID) == [1])
        #expect(summary.sources.first?.status == .done)
    }

    @Test func aCompressedInputRecordsItsFileAndTheDecodedCheckpoint() throws {
        let work = try LoadWorkspace()
        let text = "P(a, b).\nP(c, d).\nbad\n"
        try work.write("in.txt", text)
        try gzipCLI(work.path("in.txt"), work.path("in.txt.gz"))
        _ = work.load(work.path("in.txt.gz"))
        let row = try #require(try work.database().ledger().first)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: work.path("in.txt.gz"))[.size] as? Int)
        #expect(row.sourceSize == size)
        #expect(row.sourceSHA256 == (try sha256sum(work.path("in.txt.gz"))))
        #expect(row.compression == "gzip")
        #expect(row.format == "text")
        #expect(row.checkpointOffset == text.utf8.count)
        #expect(row.checkpointLine == 4)
        #expect([row.records, row.inserted, row.rejected] as [Int] == [3, 2, 1])
    }

    @Test func everyInputOfOneLoadGetsItsOwnRow() throws {
        let work = try LoadWorkspace()
        let a = try work.write("a.txt", "P(a).\nP(b).\n")
        let b = try work.write("b.txt", "P(b).\nP(c).\nP(d).\n")
        let summary = work.load([a, b]) { $0.conflictPolicy = .update }
        #expect(summary.sources.map(\.loadID) == [1, 2])
        let rows = try work.database().ledger()
        #expect(rows.map(\.source) == [a, b])
        #expect(rows.map(\.conflictPolicy) == ["update", "update"])
        #expect(rows.map(\.records) == [2, 3])
        #expect(rows.map(\.inserted) == [2, 2])
        #expect(rows.map(\.updated) == [0, 1])
        #expect(rows.map(\.sourceSHA256) == [try sha256sum(a), try sha256sum(b)])
        rows.forEach { expectLedgerAddsUp($0) }
        #expect(try work.database().column("SELECT load_id FROM facts ORDER BY statement") == ["1", "1", "2", "2"])
        #expect(try work.database().column("SELECT updated_load_id FROM facts ORDER BY statement") == [nil, "2", nil, nil])
    }

    @Test func contentRecordedAsDoneIsSkippedUnderAnyNameUnlessForced() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        _ = work.load(input)
        let facts = try work.database().facts()

        let again = work.load(input)
        #expect(again.status == .done)
        #expect(again.skipped.map(\.path) == [input])
        let reason = try #require(again.skipped.first?.reason)
        let sha = try sha256sum(input)
        #expect(reason == "the same content (SHA-256 \(sha.prefix(12))…) was loaded by load 1 from \(input); --force loads it again")
        #expect(again.sources.isEmpty)
        #expect([again.records, again.inserted, again.duplicates] as [Int] == [0, 0, 0])
        #expect(try work.database().ledger().count == 1)

        let copy = work.path("renamed.ndjson")
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let renamed = work.load(copy)
        #expect(renamed.skipped.map(\.path) == [copy])
        #expect(renamed.skipped.first?.reason.contains("loaded by load 1 from \(input)") == true)
        #expect(try work.database().ledger().count == 1)
        #expect(try work.database().facts() == facts)

        let forced = work.load(copy) { $0.force = true }
        #expect(forced.skipped.isEmpty)
        #expect([forced.records, forced.inserted, forced.duplicates, forced.rejected] as [Int] == [5, 0, 4, 1])
        let rows = try work.database().ledger()
        #expect(rows.map(\.source) == [input, copy])
        #expect(rows.map(\.status) == ["done", "done"])
        #expect(rows[0].sourceSHA256 == rows[1].sourceSHA256)
    }

    @Test func aSkippedInputDoesNotKeepTheOthersFromLoading() throws {
        let work = try LoadWorkspace()
        let old = try work.write("old.txt", "P(a).\n")
        _ = work.load(old)
        let new = try work.write("new.txt", "P(b).\n")
        let summary = work.load([old, new])
        #expect(summary.skipped.map(\.path) == [old])
        #expect(summary.sources.map(\.path) == [new])
        #expect(summary.inserted == 1)
        #expect(try work.database().ledger().map(\.source) == [old, new])
    }

    @Test func contentOfALoadThatDidNotFinishIsNotSkipped() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\nbad one\nP(b).\n")
        let aborted = work.load(input) {
            $0.maxErrors = 0
            $0.batchSize = 1
        }
        #expect(aborted.status == .aborted)
        #expect(try work.database().ledger().first?.status == "aborted")
        let retried = work.load(input)
        #expect(retried.skipped.isEmpty)
        #expect(retried.status == .done)
        #expect(try work.database().ledger().map(\.status) == ["aborted", "done"])
    }

    @Test func contentOfAnUndoneLoadIsLoadedAgain() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\nP(b).\n")
        _ = work.load(input)
        _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 0)
        let again = work.load(input)
        #expect(again.skipped.isEmpty)
        #expect(again.inserted == 2)
        #expect(try work.database().ledger().map(\.status) == ["undone", "done"])
    }

    @Test func loadRecordsListTheLedgerAsStored() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        _ = work.load(input) { $0.conflictPolicy = .replace }
        let records = try LoadRecord.all(databasePath: work.databasePath)
        let raw = try work.database().ledger()
        #expect(records.count == 1)
        let record = try #require(records.first)
        let row = try #require(raw.first)
        #expect(record.id == Int64(row.id))
        #expect(record.source == row.source)
        #expect(record.size == row.sourceSize.map(Int64.init))
        #expect(record.sha256 == row.sourceSHA256)
        #expect(record.conflictPolicy == "replace")
        #expect(record.startedAt == row.startedAt && record.finishedAt == row.finishedAt)
        #expect(record.status == .done)
        #expect([record.records, record.inserted, record.updated, record.duplicates, record.rejected] as [Int]
            == [row.records, row.inserted, row.updated, row.duplicates, row.rejected])
        #expect(record.checkpointOffset == Int64(row.checkpointOffset) && record.checkpointLine == row.checkpointLine)
    }

    // MARK: Resume

    @Test func resumeContinuesAnAbortedLoadAfterItsLastCommittedBatchAndEndsLikeAnUninterruptedLoad() throws {
        var lines: [String] = []
        for index in 0..<60 {
            lines.append(index % 7 == 3 ? "broken line \(index)" : "Fact(n\(index % 45)).")
        }
        let text = lines.joined(separator: "\n") + "\n"

        let reference = try LoadWorkspace()
        _ = reference.load(try reference.write("in.txt", text)) { $0.batchSize = 5 }

        let work = try LoadWorkspace()
        let input = try work.write("in.txt", text)
        let rejects = work.path("rejects.ndjson")
        let first = work.load(input) {
            $0.batchSize = 5
            $0.maxErrors = 3
            $0.rejectsPath = rejects
        }
        #expect(first.status == .aborted)
        let stopped = try #require(try work.database().ledger().first)
        #expect(stopped.status == "aborted")
        #expect(stopped.records % 5 == 0 && stopped.records > 0 && stopped.records < 60)
        #expect(stopped.checkpointLine == stopped.records + 1)

        let resumed = work.load(input) {
            $0.batchSize = 5
            $0.resume = true
            $0.rejectsPath = rejects
        }
        #expect(resumed.status == .done, "\(resumed.message ?? "")")
        #expect(resumed.records == 60 - stopped.records, "the resumed run counts only what it read")
        #expect(resumed.sources.map(\.loadID) == [1])
        let rows = try work.database().ledger()
        let expected = try #require(try reference.database().ledger().first)
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.status == "done")
        #expect([row.records, row.inserted, row.updated, row.duplicates, row.rejected, row.warnings] as [Int]
            == [expected.records, expected.inserted, expected.updated, expected.duplicates, expected.rejected,
                expected.warnings])
        #expect(row.checkpointOffset == expected.checkpointOffset && row.checkpointLine == expected.checkpointLine)
        #expect(row.startedAt == stopped.startedAt, "the resumed row keeps its start")
        let strip = { (facts: [FactRow]) in facts.map { fact -> FactRow in
            var copy = fact
            copy.id = 0
            copy.createdAt = ""
            return copy
        } }
        #expect(strip(try work.database().facts()) == strip(try reference.database().facts()))
        // Each refused line is in the rejects file exactly once.
        let rejected = try rejectLines(rejects).compactMap { $0["line"] as? Int }
        #expect(rejected == lines.indices.filter { lines[$0].hasPrefix("broken") }.map { $0 + 1 })
    }

    @Test(arguments: ["zstd", "gzip"])
    func resumeOfACompressedInputContinuesInsideTheStream(_ compression: String) throws {
        // Past the first chunks, so the resumed reader has to decode its way to the checkpoint.
        var lines = (0..<30_000).map { "Deep(item\($0), \(String(repeating: "v", count: 1 + $0 % 30)))." }
        lines[20_500] = "broken (line"
        let text = lines.joined(separator: "\n") + "\n"
        let reference = try LoadWorkspace()
        _ = reference.load(try reference.write("in.txt", text)) { $0.batchSize = 1_000 }

        let work = try LoadWorkspace()
        let plain = try work.write("in.txt", text)
        let input = work.path(compression == "zstd" ? "in.txt.zst" : "in.txt.gz")
        if compression == "zstd" { try zstdCLI(plain, input) } else { try gzipCLI(plain, input) }
        let first = work.load(input) {
            $0.batchSize = 1_000
            $0.maxErrors = 0
        }
        #expect(first.status == .aborted)
        let stopped = try #require(try work.database().ledger().first)
        #expect(stopped.records == 20_000 && stopped.checkpointLine == 20_001)
        #expect(stopped.compression == compression)
        let resumed = work.load(input) {
            $0.batchSize = 1_000
            $0.resume = true
        }
        #expect(resumed.status == .done, "\(resumed.message ?? "")")
        #expect(resumed.records == 10_000)
        let row = try #require(try work.database().ledger().first)
        let expected = try #require(try reference.database().ledger().first)
        #expect([row.records, row.inserted, row.duplicates, row.rejected] as [Int]
            == [expected.records, expected.inserted, expected.duplicates, expected.rejected])
        #expect(row.checkpointOffset == expected.checkpointOffset && row.checkpointLine == expected.checkpointLine)
        #expect(try work.database().statements() == (try reference.database().statements()))
    }

    @Test func resumeRefusesAnInputThatChangedSinceItsInterruptedLoad() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\nbad\nP(b).\nbad again\nP(c).\n")
        _ = work.load(input) {
            $0.batchSize = 1
            $0.maxErrors = 0
        }
        let before = try sha256sum(input)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("P(appended).\n".utf8))
        try handle.close()
        let after = try sha256sum(input)
        let summary = work.load(input) { $0.resume = true }
        #expect(summary.status == .failed)
        #expect((summary.error as? StoreError)?.kind == .cannotResume)
        let message = try #require(summary.message)
        #expect(message.contains("\(input) cannot be resumed: it changed since load 1 (SHA-256 \(before.prefix(12))… "
            + "then, \(after.prefix(12))… now); load it again without --resume"), "\(message)")
        #expect(try work.database().ledger().map(\.status) == ["aborted"])
        #expect(try work.database().int("SELECT count(*) FROM facts WHERE statement = 'P(appended).'") == 0)
    }

    @Test func resumeOfAnInputThatFinishedSkipsIt() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\n")
        _ = work.load(input)
        let summary = work.load(input) { $0.resume = true }
        #expect(summary.skipped.map(\.path) == [input])
        #expect(try work.database().ledger().count == 1)
    }

    @Test func resumeOfAnInputNeverLoadedLoadsItFromTheStart() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\nP(b).\n")
        let summary = work.load(input) { $0.resume = true }
        #expect(summary.status == .done)
        #expect(summary.inserted == 2)
        #expect(try work.database().ledger().map(\.records) == [2])
    }
}
