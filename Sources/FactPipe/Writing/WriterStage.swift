import Synchronization

/// The writer stage: takes the batcher's messages and commits one transaction per batch.
///
/// ```
/// .begin(source) ──▶ ledger row (new, or the resumed one)
/// .segment ──▶ staged (or appended straight to `facts`) ──▶ endsBatch: counts + checkpoint, COMMIT
/// .end ──▶ merge the source's staged facts into `facts`, record it as done
/// ```
/// A batch is `BEGIN IMMEDIATE`, its facts appended to the staging table, its rejects written out,
/// the ledger's counts and checkpoint, `COMMIT`. At the end of each source, and whenever a million
/// facts wait, the staged facts move into `facts` in one transaction (`StagingArea.merge`). The first
/// failure rolls back the open batch only: the committed batches are merged and the load is recorded
/// with its final status (`WriterStage+Failure.swift`). An atomic load is one transaction from start
/// to end. Which indexes are kept while writing is the `IndexStrategy`'s decision; the first source
/// loaded into an empty table, or one smaller than it, skips the staging table (`DirectAppend`).
final class WriterStage {
    /// The source being loaded.
    struct OpenSource {
        var descriptor: SourceDescriptor
        var loadID: Int64
        /// Its counts up to the last commit.
        var committed: LoadLedger.Counts
        /// Its counts when this run began it (a resumed source's earlier runs).
        var base: LoadLedger.Counts
    }

    let options: ImportOptions
    let startedAt: String
    let isCancelled: () -> Bool
    private let progress: ImportProgress?
    let database: WriterConnection
    let ledger: LoadLedger
    private let writer: SQLiteFactWriter
    let staging: StagingArea
    let rejects: BufferedFileOutput?
    /// Where an atomic load's rejects wait until it commits (`RejectsSpool`).
    let spool: RejectsSpool?
    private var indexes = IndexStrategy(rebuildsSecondaryIndexes: false, mayAppendDirectly: false)
    /// Set while the current source appends straight to `facts` (its end restores the unique index).
    var directAppend: DirectAppend?

    /// Every source begun, in order (an atomic load that fails records each).
    var descriptors: [SourceDescriptor] = []
    var current: OpenSource?
    /// Counts of the current source including the open batch.
    private var pending = LoadLedger.Counts()
    /// Facts staged by the open batch, and committed to staging since the last merge.
    private var pendingStaged = 0
    private var stagedSinceMerge = 0
    /// Last staging sequence number before the open batch.
    private var batchStartSequence: Int64 = 0
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    var rejectsCommittedSize: Int64 = 0
    /// What an atomic load that fails cuts from the rejects file.
    var atomicRejects = AtomicRejects()
    private var timings = WriterTimings()
    var finished: [FinishedSource] = []
    var summary = ImportSummary()

    /// Prepares the writer on the load's connection and opens the rejects file.
    /// - Throws: `StoreError` for the database, `FileOutputError` for the rejects file.
    init(
        options: ImportOptions, connection: SQLiteConnection, ledger: LoadLedger, startedAt: String,
        progress: ImportProgress?, isCancelled: @escaping () -> Bool
    ) throws {
        self.options = options
        self.startedAt = startedAt
        self.progress = progress
        self.isCancelled = isCancelled
        self.ledger = ledger
        database = WriterConnection(connection: connection, settings: options.database, isAtomic: options.isAtomic)
        writer = try SQLiteFactWriter(connection: connection, defaultCreatedAt: startedAt)
        staging = StagingArea(connection: connection)
        // Opened to append: a load that reads no input (all skipped) leaves the file as it was.
        rejects = try options.rejectsPath.map {
            try BufferedFileOutput.rejects(
                path: $0, isCancelled: isCancelled, attributes: .like(database: options.databasePath))
        }
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        spool = options.isAtomic ? rejects.flatMap { RejectsSpool(beside: $0) } : nil
    }

    /// Starts the rejects file afresh, as a load that neither resumes nor appends does, once it is known
    /// that the load reads an input: a rerun whose inputs are all skipped keeps the last run's rejects.
    /// - Throws: `FileOutputError` when the file cannot be cut.
    func readyRejects(readingAnInput: Bool) throws {
        guard readingAnInput, !options.resume, !options.appendsRejects, let rejects else { return }
        try rejects.truncate(to: 0)
        rejectsCommittedSize = rejects.bytesWritten
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary, which
    /// starts from `summary` (the planner's skipped inputs).
    func run(
        _ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?, sourcesToRead: Int, summary: ImportSummary
    ) -> ImportSummary {
        self.summary = summary
        var lateInterrupt = false
        do {
            try prepare(estimatedRecords: estimatedRecords)
            while true {
                var start = ContinuousClock.now
                guard let message = messages.pop() else { break }
                timings.waiting += WriterTimings.since(start)
                if isCancelled() { throw FactSinkStop.interrupted }
                start = ContinuousClock.now
                switch message {
                case .begin(let descriptor):
                    try begin(descriptor)
                case .segment(let segment):
                    let merging = timings.merging
                    try write(segment)
                    timings.writing += WriterTimings.since(start) - (timings.merging - merging)
                case .end(let sha256):
                    try merge(finalStatus: .done, sha256: sha256)
                case .stop(let status, let message):
                    throw FactSinkStop.requested(status, message)
                }
            }
            let atTheEnd = try FinishedSource.interruptAtTheEnd(
                finished, sourcesToRead: sourcesToRead, isOpen: current != nil, isAtomic: options.isAtomic,
                isCancelled: isCancelled())
            lateInterrupt = atTheEnd == .late
            let interruptAtAStreamsEnd = atTheEnd == .asAPipeEnded
            do {
                try finishLoad()
            } catch let error as StoreError where error.isDiskFull && !options.isAtomic {
                // Every source's facts and its ledger row saying done are committed; only an index the load
                // dropped is missing, which the next writer builds. Failed, the load contradicted its ledger
                // (exit 1 while `loads` said done) and `run` skipped the steps after it.
                self.summary.notes.append(
                    "every fact is in and the load is done, but an index it set aside could not be built again: "
                        + "\(error.reason); the next load or `factpipe optimize` builds it once there is room "
                        + "(lookups by subject scan the table until then)")
            }
            // Building the indexes back takes seconds at millions of facts. An interrupt that came in them came
            // after every input had ended (a pipe's writer killed by the same signal is seen above): the load
            // finishes and says so, but for an atomic load, whose commit is still to come (both used to finish
            // without a word, exit 0).
            if !lateInterrupt, !interruptAtAStreamsEnd, isCancelled() {
                if options.isAtomic { throw FactSinkStop.interrupted }
                lateInterrupt = true
            }
            if options.isAtomic {
                try spool?.publish()
                try database.commit()
            }
            // The last commit may have gone to a file that lost its name just before: not done, then.
            try database.checkStillNamed()
            let logNote = database.releaseLog()
            self.summary.status = .done
            if let logNote { self.summary.notes.append(logNote) }
            if lateInterrupt { self.summary.notes.append(FinishedSource.lateInterruptNote) }
            if interruptAtAStreamsEnd { self.summary.interruptedAsItsInputEnded() }
            if let note = try? Self.triggerNote(database.connection) { self.summary.notes.append(note) }
        } catch {
            fail(FactSinkStop.reported(error, isCancelled: isCancelled))
        }
        spool?.discard()
        var summary = self.summary
        summary.writerTimings = timings
        summary.count(finished)
        rejects?.noteIfDeleted(rejected: summary.rejected, in: &summary.notes)
        try? rejects?.close()
        if summary.status == .done && summary.staged != 0 {
            summary.status = .failed
            summary.message = "the counts do not add up: \(summary.staged) records are neither stored nor rejected"
        }
        return summary
    }

    // MARK: Start and end of the load

    private func prepare(estimatedRecords: Int64?) throws {
        indexes = try IndexStrategy.decide(
            database: database, staging: staging, policy: options.conflictPolicy, estimatedRecords: estimatedRecords)
        if options.isAtomic { try database.begin() }
        try indexes.prepare(database: database, staging: staging, policy: options.conflictPolicy)
    }

    /// A trigger of the user's on `facts` may keep a row from being stored, or take it out again: the
    /// counts are of what the load wrote, and the summary says so, naming the triggers.
    static func triggerNote(_ connection: SQLiteConnection) throws(StoreError) -> String? {
        let statement = try connection.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'facts' ORDER BY name")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        return FinishedSource.triggerNote(names)
    }

    func finishLoad() throws {
        let start = ContinuousClock.now
        try IndexStrategy.finish(database: database, staging: staging, policy: options.conflictPolicy)
        timings.indexing += WriterTimings.since(start)
    }

    // MARK: Sources and batches

    private func begin(_ descriptor: SourceDescriptor) throws {
        var id: Int64 = 0
        var counts = LoadLedger.Counts()
        if let resumed = descriptor.resumeLoadID, let entry = try ledger.entry(id: resumed) {
            // Continue the interrupted row: its counts, and its start time as the facts' default creation time.
            id = resumed
            counts = entry.counts
            // Lines written after the checkpoint belonged to a batch that never committed, unless other
            // loads have written the file since.
            let resumedRejects = try RejectsResume.resume(
                rejects, recordedPath: ledger.rejectsPathOfLastEntry, counts: entry.counts, source: descriptor.path,
                recordedSource: try ledger.source(id: resumed), notes: &summary.notes)
            counts.rejectsOffset = resumedRejects.offset
            try rejects?.endTornLine()
            rejectsCommittedSize = rejects?.bytesWritten ?? 0
            try database.inTransaction {
                if resumedRejects.namesAnotherFile {
                    try ledger.setRejectsPath(id: id, options.rejectsPath, size: counts.rejectsOffset)
                }
                // The planner let a load that had merged nothing go on under another policy: say which.
                if entry.policy != options.conflictPolicy { try ledger.setPolicy(id: id, options.conflictPolicy) }
                // Likewise another format, for a load that had read nothing yet.
                if try ledger.format(id: id) != descriptor.format.rawValue {
                    try ledger.setFormat(id: id, descriptor.format.rawValue)
                }
                try ledger.record(id: id, counts: counts, status: .running)
            }
            try writer.setDefaultCreatedAt(try ledger.startedAt(id: id) ?? startedAt)
        } else {
            try database.inTransaction {
                id = try ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    sha256: descriptor.sha256, rules: ValidationRules.text(options))
                // A line a killed load left torn (an atomic one's, appended just before its commit).
                try rejects?.endTornLine()
                counts.rejectsOffset = rejects?.bytesWritten ?? 0
                try ledger.setRejectsPath(id: id, options.rejectsPath, size: counts.rejectsOffset)
            }
            try writer.setDefaultCreatedAt(startedAt)
        }
        atomicRejects.began(descriptor.path, fromLine: counts.checkpointLine, rejects: rejects)
        // A SQLite source's offset is a rowid, which may be negative.
        let sourceRecords = descriptor.size.map { size in
            descriptor.format == .sqlite || descriptor.startOffset <= 0 ? size / 120 : max(0, size - descriptor.startOffset) / 120
        }
        if try indexes.mayAppendDirectly
            && indexes.directAppendSuits(sourceRecords: sourceRecords, database: database) {
            try database.inTransaction {
                let append = try DirectAppend(staging: staging)
                try staging.dropUniqueIndex(loadID: id)
                directAppend = append
            }
        }
        indexes.mayAppendDirectly = false
        descriptors.append(descriptor)
        current = OpenSource(descriptor: descriptor, loadID: id, committed: counts, base: counts)
        pending = counts
    }

    /// Stages one segment, opening a transaction if none is open, and commits when it ends a batch.
    private func write(_ segment: FactSegment) throws {
        guard let source = current else { return }
        let id = source.loadID
        if !database.isInTransaction || (options.isAtomic && pending.records == source.committed.records) {
            if !options.isAtomic { try database.begin() }
            pending = source.committed
            pendingStaged = 0
            batchStartSequence = try staging.lastSequence()
        }
        if let directAppend {
            let written = try directAppend.write(segment.facts, loadID: id, with: writer)
            pendingStaged += written.staged
            pending.inserted += written.inserted
        } else {
            for fact in segment.facts {
                try writer.stage(fact, loadID: id)
            }
            pendingStaged += segment.facts.count
        }
        pending.count(segment)
        try segment.writeRejects(to: spool?.output ?? rejects, samples: &summary.sampleDiagnostics)
        if segment.endsBatch { try commitBatch(id: id) }
    }

    /// Checks the batch under `fail`, records its counts and checkpoint, flushes its rejects and commits.
    private func commitBatch(id: Int64) throws {
        if options.conflictPolicy == .fail,
           let conflict = try staging.firstConflict(loadID: id, afterSequence: batchStartSequence) {
            let place = conflict.isInDatabase ? "is already in the database" : "appears earlier in the input"
            throw FactSinkStop.requested(
                .aborted, "\(descriptors.last?.path ?? ""):\(conflict.line): \(conflict.statement) \(place) "
                    + "(--on-conflict fail)")
        }
        try (spool?.output ?? rejects)?.flush()
        pending.rejectsOffset = rejects?.bytesWritten ?? 0
        try ledger.record(id: id, counts: pending, status: .running)
        if isCancelled() { throw FactSinkStop.interrupted }
        if !options.isAtomic {
            let start = ContinuousClock.now
            try database.commit()
            let seconds = WriterTimings.since(start)
            timings.committing += seconds
            timings.commitLatencies.record(seconds)
        }
        progress?.committedRecords.add(pending.records - (current?.committed.records ?? 0), ordering: .relaxed)
        current?.committed = pending
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        stagedSinceMerge += pendingStaged
        pendingStaged = 0
        if stagedSinceMerge >= options.mergeThreshold { try merge(finalStatus: nil) }
    }

    /// Moves the current source's committed, staged facts into `facts` and records its counts; with a
    /// final `status` the source is finished.
    func merge(finalStatus status: LoadLedger.Status?, message: String? = nil, sha256: String? = nil) throws {
        guard let source = current else { return }
        let id = source.loadID
        let start = ContinuousClock.now
        var counts = source.committed
        try database.inTransaction {
            try database.withMergeSettings(secondaryIndexesDropped: indexes.rebuildsSecondaryIndexes) {
                if directAppend != nil {
                    counts.inserted -= try staging.restoreUniqueness(loadID: id)
                }
                let merged = try staging.merge(
                    loadID: id, policy: options.conflictPolicy, lastIDBeforeLoad: directAppend?.lastIDBefore,
                    sortBytes: indexes.rebuildsSecondaryIndexes
                        ? 0 : options.mergeSortBytes ?? options.database.mergeSortBytes)
                counts.add(merged)
                timings.mergedPieces += merged.pieces
                if status == .done {
                    try Self.checkCountsAddUp(counts, loadID: id, source: source.descriptor.path, options)
                }
                try ledger.record(id: id, counts: counts, status: status ?? .running,
                                  finishedAt: status == nil ? nil : Timestamp.now(), message: message)
                if let sha256, source.descriptor.sha256 == nil { try ledger.setSHA256(id: id, sha256) }
            }
        }
        stagedSinceMerge = 0
        directAppend = nil
        timings.merging += WriterTimings.since(start)
        if let status {
            finished.append(FinishedSource(
                descriptor: source.descriptor, loadID: id, counts: counts, status: status, base: source.base))
            current = nil
        } else {
            current?.committed = counts
            pending = counts
        }
    }

    /// A source is done only when each of its records is accounted for: inserted, updated, a
    /// duplicate or rejected (nothing is left staged once it is merged).
    private static func checkCountsAddUp(
        _ counts: LoadLedger.Counts, loadID: Int64, source: String, _ options: ImportOptions
    ) throws(StoreError) {
        guard counts.unmerged != 0 else { return }
        throw StoreError(
            kind: .countsDoNotAddUp, path: options.databasePath,
            message: "load \(loadID) of \(source): its counts do not add up (\(counts.records) records, but "
                + "\(counts.inserted) inserted + \(counts.updated) updated + \(counts.duplicates) duplicates + "
                + "\(counts.rejected) rejected); it is not recorded as done")
    }
}
