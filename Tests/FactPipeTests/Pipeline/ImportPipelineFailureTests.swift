import Dispatch
import Foundation
import Testing

@testable import FactPipe

/// Loads that stop before the end: error budget, atomic loads, unreadable input, interrupts.
@Suite struct ImportPipelineFailureTests {
    /// Nine records, three of them free text: lines 3, 6 and 8.
    static let mixed = "P(1).\nP(2).\nbad one\nP(3).\nP(4).\nbad two\nP(5).\nbad three\nP(6).\n"

    @Test func maxErrorsAbortsAndKeepsTheBatchesCommittedBeforeIt() throws {
        let work = try LoadWorkspace()
        let input = try work.write("mixed.txt", Self.mixed)
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) {
            $0.batchSize = 2
            $0.maxErrors = 1
            $0.rejectsPath = rejects
        }
        #expect(summary.status == .aborted)
        let message = try #require(summary.message)
        #expect(message.hasPrefix("more than 1 records rejected (--max-errors 1); the last: \(input):6: syntax_error:"))
        // Batches [P(1), P(2)] and [bad one, P(3)] were committed; [P(4), bad two] was not.
        #expect((summary.records, summary.inserted, summary.rejected) == (4, 3, 1))
        let db = try work.database()
        #expect(try db.statements() == ["P(1).", "P(2).", "P(3)."])
        let row = try #require(try db.ledger().first)
        expectLedgerAddsUp(row)
        #expect(row.status == "aborted")
        #expect((row.records, row.inserted, row.rejected) == (4, 3, 1))
        #expect(row.checkpointOffset == 26)
        #expect(row.checkpointLine == 5)
        #expect(row.message == message)
        // The rejects file holds the committed refusals only.
        #expect(try rejectLines(rejects).map { $0["line"] as? Int } == [3])
        // The indexes dropped for the bulk load are back.
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func maxErrorsZeroAbortsAtTheFirstRefusal() throws {
        let work = try LoadWorkspace()
        let input = try work.write("mixed.txt", Self.mixed)
        let summary = work.load(input) { $0.maxErrors = 0 }
        #expect(summary.status == .aborted)
        #expect(summary.message?.contains("\(input):3:") == true)
        #expect(summary.records == 0)
        #expect(try work.database().facts().isEmpty)
    }

    @Test func aBudgetThatIsNotExceededLetsTheLoadFinish() throws {
        let work = try LoadWorkspace()
        let input = try work.write("mixed.txt", Self.mixed)
        let summary = work.load(input) { $0.maxErrors = 3 }
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected) == (9, 6, 3))
    }

    @Test func atomicLoadRollsEverythingBackWhenTheBudgetRunsOut() throws {
        let work = try LoadWorkspace()
        let input = try work.write("mixed.txt", Self.mixed)
        let summary = work.load(input) {
            $0.isAtomic = true
            $0.batchSize = 2
            $0.maxErrors = 1
        }
        #expect(summary.status == .aborted)
        #expect((summary.records, summary.inserted, summary.rejected) == (0, 0, 0))
        let db = try work.database()
        #expect(try db.facts().isEmpty)
        let rows = try db.ledger()
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.status == "aborted")
        #expect(row.source == input)
        #expect((row.records, row.inserted, row.checkpointOffset) == (0, 0, 0))
        #expect(row.message?.contains("--max-errors 1") == true)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func atomicLoadRollsBackOnAConflictUnderFailButKeepsEarlierLoads() throws {
        let work = try LoadWorkspace()
        let earlier = try work.write("earlier.txt", "P(a).\n")
        #expect(work.load(earlier).inserted == 1)
        let input = try work.write("atomic.txt", "Q(1).\nQ(2).\nQ(3).\nP(a).\nQ(4).\n")
        let summary = work.load(input) {
            $0.isAtomic = true
            $0.batchSize = 1
            $0.conflictPolicy = .fail
        }
        #expect(summary.status == .aborted)
        #expect(summary.inserted == 0)
        let db = try work.database()
        #expect(try db.statements() == ["P(a)."])
        let rows = try db.ledger()
        #expect(rows.map(\.status) == ["done", "aborted"])
        #expect(rows.last?.inserted == 0)
    }

    /// A failed atomic load takes its rejects back with its facts: its resume starts from the first line
    /// and writes them once, without a note, from each of its sources. The lines the file held before (an
    /// earlier input of a pipeline) stay.
    @Test func aFailedAtomicLoadCutsItsRejectsAndItsResumeWritesThemOnce() throws {
        let work = try LoadWorkspace()
        let rejectsPath = work.path("rejects.ndjson")
        #expect(work.load(try work.write("first.txt", "bad first\nP(a).\n")) { $0.rejectsPath = rejectsPath }
            .rejected == 1)
        let before = try work.lines("rejects.ndjson")
        let inputs = [
            try work.write("atomic-a.txt", "Q(1).\nbad one\nQ(2).\n"),
            try work.write("atomic-b.txt", "bad two\nP(a).\nQ(3).\n"),
        ]
        let failed = work.load(inputs) {
            $0.isAtomic = true
            $0.batchSize = 2
            $0.conflictPolicy = .fail
            $0.rejectsPath = rejectsPath
            $0.appendsRejects = true
        }
        #expect(failed.status == .aborted)
        #expect(failed.notes.isEmpty)
        #expect(try work.lines("rejects.ndjson") == before, "the rolled-back load's rejects are gone")
        #expect(try work.database().ledger().suffix(2).map(\.status) == ["aborted", "aborted"])

        let resumed = work.load(inputs) {
            $0.isAtomic = true
            $0.resume = true
            $0.rejectsPath = rejectsPath
        }
        #expect(resumed.status == .done)
        #expect(resumed.notes.isEmpty, "\(resumed.notes)")
        #expect((resumed.inserted, resumed.duplicates, resumed.rejected) == (3, 1, 2))
        let lines = try work.lines("rejects.ndjson")
        #expect(Array(lines.prefix(before.count)) == before)
        #expect(lines.count == before.count + 2)
        for input in inputs { #expect(lines.filter { $0.contains("\"source\":\"\(input)\"") }.count == 1) }
    }

    @Test func atomicLoadCommitsEverythingWhenItSucceeds() throws {
        let work = try LoadWorkspace()
        let input = try work.write("atomic.txt", "Q(1).\nQ(2).\nQ(3).\nbad\nQ(4).\n")
        let summary = work.load(input) {
            $0.isAtomic = true
            $0.batchSize = 2
        }
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.rejected) == (5, 4, 1))
        let db = try work.database()
        #expect(try db.statements() == ["Q(1).", "Q(2).", "Q(3).", "Q(4)."])
        let row = try #require(try db.ledger().first)
        #expect(row.status == "done")
        #expect((row.records, row.checkpointOffset, row.checkpointLine) == (5, 28, 6))
    }

    /// The summary's source of an atomic load that failed names the ledger row written for it.
    @Test func atomicFailureReportsTheLedgerRowID() throws {
        let work = try LoadWorkspace()
        let input = try work.write("mixed.txt", Self.mixed)
        let summary = work.load(input) {
            $0.isAtomic = true
            $0.maxErrors = 0
        }
        #expect(summary.status == .aborted)
        let row = try #require(try work.database().ledger().first)
        #expect(summary.sources.map(\.loadID) == [Int64(row.id)])
    }

    @Test func truncatedGzipInputFailsAfterItsCommittedBatches() throws {
        let work = try LoadWorkspace()
        let text = (0..<30_000).map { "Truncated(item\($0), \(String(repeating: "w", count: 1 + $0 % 40)))." }
            .joined(separator: "\n") + "\n"
        let plain = try work.write("big.txt", text)
        let gzipped = work.path("big.txt.gz")
        try gzipCLI(plain, gzipped)
        let whole = try Data(contentsOf: URL(fileURLWithPath: gzipped))
        let cut = try work.write("cut.gz", Array(whole.prefix(whole.count * 2 / 3)))
        let summary = work.load(cut) { $0.batchSize = 1_000 }
        #expect(summary.status == .failed)
        let message = try #require(summary.message)
        #expect(message.hasPrefix("\(cut): "))
        #expect(summary.rejected == 0)
        #expect(summary.inserted > 0)
        #expect(summary.records % 1_000 == 0)
        #expect(summary.inserted < 30_000)
        let db = try work.database()
        #expect(try db.int("SELECT count(*) FROM facts") == summary.inserted)
        let row = try #require(try db.ledger().first)
        expectLedgerAddsUp(row)
        #expect(row.status == "failed")
        #expect(row.compression == "gzip")
        #expect(row.inserted == summary.inserted)
        #expect(row.message == message)
        // The checkpoint is the start of the first record not committed.
        let lineStart = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .prefix(row.checkpointLine - 1).reduce(0) { $0 + $1.count + 1 }
        #expect(row.checkpointOffset == lineStart)
        #expect(row.checkpointLine == row.records + 1)
    }

    /// A compressed input whose check fails at its end: what the committed batches hold came from the same
    /// damaged bytes, so its load is undone; a fact another load brought too stays.
    @Test(arguments: [InputCompression.gzip, .zstd])
    func anInputThatFailsItsChecksumIsUndone(compression: InputCompression) throws {
        let work = try LoadWorkspace()
        let earlier = try work.write("earlier.txt", "Damaged(item7, v7).\nOther(a, b).\n")
        #expect(work.load(earlier).inserted == 2)
        let text = (0..<30_000).map { "Damaged(item\($0), v\($0 % 40))." }.joined(separator: "\n") + "\n"
        let plain = try work.write("big.txt", text)
        let packed = work.path("packed")
        try compression == .gzip ? gzipCLI(plain, packed) : zstdCLI(plain, packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        // gzip ends with the CRC-32 of the data and its size; zstd's frame with its checksum (the CLI writes one).
        bytes[bytes.count - (compression == .gzip ? 8 : 1)] ^= 0x01
        let damaged = try work.write("damaged", bytes)
        let summary = work.load(damaged) {
            $0.batchSize = 1_000
            $0.conflictPolicy = .replace
        }
        #expect(summary.status == .failed)
        #expect(summary.inserted >= 10_000, "the batches were committed before the check failed")
        #expect(summary.sources.map(\.status) == [.undone])
        let message = try #require(summary.message)
        #expect(message.hasPrefix("\(damaged): "))
        #expect(message.contains("its load 2 was undone"), "\(message)")
        #expect(message.contains("\(summary.inserted) facts deleted"), "\(message)")
        #expect(message.contains("1 facts it updated or replaced keep the values it gave them"), "\(message)")
        // What the undo took back is counted beside what the load did: the counts alone, under "failed", were read
        // (and summed by dashboards from the metrics file) as facts in the database.
        #expect(summary.deletedByUndo == summary.inserted)
        let report = RunReport(importSummary: summary, databasePath: work.databasePath)
        #expect(report.prometheusText.contains("factpipe_import_deleted_by_undo \(summary.inserted)\n"))
        #expect(report.json.text.contains(#""deleted_by_undo":\#(summary.inserted)"#))
        let db = try work.database()
        #expect(try db.statements().sorted() == ["Damaged(item7, v7).", "Other(a, b)."])
        #expect(try db.ledger().map(\.status) == ["done", "undone"])
    }

    /// A part of the input compressed twice (a later gzip member or zstd frame that holds another layer), or
    /// compressed data appended to a plain file: the load stops at the line where that data starts and is
    /// undone, instead of refusing it line by line and recording the input done without those facts.
    @Test(arguments: [
        (InputCompression.gzip, InputCompression.gzip), (.gzip, .zstd), (.zstd, .zstd), (.none, .gzip), (.none, .zstd),
    ])
    func compressedDataAmongTheRecordsFailsTheLoadAndUndoesIt(outer: InputCompression, inner: InputCompression) throws {
        let work = try LoadWorkspace()
        func lines(_ range: Range<Int>) -> [UInt8] { Array(range.map { "Day(item\($0)).\n" }.joined().utf8) }
        func pack(_ bytes: [UInt8], _ compression: InputCompression) throws -> [UInt8] {
            switch compression {
            case .gzip: try gzipMember(bytes)
            case .zstd: try zstdFrame(bytes)
            case .none: bytes
            }
        }
        let bytes = try pack(lines(0..<3_000), outer) + pack(pack(lines(3_000..<4_000), inner), outer)
        let input = try work.write("week", bytes)
        let summary = work.load(input) { $0.batchSize = 500 }
        #expect(summary.status == .failed, "\(summary)")
        #expect(summary.rejected == 0)
        #expect(summary.inserted == 3_000, "the batches before it were committed")
        #expect(summary.sources.map(\.status) == [.undone])
        let message = try #require(summary.message)
        #expect(message.hasPrefix("\(input): line 3001 starts \(inner.rawValue)-compressed data"), "\(message)")
        #expect(message.contains("its load 1 was undone"), "\(message)")
        let db = try work.database()
        #expect(try db.int("SELECT count(*) FROM facts") == 0)
        #expect(try db.ledger().map(\.status) == ["undone"])
    }

    /// Damaged bytes decode to garbage that runs the error budget out before the check at the end is read:
    /// the load stopped (aborted, exit 3), what it had committed stayed, and nothing said the input was
    /// damaged. After such a stop a regular file is read to its end, and a failed check undoes the load;
    /// a sound file's aborted load stays as it was.
    @Test(arguments: [true, false])
    func aLoadTheBudgetStoppedIsUndoneWhenItsInputFailsItsCheck(damaged: Bool) throws {
        let work = try LoadWorkspace()
        let text = (0..<30_000).map { $0 % 1_000 == 999 ? "broken(" : "Budget(item\($0))." }
            .joined(separator: "\n") + "\n"
        let plain = try work.write("big.txt", text)
        let packed = work.path("packed.gz")
        try gzipCLI(plain, packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        if damaged { bytes[bytes.count - 8] ^= 0x01 }
        let input = try work.write("input.gz", bytes)
        let summary = work.load(input) {
            $0.batchSize = 100
            $0.maxErrors = 5
        }
        #expect(summary.status == .aborted)
        #expect(summary.inserted >= 5_000, "\(summary)")
        let db = try work.database()
        if damaged {
            #expect(summary.sources.map(\.status) == [.undone])
            let message = try #require(summary.message)
            #expect(message.contains("read to its end after the stop, \(input): gzip data corrupt"), "\(message)")
            #expect(message.contains("its load 1 was undone"), "\(message)")
            #expect(try db.int("SELECT count(*) FROM facts") == 0)
            #expect(try db.ledger().map(\.status) == ["undone"])
        } else {
            #expect(summary.sources.map(\.status) == [.aborted])
            #expect(summary.message?.contains("undone") == false)
            #expect(try db.int("SELECT count(*) FROM facts") == summary.inserted)
            #expect(try db.ledger().map(\.status) == ["aborted"])
        }
    }

    /// A load stopped before it committed anything has nothing to take back: the file is not read again
    /// (a first record refused under `--max-errors 0` read gigabytes, deaf to Ctrl-C, for nothing).
    @Test func aLoadStoppedBeforeItCommittedIsNotCheckedAgain() throws {
        let work = try LoadWorkspace()
        let text = "broken(\n" + (0..<600_000).map { "Budget(item\($0))." }.joined(separator: "\n") + "\n"
        let packed = work.path("packed.gz")
        try gzipCLI(try work.write("big.txt", text), packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        bytes[bytes.count - 8] ^= 0x01
        let input = try work.write("input.gz", bytes)
        let summary = work.load(input) { $0.maxErrors = 0 }
        #expect(summary.status == .aborted)
        #expect(summary.inserted == 0)
        #expect(summary.sources.map(\.status) == [.aborted])
        #expect(summary.message?.contains("read to its end") == false, "\(summary.message ?? "")")
    }

    /// A resumed load that the budget stops before it commits anything still holds what its earlier run
    /// committed from the same damaged input: the file is read to its end, and the load undone.
    @Test func aResumedLoadTheBudgetStopsIsCheckedForWhatItsEarlierRunCommitted() throws {
        let work = try LoadWorkspace()
        let good = (0..<50_000).map { "Resumed(item\($0))." }
        let broken = (0..<250_000).map { "broken(x\($0)" }
        let packed = work.path("packed.gz")
        try gzipCLI(try work.write("big.txt", (good + broken).joined(separator: "\n") + "\n"), packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        bytes[bytes.count - 8] ^= 0x01
        let input = try work.write("input.gz", bytes)
        // The first run, stopped once it has committed the good part and is refusing the rest.
        var options = ImportOptions(inputs: [input], databasePath: work.databasePath)
        options.batchSize = 1_000
        options.maxErrors = 10_000_000
        let progress = ImportProgress()
        let result = LockedValue<ImportSummary?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let pipeline = ImportPipeline(options: options)
        DispatchQueue.global().async {
            result.set(pipeline.run(progress: progress))
            finished.signal()
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while progress.committedRecords.load(ordering: .relaxed) < 60_000 && ContinuousClock.now < deadline {
            usleep(200)
        }
        progress.cancel()
        finished.wait()
        let first = try #require(result.get())
        try #require(first.status == .interrupted && first.inserted == 50_000, "\(first)")
        // The resume refuses its first record and stops, having committed nothing itself.
        options.resume = true
        options.maxErrors = 0
        let resumed = ImportPipeline(options: options).run()
        #expect(resumed.status == .aborted)
        #expect(resumed.inserted == 0)
        #expect(resumed.sources.map(\.status) == [.undone], "\(resumed.message ?? "")")
        #expect(try work.database().int("SELECT count(*) FROM facts") == 0)
    }

    /// A truncated stream is a true prefix: its batches stay, for `--resume` (`truncatedGzipInput…`), and
    /// so do a damaged input's in an atomic load, which committed none.
    @Test func anAtomicLoadOfADamagedInputLeavesNothingToUndo() throws {
        let work = try LoadWorkspace()
        let text = (0..<30_000).map { "Damaged(item\($0))." }.joined(separator: "\n") + "\n"
        let plain = try work.write("big.txt", text)
        let packed = work.path("packed.gz")
        try gzipCLI(plain, packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        bytes[bytes.count - 8] ^= 0x01
        let damaged = try work.write("damaged.gz", bytes)
        let summary = work.load(damaged) {
            $0.batchSize = 1_000
            $0.isAtomic = true
        }
        #expect(summary.status == .failed)
        #expect(summary.message?.contains("undone") == false)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 0)
        let ledger = try work.database().ledger()
        #expect(ledger.map(\.status) == ["failed"], "\(ledger)")
    }

    /// An xz file was read as text: every line refused, the load `done`, and the file skipped as loaded
    /// by every later run. It fails now, and a later run (once it is decompressed) reads it.
    @Test func anXzInputFailsAndIsNotRecordedAsLoaded() throws {
        let work = try LoadWorkspace()
        let body = (0..<3_000).map { "Packed(item\($0))." }.joined(separator: "\n")
        let input = try work.write("facts.txt.xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] + Array(body.utf8))
        let first = work.load(input)
        #expect(first.status == .failed)
        #expect(first.rejected == 0)
        #expect(first.message?.contains("is xz-compressed, which factpipe does not read") == true, "\(first.message ?? "")")
        #expect(try work.database().ledger().allSatisfy { $0.status != "done" })
        #expect(work.load(input).status == .failed, "not skipped as already loaded")
    }

    /// A UTF-16 file (a spreadsheet's "Unicode text") was read as UTF-8: every line refused, exit 2, the
    /// load `done`, and the file skipped as loaded from then on. It fails now, naming what to do.
    @Test(arguments: [([UInt8](arrayLiteral: 0xFF, 0xFE), "UTF-16"), ([0xFE, 0xFF], "UTF-16"), ([0xFF, 0xFE, 0x00, 0x00], "UTF-32")])
    func aUTF16InputFailsAndIsNotRecordedAsLoaded(mark: [UInt8], encoding: String) throws {
        let work = try LoadWorkspace()
        let text = "statement\nP(a)\nP(b)\n"
        let units = text.unicodeScalars.flatMap { scalar -> [UInt8] in
            let value = scalar.value
            if encoding == "UTF-32" { return [UInt8(value & 0xFF), 0, 0, 0] }
            return mark[0] == 0xFF ? [UInt8(value & 0xFF), UInt8(value >> 8)] : [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
        let input = try work.write("facts.csv", mark + units)
        let first = work.load(input)
        #expect(first.status == .failed)
        #expect(first.rejected == 0)
        #expect(first.message?.contains("is \(encoding) text (it starts with the byte order mark") == true,
                "\(first.message ?? "")")
        #expect(first.message?.contains("iconv -f \(encoding) -t UTF-8") == true, "\(first.message ?? "")")
        #expect(try work.database().ledger().allSatisfy { $0.status != "done" })
    }

    @Test func aMissingInputFailsTheLoadBeforeAnythingIsLoaded() throws {
        let work = try LoadWorkspace()
        let present = try work.write("present.txt", "P(1).\nP(2).\n")
        let missing = work.path("missing.txt")
        let summary = work.load([present, missing])
        #expect(summary.status == .failed)
        #expect(summary.message == "\(missing): cannot open: No such file or directory")
        // Every input is looked at before the database is created: nothing is half-loaded, and no
        // database, lock or side file is left behind.
        #expect(summary.inserted == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: work.path(""))
        #expect(left == ["present.txt"], "\(left)")
    }

    @Test func aCSVHeaderWithoutAStatementColumnFailsTheSource() throws {
        let work = try LoadWorkspace()
        let input = try work.write("noheader.csv", "subject,object\na,b\n")
        let summary = work.load(input) { $0.format = .csv }
        #expect(summary.status == .failed)
        #expect(summary.message?.contains("no statement column and no predicate column") == true)
        #expect(try work.database().facts().isEmpty)
    }

    @Test func aDatabaseFactpipeDidNotCreateFailsTheLoadWithAMessage() throws {
        let work = try LoadWorkspace()
        let foreign = try RawDatabase(work.databasePath, create: true)
        try foreign.execute("CREATE TABLE facts(statement TEXT PRIMARY KEY, context TEXT); INSERT INTO facts VALUES ('P(a).', '{}')")
        let input = try work.write("a.txt", "P(b).\n")
        let summary = work.load(input)
        #expect(summary.status == .failed)
        #expect(summary.message?.contains("not a factpipe database") == true)
        #expect(try foreign.column("SELECT statement FROM facts") == ["P(a)."])
        #expect(try foreign.column("SELECT name FROM sqlite_schema") == ["facts", "sqlite_autoindex_facts_1"])
    }

    /// Runs a load of `lines` text records on another thread and cancels it once a batch is committed.
    private func interruptedLoad(_ work: LoadWorkspace, lines: Int = 60_000) throws -> ImportSummary {
        let text = (0..<lines).map { "Interrupted(item\($0), \(String(repeating: "v", count: 1 + $0 % 30)))." }
            .joined(separator: "\n") + "\n"
        let input = try work.write("long.txt", text)
        var options = ImportOptions(inputs: [input], databasePath: work.databasePath)
        options.batchSize = 100
        let pipeline = ImportPipeline(options: options)
        let progress = ImportProgress()
        let result = LockedValue<ImportSummary?>(nil)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let summary = pipeline.run(progress: progress)
            result.set(summary)
            finished.signal()
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while progress.committedRecords.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
            usleep(200)
        }
        progress.cancel()
        finished.wait()
        let summary = try #require(result.get())
        expectCountsAddUp(summary)
        return summary
    }

    @Test func cancellingALoadRollsBackTheOpenBatchAndRecordsItAsInterrupted() throws {
        let work = try LoadWorkspace()
        let summary = try interruptedLoad(work)
        #expect(summary.status == .interrupted)
        #expect(summary.wasInterrupted)
        #expect(summary.message == "interrupted; the open batch was rolled back")
        #expect(summary.records > 0 && summary.records < 60_000)
        #expect(summary.records % 100 == 0)
        let db = try work.database()
        #expect(try db.int("SELECT count(*) FROM facts") == summary.inserted)
        let row = try #require(try db.ledger().first)
        expectLedgerAddsUp(row)
        #expect(row.status == "interrupted")
        #expect(row.records == summary.records)
        #expect(row.checkpointLine == row.records + 1)
    }

    /// DESIGN 3: dropping the secondary indexes for a bulk load must give the same database; an
    /// interrupted load must not leave the table without them.
    @Test func interruptedLoadLeavesTheSecondaryIndexesInPlace() throws {
        let work = try LoadWorkspace()
        let summary = try interruptedLoad(work)
        #expect(summary.wasInterrupted)
        #expect(try work.database().factIndexes() == ["facts_statement", "facts_subject_predicate"])
    }
}
