import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A load: input files streamed through bounded stages into one SQLite database.
///
/// ```
///  reader ──▶ [chunks] ──▶ parser+validator ×N ──▶ [parsed] ──▶ batcher ──▶ [batches] ──▶ writer
///  bytes,                  records → facts or        (any order)  input order,   (bounded)   one transaction
///  decompressed            refusals                                error budget               a batch
/// ```
/// Every queue is bounded (`chunkQueueCapacity`, `parsedQueueCapacity`, `segmentQueueCapacity`), and so
/// is what the batcher may hold while it restores input order (`reorderWindow`), so a slow writer or
/// one slow worker holds back the reader and memory is fixed by those capacities, the chunk size (in
/// bytes and in records) and the batch size — never by the input's size. The first fatal error cancels
/// every queue; the writer rolls back the open batch and records how the load ended.
public struct ImportPipeline: Sendable {
    /// Chunks read ahead of the parsers.
    public static let chunkQueueCapacity = 8
    /// Parsed chunks waiting for the batcher.
    public static let parsedQueueCapacity = 4
    /// Batches waiting for the writer: one being written, one or two ready.
    public static let segmentQueueCapacity = 4
    /// Items taken from the reader that the batcher has not yet handed on in order: a slow worker holds
    /// the others back once this many are out (enough for every queue and worker to stay busy).
    public static let reorderWindow = 16
    /// Decoded bytes per chunk.
    public static let chunkBytes = 256 * 1024
    /// Records per chunk at most: what a chunk holds once parsed grows with its records, not its bytes.
    /// Short records (`Has(x1, y1).`, 16 bytes) filled 256 KiB chunks with 16,000 facts each, and the chunks
    /// in flight took a 1M-line load to 128 MB peak RSS against 84 MB for NDJSON (~190 bytes a record, ~1,400
    /// a chunk, which this leaves as they were). At 2,048 the same load peaks at 84 MB in the same time.
    public static let chunkRecords = 2_048

    public var options: ImportOptions
    public init(options: ImportOptions) {
        self.options = options
    }

    /// Runs the load to its end, or until it fails, is aborted, or `progress` is cancelled.
    ///
    /// Never throws: every outcome, including a database that cannot be opened, is in the summary.
    public func run(progress: ImportProgress = ImportProgress()) -> ImportSummary {
        let clock = ContinuousClock.now
        let startedAt = Timestamp.now()
        var summary: ImportSummary
        do {
            try options.validate()
            // The command line and `run` refuse it before they get here; a library caller's was `done` with no
            // ledger row.
            guard !options.inputs.isEmpty else {
                throw ImportOptionError(.inputs, "give one or more inputs, or - for standard input")
            }
            try checkPaths()
            summary = try load(startedAt: startedAt, progress: progress)
            // The store is gone, and with it the writer lock the undo takes.
            undoDamagedInput(&summary) { progress.isCancelled.load(ordering: .relaxed) }
        } catch {
            summary = ImportSummary()
            let stop = FactSinkStop.reported(error, isCancelled: { progress.isCancelled.load(ordering: .relaxed) })
            summary.apply(stop: stop)
            if case FactSinkStop.interrupted = stop {
                // A wait the signal ended (another load's lock, a reader of a rejects FIFO): say what it was.
                summary.message = nil
                summary.error = error
            }
        }
        summary.seconds = seconds(since: clock)
        summary.peakRSSBytes = ResourceUsage.peakRSSBytes()
        summary.bytesRead = progress.inputBytes.load(ordering: .relaxed)
        return summary
    }

    /// Opens the store, plans the inputs and runs the stages; the store, and the writer lock it holds,
    /// are released when it returns.
    private func load(startedAt: String, progress: ImportProgress) throws -> ImportSummary {
        let isCancelled = { progress.isCancelled.load(ordering: .relaxed) }
        let store: any FactSink
        if let address = PostgreSQLAddress(options.databasePath) {
            guard !options.intoExisting else {
                throw PostgreSQLError(server: address.description,
                                      message: "--into-existing is for SQLite databases only")
            }
            store = try PostgreSQLFactStore(address: address, options: options, startedAt: startedAt,
                                            progress: progress, isCancelled: isCancelled)
        } else if options.intoExisting {
            store = try ExistingDatabaseStore(options: options, startedAt: startedAt, progress: progress,
                                              isCancelled: isCancelled)
        } else {
            store = try FactStore(options: options, startedAt: startedAt, progress: progress, isCancelled: isCancelled)
        }
        let plans = try store.plan(options.inputs)
        var summary = try runStages(store: store, plans: plans, progress: progress)
        summary.plans = plans.map(\.inputPlan)
        summary.notes += plans.compactMap { plan in
            plan.action == .load ? plan.note.map { "\(plan.path): " + $0 } : nil
        }
        if summary.status != .done { Self.noteWhatWasNotTried(plans, in: &summary) }
        return summary
    }

    /// After a load that stopped (at the input whose load did not finish, or the first it did not reach, which
    /// failed before its load began): the inputs after it, and the copies it skipped of an input whose
    /// load did not finish ("loaded earlier in this run" would be untrue), go to `notTried`.
    private static func noteWhatWasNotTried(_ plans: [SourcePlan], in summary: inout ImportSummary) {
        // The sources began in the order of the plans read: the first plans to be read have one each (a path
        // given twice with --force, twice).
        let readPlans = plans.indices.filter { plans[$0].isRead }
        let began = Set(readPlans.prefix(summary.sources.count))
        let finished = Set(summary.sources.filter { $0.status == .done }.map(\.path))
        let firstNotBegun = readPlans.first { !began.contains($0) }
        let stoppedAt: String
        if let last = summary.sources.last(where: { $0.status != .done }) {
            stoppedAt = last.path
        } else if let firstNotBegun {
            stoppedAt = plans[firstNotBegun].path
        } else {
            return
        }
        for index in plans.indices {
            let plan = plans[index]
            if plan.isRead, !began.contains(index) {
                if index == firstNotBegun, summary.sources.allSatisfy({ $0.status == .done }) {
                    // Where the load stopped before this input's load began: refused at its first bytes (the
                    // message says why), or, after a signal, never opened (a FIFO no one wrote).
                    if summary.wasInterrupted { summary.notTried.append((plan.path, "the load was interrupted before it began reading it")) }
                    continue
                }
                summary.notTried.append((plan.path, "the load stopped at \(stoppedAt)"))
            } else if let copyOf = plan.copyOf, !finished.contains(copyOf) {
                summary.skipped.removeAll { $0.path == plan.path }
                summary.notTried.append((plan.path, "the same content as \(copyOf), whose load did not finish"))
            }
        }
    }

    /// What `run` would decide for each input — load, skip or resume — from the ledger as it is now,
    /// writing nothing (a dry run). An input that cannot be planned is `fail`, with why, and the ones
    /// after it are planned all the same.
    public func plan() -> [InputPlan] {
        let limits = options.limits
        return planFromLedger().map { Self.refusingUnreadCompression($0, limits: limits) }
    }

    /// `plan` as a load of a regular file would end it at its first bytes: an input compressed in a way
    /// factpipe does not read (xz, bzip2, zip, …) fails, where the ledger alone said "load".
    private static func refusingUnreadCompression(_ plan: InputPlan, limits: FactLimits) -> InputPlan {
        guard plan.decision == .load || plan.decision == .resume, plan.path != "-" else { return plan }
        var info = stat()
        guard stat(plan.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return plan }
        do {
            _ = try InputReader(path: plan.path, limits: limits)
        } catch where error.kind == .unsupportedFormat {
            return InputPlan(path: plan.path, decision: .fail, reason: "\(error)")
        } catch {
            // Whatever else the first bytes tell (a damaged gzip header, say), the load reports as it reads.
        }
        return plan
    }

    private func planFromLedger() -> [InputPlan] {
        if let address = PostgreSQLAddress(options.databasePath) {
            return PostgreSQLLoadPlanner.dryRun(address: address, options: options)
        }
        var planner: InputPlanner
        do {
            // What the load refuses before it reads a record (another program's file, two hard links), the
            // plan refuses too: a dry run that says "would load" promises the run will.
            if !options.intoExisting {
                try FactDatabase.checkWritable(path: options.databasePath, mustExist: false)
            }
            planner = try InputPlanner(readingLedgerOf: options)
        } catch {
            return options.inputs.map { InputPlan(path: $0, decision: .fail, reason: "\(error)") }
        }
        return options.inputs.map { input in
            do {
                return try planner.plan(input).inputPlan
            } catch {
                return InputPlan(path: input, decision: .fail, reason: "\(error)")
            }
        }
    }

    /// Refuses, before the database is created or locked, a rejects file that is an input or the
    /// database, and an input that does not exist or is a folder.
    private func checkPaths() throws {
        try OutputPathCheck.check(
            outputs: options.rejectsPath.map { [("the rejects file", $0)] } ?? [], inputs: options.inputs,
            databasePath: options.databasePath)
        for input in options.inputs {
            try FileByteSource.checkOpenable(input)
        }
    }

    /// - Throws: `OwnThread.CannotStart` when a stage's thread cannot be started (nothing was read then).
    private func runStages(store: any FactSink, plans: [SourcePlan], progress: ImportProgress) throws -> ImportSummary {
        let chunks = BoundedQueue<Sequenced<PipelineItem>>(name: "chunks", capacity: Self.chunkQueueCapacity)
        let parsed = BoundedQueue<Sequenced<PipelineItem>>(name: "parsed", capacity: Self.parsedQueueCapacity)
        let batches = BoundedQueue<WriterMessage>(name: "batches", capacity: Self.segmentQueueCapacity)
        let window = ReorderWindow(capacity: Self.reorderWindow)
        let queues = CancelAll(chunks: chunks, parsed: parsed, batches: batches, window: window)
        // A signal wakes the writer even while the reader waits on a silent pipe or a FIFO with no writer.
        progress.whenCancelled { queues.cancel() }
        let group = DispatchGroup()
        let workerCount = options.workers > 0 ? options.workers : max(1, min(4, ResourceUsage.onlineCores))

        // Reader.
        let options = self.options
        // What will be read: skipped inputs are not, and a resumed one only after its checkpoint (the
        // writer rebuilds the secondary indexes only when the load is large next to the table).
        var estimate: Int64 = 0
        var remaining: Int64 = 0
        for plan in plans where plan.path != "-" {
            var info = stat()
            guard stat(plan.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            switch plan.action {
            case .skip: continue
            case .load: remaining += Int64(info.st_size)
            // A SQLite input's offset is a rowid, which may be negative (as low as Int64.min).
            case .resume(_, let offset, _, _): remaining += offset <= 0 ? Int64(info.st_size) : max(0, Int64(info.st_size) - offset)
            }
            estimate += Int64(info.st_size)
        }
        progress.inputSize.store(estimate, ordering: .relaxed)
        let reader: @Sendable () -> Void = {
            SourceReader(options: options, plans: plans, progress: progress).run(into: chunks)
        }

        // Parsers and validators.
        let stage = RecordParserStage(
            validator: FactValidator(limits: options.limits, strictParts: options.strictParts,
                                     forPostgreSQL: PostgreSQLAddress(options.databasePath) != nil,
                                     keepsStatementAsWritten: options.keepsStatementsAsWritten),
            limits: options.limits)
        let remainingWorkers = WorkerCount(workerCount)
        let parser: @Sendable () -> Void = {
            while window.acquire(), let item = chunks.pop() {
                var out = item
                if case .chunk(let chunk, let context) = item.value {
                    out.value = .parsed(stage.process(chunk, context: context))
                }
                if !parsed.push(out) { break }
            }
            // A place taken for an item that never came (the reader's queue ended) is given back.
            window.release()
            if remainingWorkers.finishOne() { parsed.close() }
        }

        // Batcher.
        let batchSize = options.batchSize, maxErrors = options.maxErrors
        let batching: @Sendable () -> Void = {
            let batcher = Batcher(batchSize: batchSize, maxErrors: maxErrors) { batches.push($0) }
            var handed = 0
            while let item = parsed.pop() {
                batcher.accept(item)
                window.release(batcher.handedOn - handed)
                handed = batcher.handedOn
                if batcher.isStopped { break }
            }
            batches.close()
            if batcher.isStopped {
                window.cancel()
                chunks.cancel()
                parsed.cancel()
            }
        }

        // Each stage on a thread of its own, the reader last: when the system refuses one, the load fails at
        // once, before a byte is read, instead of waiting for ever on a stage that never runs.
        func start(_ name: String, _ body: @escaping @Sendable () -> Void) throws(OwnThread.CannotStart) {
            group.enter()
            do throws(OwnThread.CannotStart) {
                try OwnThread.start(name) {
                    body()
                    group.leave()
                }
            } catch {
                group.leave()
                throw error
            }
        }
        do throws(OwnThread.CannotStart) {
            try start("batcher", batching)
            for _ in 0..<workerCount { try start("parser", parser) }
            try start("reader", reader)
        } catch {
            queues.cancel()
            group.wait()
            throw error
        }

        // Writer: this thread.
        let estimatedRecords = remaining > 0 ? remaining / 120 : nil
        var summary = store.run(
            batches, estimatedRecords: estimatedRecords, sourcesToRead: plans.filter(\.isRead).count)
        if summary.status != .done { queues.cancel() }
        if progress.isCancelled.load(ordering: .relaxed) {
            // The reader may be blocked in open(2) or read(2) on input that never comes: what was committed
            // is recorded, so do not wait for it (it ends with the process).
            _ = group.wait(timeout: .now() + .milliseconds(200))
        } else {
            group.wait()
        }
        summary.notes += progress.readerNotes.withLock { $0 }
        return summary
    }
}

/// Cancels every queue of a load at once.
private struct CancelAll: Sendable {
    let chunks: BoundedQueue<Sequenced<PipelineItem>>
    let parsed: BoundedQueue<Sequenced<PipelineItem>>
    let batches: BoundedQueue<WriterMessage>
    let window: ReorderWindow

    func cancel() {
        window.cancel()
        chunks.cancel()
        parsed.cancel()
        batches.cancel()
    }
}

/// Counts down the parser workers so the last one closes the queue behind them.
private final class WorkerCount: Sendable {
    private let remaining: Atomic<Int>

    init(_ count: Int) { remaining = Atomic(count) }

    /// True for the last worker to finish.
    func finishOne() -> Bool {
        remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0
    }
}
