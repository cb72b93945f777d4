import Synchronization

/// The writer stage: owns the load's only connection and commits one transaction per batch.
///
/// A batch is `BEGIN IMMEDIATE`, its facts appended to the staging table, its rejects written out,
/// the ledger's counts and checkpoint, `COMMIT`. At the end of each source, and whenever a million
/// facts wait, the staged facts move into `facts` in one transaction (`StagingArea.merge`). The first
/// failure rolls back the open batch only: the committed batches are merged and the load is recorded
/// with its final status. An atomic load is one transaction from start to end. A load into an empty
/// or small table drops the secondary indexes first and builds them after, which is faster and gives
/// the same database. The first source loaded into an empty table skips the staging table: its
/// batches go straight to `facts` without the unique index, which its end builds again
/// (`StagingArea.restoreUniqueness`, with repeated statements merged under the conflict policy).
final class FactStore: FactSink {
    private let options: ImportOptions
    private let startedAt: String
    private let isCancelled: () -> Bool
    private let progress: ImportProgress?
    private let lock: WriterLock
    private let connection: SQLiteConnection
    private let ledger: LoadLedger
    private let writer: SQLiteFactWriter
    private let staging: StagingArea
    private let rejects: BufferedFileOutput?
    private var rebuildsIndexes = false
    /// The next source may append straight to `facts` (decided by `prepare`).
    private var mayAppendDirectly = false
    /// Set while the current source appends straight to `facts` (its end restores the unique index):
    /// the statements appended so far; one that may be among them is staged instead.
    private var appended: StatementFilter?
    private var appendsDirectly: Bool { appended != nil }

    private var descriptors: [SourceDescriptor] = []
    /// The source being loaded: its ledger id and its committed counts.
    private var current: (id: Int64, counts: LoadLedger.Counts)?
    /// Counts of the current source including the open batch.
    private var pending = LoadLedger.Counts()
    /// Facts staged by the open batch, and committed to staging since the last merge.
    private var pendingStaged = 0
    private var stagedSinceMerge = 0
    /// Last staging sequence number before the open batch.
    private var batchStartSequence: Int64 = 0
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    private var rejectsCommittedSize: Int64 = 0
    private var timings = WriterTimings()
    private var finished: [(descriptor: SourceDescriptor, id: Int64, counts: LoadLedger.Counts, status: LoadLedger.Status)] = []
    private(set) var summary = ImportSummary()

    /// Takes the database's writer lock, opens it and prepares the writer.
    /// - Throws: `StoreError` for the database or the lock, `FileOutputError` for the rejects file.
    init(options: ImportOptions, startedAt: String, progress: ImportProgress?, isCancelled: @escaping () -> Bool) throws {
        self.options = options
        self.progress = progress
        self.startedAt = startedAt
        self.isCancelled = isCancelled
        try FactDatabase.checkWritable(path: options.databasePath, mustExist: false)
        lock = try WriterLock(
            databasePath: options.databasePath, timeoutSeconds: options.lockTimeoutSeconds,
            description: "import of \(options.inputs.joined(separator: ", ")) started \(startedAt)",
            isCancelled: isCancelled)
        connection = try FactDatabase.openForWriting(path: options.databasePath, settings: options.database)
        try FactSchema.migrate(connection)
        ledger = try LoadLedger(connection: connection)
        writer = try SQLiteFactWriter(connection: connection, defaultCreatedAt: startedAt)
        staging = StagingArea(connection: connection)
        rejects = try options.rejectsPath.map {
            try BufferedFileOutput(path: $0, append: options.resume || options.appendsRejects)
        }
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        try completeDirectLoad()
        try recoverStagedRows()
    }

    /// Decides for each input whether to load it, skip it (its content is in the ledger as done) or
    /// resume its interrupted load, from the ledger and the input's SHA-256.
    /// - Throws: `ReadError` when an input cannot be read for its hash; `StoreError` with a message
    ///   when an input to resume changed since its interrupted load.
    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var planner = InputPlanner(options: options, ledger: ledger)
        let plans = try planner.plan(inputs)
        for plan in plans {
            if case .skip(let reason) = plan.action { summary.skipped.append((plan.path, reason)) }
        }
        return plans
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?) -> ImportSummary {
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
            if isCancelled() { throw FactSinkStop.interrupted }
            try finishLoad()
            if options.isAtomic { try connection.execute("COMMIT") }
            releaseLog()
            summary.status = .done
        } catch {
            fail(error)
        }
        try? rejects?.close()
        summary.writerTimings = timings
        // What this run did: a resumed source's earlier counts are not counted again.
        let all = finished.map { entry -> LoadLedger.Counts in
            let before = bases[entry.id] ?? LoadLedger.Counts()
            var delta = entry.counts
            delta.records -= before.records
            delta.inserted -= before.inserted
            delta.updated -= before.updated
            delta.duplicates -= before.duplicates
            delta.rejected -= before.rejected
            delta.warnings -= before.warnings
            return delta
        }
        summary.records = all.reduce(0) { $0 + $1.records }
        summary.inserted = all.reduce(0) { $0 + $1.inserted }
        summary.updated = all.reduce(0) { $0 + $1.updated }
        summary.duplicates = all.reduce(0) { $0 + $1.duplicates }
        summary.rejected = all.reduce(0) { $0 + $1.rejected }
        summary.warnings = all.reduce(0) { $0 + $1.warnings }
        summary.staged = all.reduce(0) { $0 + $1.records - $1.inserted - $1.updated - $1.duplicates - $1.rejected }
        if summary.status == .done && summary.staged != 0 {
            summary.status = .failed
            summary.message = "the counts do not add up: \(summary.staged) records are neither stored nor rejected"
        }
        summary.sources = zip(finished, all).map { entry, delta in
            ImportSummary.Source(
                path: entry.descriptor.path, loadID: entry.id, format: entry.descriptor.format,
                compression: entry.descriptor.compression, records: delta.records,
                inserted: delta.inserted, updated: delta.updated, duplicates: delta.duplicates,
                rejected: delta.rejected, warnings: delta.warnings, status: entry.status.rawValue)
        }
        return summary
    }

    // MARK: Start and end of the load

    private func prepare(estimatedRecords: Int64?) throws {
        let existing = try connection.scalarInt("SELECT count(*) FROM facts") ?? 0
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        rebuildsIndexes = existing == 0 || (estimatedRecords ?? 0) > existing
        // Under `fail` every batch is checked for conflicts in the staging table.
        let uniqueness = try staging.uniqueness()
        let stagedRows = try staging.lastSequence()
        mayAppendDirectly = existing == 0 && options.conflictPolicy != .fail && uniqueness == .index && stagedRows == 0
        if options.isAtomic { try connection.execute("BEGIN IMMEDIATE") }
        try inTransaction {
            if options.conflictPolicy == .fail { try staging.setConflictIndex(true) }
            if rebuildsIndexes {
                for index in FactSchema.secondaryIndexes where present.contains(index.name) {
                    try connection.execute("DROP INDEX IF EXISTS \(index.name)")
                }
            }
        }
        // An earlier bulk load that was killed may have left them out.
        if !rebuildsIndexes { try buildMissingIndexes() }
    }

    /// Ledger counts each source had before this run, by load id.
    private var bases: [Int64: LoadLedger.Counts] = [:]

    /// Completes a load that appended straight to `facts` and was killed (or failed) before its end
    /// rebuilt the unique index: builds it, and stages its repeated statements for
    /// `recoverStagedRows` to merge, taking them out of the load's inserted count.
    private func completeDirectLoad() throws {
        guard try staging.uniqueness() == .missing else { return }
        try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        defer { try? connection.execute("PRAGMA cache_size=-\(options.database.cacheKiB)") }
        try inTransaction {
            let loads = try staging.loadsInFacts()
            let moved = try staging.restoreUniqueness()
            for id in loads {
                guard let entry = try ledger.entry(id: id) else { continue }
                var counts = entry.counts
                counts.inserted -= moved[id] ?? 0
                if entry.status == LoadLedger.Status.running.rawValue {
                    try ledger.record(
                        id: id, counts: counts, status: .interrupted, finishedAt: Timestamp.now(),
                        message: "the process stopped without finishing; its committed batches were kept")
                } else {
                    try ledger.setInserted(id: id, counts.inserted)
                }
            }
        }
    }

    /// Merges what a killed load had committed to the staging table, so its batches are not lost.
    private func recoverStagedRows() throws {
        let ids = try staging.loadsWithStagedRows()
        guard !ids.isEmpty else { return }
        try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        defer { try? connection.execute("PRAGMA cache_size=-\(options.database.cacheKiB)") }
        for id in ids {
            try inTransaction {
                guard let entry = try ledger.entry(id: id) else {
                    try connection.execute("DELETE FROM factpipe_staging WHERE load_id = \(id)")
                    return
                }
                let merged = try staging.merge(loadID: id, policy: entry.policy)
                var counts = entry.counts
                counts.inserted += merged.inserted
                counts.updated += merged.updated
                counts.duplicates += merged.duplicates
                // A killed load was `running`; one that failed or was aborted keeps its status (and stays
                // resumable): merging its batches does not finish it, the rest of its input was never read.
                let killed = entry.status == LoadLedger.Status.running.rawValue
                let status: LoadLedger.Status =
                    killed ? .interrupted : LoadLedger.Status(rawValue: entry.status) ?? .failed
                let note = killed ? "the process stopped without finishing; its committed batches were merged"
                    : "it stopped before the end of its input (\(entry.status)); its committed batches were merged "
                        + "by a later load, and --resume loads the rest"
                try ledger.record(id: id, counts: counts, status: status, finishedAt: Timestamp.now(), message: note)
            }
        }
    }

    private func finishLoad() throws {
        let start = ContinuousClock.now
        try buildMissingIndexes()
        if options.conflictPolicy == .fail { try inTransaction { try staging.setConflictIndex(false) } }
        timings.indexing += WriterTimings.since(start)
    }

    /// Copies the log into the database and empties it, unless a reader still needs it: a reader that
    /// held a read transaction across the load has kept SQLite from reusing the log, which then grew by
    /// the whole load. Waits at most `releaseLogWaitMilliseconds` for readers between two queries; with
    /// one still reading after that, the next load tries again.
    private func releaseLog() {
        connection.setBusyTimeout(milliseconds: Self.releaseLogWaitMilliseconds)
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.setBusyTimeout(milliseconds: options.database.busyTimeoutMilliseconds)
    }

    /// How long the end of a load waits for readers to finish their read transactions so it can empty
    /// the log: long enough for short queries, short enough that a reader held open costs little.
    static let releaseLogWaitMilliseconds: Int32 = 250

    private func buildMissingIndexes() throws {
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        let missing = FactSchema.secondaryIndexes.filter { !present.contains($0.name) }
        guard !missing.isEmpty else { return }
        // SQLite's sorter sizes its runs from the page cache: a small cache builds these indexes
        // faster and with far less memory (measured on 1M facts: 0.5 s and 28 MB at 8 MiB, 0.8 s and
        // 108 MB at 64 MiB).
        try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
        defer { try? connection.execute("PRAGMA cache_size=-\(options.database.cacheKiB)") }
        try inTransaction {
            for index in missing { try connection.execute(index.sql) }
        }
    }

    /// Runs `body` in its own transaction, or inside the load's when it is atomic and open.
    private func inTransaction(_ body: () throws -> Void) throws {
        if options.isAtomic && connection.isInTransaction { return try body() }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            try body()
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    // MARK: Sources and batches

    private func begin(_ descriptor: SourceDescriptor) throws {
        var id: Int64 = 0
        var counts = LoadLedger.Counts()
        if let resumed = descriptor.resumeLoadID, let entry = try ledger.entry(id: resumed) {
            // Continue the interrupted row: its counts, and its start time as the facts' default creation time.
            id = resumed
            counts = entry.counts
            if let rejects, ledger.rejectsPathOfLastEntry == options.rejectsPath {
                // Lines written after the checkpoint belonged to a batch that never committed.
                try rejects.truncate(to: entry.counts.rejectsOffset)
                rejectsCommittedSize = entry.counts.rejectsOffset
            }
            try inTransaction { try ledger.record(id: id, counts: counts, status: .running) }
            try writer.setDefaultCreatedAt(try ledger.startedAt(id: id) ?? startedAt)
        } else {
            try inTransaction {
                id = try ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    sha256: descriptor.sha256)
                try ledger.setRejectsPath(id: id, options.rejectsPath)
            }
            try writer.setDefaultCreatedAt(startedAt)
        }
        if mayAppendDirectly {
            try inTransaction { try staging.dropUniqueIndex() }
            mayAppendDirectly = false
            appended = StatementFilter()
        }
        descriptors.append(descriptor)
        current = (id, counts)
        pending = counts
        bases[id] = counts
    }

    /// Stages one segment, opening a transaction if none is open, and commits when it ends a batch.
    private func write(_ segment: FactSegment) throws {
        guard let (id, committed) = current else { return }
        if !connection.isInTransaction || (options.isAtomic && pending.records == committed.records) {
            if !options.isAtomic { try connection.execute("BEGIN IMMEDIATE") }
            pending = committed
            pendingStaged = 0
            batchStartSequence = try staging.lastSequence()
        }
        if let filter = appended {
            // A statement certainly new goes straight to `facts` (and counts as inserted); one that may
            // have come before is staged and merged under the conflict policy.
            filter.prefetch(segment.facts.lazy.map(\.statementHash))
            for fact in segment.facts {
                let seen = filter.insert(hash: fact.statementHash)
                try writer.stage(fact, loadID: id, intoFacts: !seen)
                if seen { pendingStaged += 1 } else { pending.inserted += 1 }
            }
        } else {
            for fact in segment.facts {
                try writer.stage(fact, loadID: id)
            }
            pendingStaged += segment.facts.count
        }
        pending.records += segment.records
        pending.rejected += segment.rejects.count
        pending.warnings += segment.warnings
        pending.checkpointOffset = segment.checkpointOffset
        pending.checkpointLine = segment.checkpointLine
        if let rejects {
            for diagnostic in segment.rejects { try rejects.write(diagnostic.rejectLine) }
        }
        if summary.sampleDiagnostics.count < 10 {
            summary.sampleDiagnostics.append(contentsOf: segment.rejects.prefix(10 - summary.sampleDiagnostics.count))
        }
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
        try rejects?.flush()
        pending.rejectsOffset = rejects?.bytesWritten ?? 0
        try ledger.record(id: id, counts: pending, status: .running)
        if isCancelled() { throw FactSinkStop.interrupted }
        if !options.isAtomic {
            let start = ContinuousClock.now
            try connection.execute("COMMIT")
            let seconds = WriterTimings.since(start)
            timings.committing += seconds
            timings.commitLatencies.record(seconds)
        }
        progress?.committedRecords.add(pending.records - (current?.counts.records ?? 0), ordering: .relaxed)
        current = (id, pending)
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
        stagedSinceMerge += pendingStaged
        pendingStaged = 0
        if stagedSinceMerge >= options.mergeThreshold { try merge(finalStatus: nil) }
    }

    /// Moves the current source's committed, staged facts into `facts` and records its counts; with a
    /// final `status` the source is finished.
    private func merge(finalStatus status: LoadLedger.Status?, message: String? = nil, sha256: String? = nil) throws {
        guard let (id, committed) = current, let descriptor = descriptors.last else { return }
        let start = ContinuousClock.now
        var counts = committed
        try inTransaction {
            // Sorting the staged rows needs memory in proportion to the cache; with the secondary
            // indexes dropped the unique index is written in order and needs little cache.
            if rebuildsIndexes {
                try connection.execute("PRAGMA cache_size=-\(FactSchema.sortCacheKiB)")
            } else {
                // The page cache is busy with the secondary indexes: sort on this thread alone, so the
                // sorter's helper threads and their buffers do not come on top of it.
                try connection.execute("PRAGMA threads=0")
            }
            defer {
                try? connection.execute("PRAGMA cache_size=-\(options.database.cacheKiB)")
                try? connection.execute("PRAGMA threads=\(options.database.sorterThreads)")
            }
            if appendsDirectly {
                let moved = try staging.restoreUniqueness()
                counts.inserted -= moved[id] ?? 0
            }
            let merged = try staging.merge(loadID: id, policy: options.conflictPolicy)
            counts.inserted += merged.inserted
            counts.updated += merged.updated
            counts.duplicates += merged.duplicates
            if status == .done { try Self.checkCountsAddUp(counts, loadID: id, source: descriptor.path, options) }
            try ledger.record(id: id, counts: counts, status: status ?? .running,
                              finishedAt: status == nil ? nil : Timestamp.now(), message: message)
            if let sha256, descriptor.sha256 == nil { try ledger.setSHA256(id: id, sha256) }
        }
        stagedSinceMerge = 0
        appended = nil
        timings.merging += WriterTimings.since(start)
        if let status {
            finished.append((descriptor, id, counts, status))
            current = nil
        } else {
            current = (id, counts)
            pending = counts
        }
    }

    /// A source is done only when each of its records is accounted for: inserted, updated, a
    /// duplicate or rejected (nothing is left staged once it is merged).
    private static func checkCountsAddUp(
        _ counts: LoadLedger.Counts, loadID: Int64, source: String, _ options: ImportOptions
    ) throws(StoreError) {
        let accounted = counts.inserted + counts.updated + counts.duplicates + counts.rejected
        guard accounted != counts.records else { return }
        throw StoreError(
            kind: .sqlite(code: 1), path: options.databasePath,
            message: "load \(loadID) of \(source): its counts do not add up (\(counts.records) records, but "
                + "\(counts.inserted) inserted + \(counts.updated) updated + \(counts.duplicates) duplicates + "
                + "\(counts.rejected) rejected); it is not recorded as done")
    }

    /// Rolls back what is open, keeps what was committed, and records how the load ended.
    private func fail(_ error: Error) {
        connection.rollbackQuietly()
        summary.apply(stop: error)
        let ledgerStatus: LoadLedger.Status
        switch error {
        case FactSinkStop.interrupted: ledgerStatus = .interrupted
        case FactSinkStop.requested(let requested, _): ledgerStatus = requested == .failed ? .failed : .aborted
        default: ledgerStatus = .failed
        }
        if options.isAtomic {
            // Nothing of the load stays; each source still gets its row, with nothing committed.
            let finishedAt = Timestamp.now()
            for descriptor in descriptors {
                if let id = try? ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    status: ledgerStatus) {
                    try? ledger.record(id: id, counts: .init(), status: ledgerStatus, finishedAt: finishedAt,
                                       message: summary.message)
                    finished.append((descriptor, id, .init(), ledgerStatus))
                }
            }
            current = nil
            return
        }
        try? rejects?.truncate(to: rejectsCommittedSize)
        if let (id, counts) = current, let descriptor = descriptors.last {
            do {
                try merge(finalStatus: ledgerStatus, message: summary.message)
            } catch {
                // The committed batches stay staged; the next load into this database merges them. Until
                // then they are counted in `records` but not yet as inserted or duplicates: say so.
                let staged = counts.records - counts.inserted - counts.updated - counts.duplicates - counts.rejected
                try? ledger.record(id: id, counts: counts, status: ledgerStatus, finishedAt: Timestamp.now(),
                                   message: (summary.message ?? "") + "; merging failed: \(error)")
                var note = summary.message ?? "failed"
                if appendsDirectly {
                    note += "; the unique index on statements could not be rebuilt (the next load into this database "
                        + "rebuilds it; the committed records are kept)"
                }
                if staged > 0 || !appendsDirectly {
                    note += "; \(staged) committed records stay staged until the next load into this database merges them"
                }
                summary.message = note
                finished.append((descriptor, id, counts, ledgerStatus))
                current = nil
            }
        }
        try? finishLoad()
    }
}
