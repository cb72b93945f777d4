import Synchronization

/// The writer stage: owns the load's only connection and commits one transaction per batch.
///
/// Each batch is `BEGIN IMMEDIATE`, its inserts, its rejects written out, the ledger's counts and
/// checkpoint, `COMMIT`. The first failure rolls back the open batch only; committed batches stay
/// (unless the load is atomic, when the whole load is one transaction). A load into an empty or
/// small table drops the secondary indexes first and builds them after, which is faster and gives
/// the same database.
final class FactStore {
    private let options: ImportOptions
    private let startedAt: String
    private let isCancelled: () -> Bool
    private let progress: ImportProgress?
    private let connection: SQLiteConnection
    private let ledger: LoadLedger
    private let writer: SQLiteFactWriter
    private let rejects: BufferedFileOutput?
    private var rebuildsIndexes = false

    private var descriptors: [SourceDescriptor] = []
    private var current: (id: Int64, counts: LoadLedger.Counts)?
    /// Counts of the current source including the open batch.
    private var pending = LoadLedger.Counts()
    /// Size of the rejects file after the last commit; a rollback cuts it back to this.
    private var rejectsCommittedSize: Int64 = 0
    private var finished: [(descriptor: SourceDescriptor, id: Int64, counts: LoadLedger.Counts, status: LoadLedger.Status)] = []
    private(set) var summary = ImportSummary()

    /// Opens the database and prepares the writer.
    /// - Throws: `StoreError` for the database, `FileOutputError` for the rejects file.
    init(options: ImportOptions, startedAt: String, progress: ImportProgress?, isCancelled: @escaping () -> Bool) throws {
        self.options = options
        self.progress = progress
        self.startedAt = startedAt
        self.isCancelled = isCancelled
        connection = try FactDatabase.openForWriting(path: options.databasePath, settings: options.database)
        ledger = try LoadLedger(connection: connection)
        writer = try SQLiteFactWriter(connection: connection, policy: options.conflictPolicy, defaultCreatedAt: startedAt)
        rejects = try options.rejectsPath.map { try BufferedFileOutput(path: $0) }
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?) -> ImportSummary {
        do {
            try prepare(estimatedRecords: estimatedRecords)
            while let message = messages.pop() {
                if isCancelled() { throw Stop.interrupted }
                switch message {
                case .begin(let descriptor): try begin(descriptor)
                case .segment(let segment): try write(segment)
                case .end: try end()
                case .stop(let status, let message): throw Stop.requested(status, message)
                }
            }
            if isCancelled() { throw Stop.interrupted }
            try finishIndexes()
            if options.isAtomic { try connection.execute("COMMIT") }
            summary.status = .done
        } catch {
            fail(error)
        }
        try? rejects?.close()
        let all = finished.map(\.counts)
        summary.records = all.reduce(0) { $0 + $1.records }
        summary.inserted = all.reduce(0) { $0 + $1.inserted }
        summary.updated = all.reduce(0) { $0 + $1.updated }
        summary.duplicates = all.reduce(0) { $0 + $1.duplicates }
        summary.rejected = all.reduce(0) { $0 + $1.rejected }
        summary.warnings = all.reduce(0) { $0 + $1.warnings }
        summary.sources = (finished.map { ($0.descriptor, $0.id, $0.counts, $0.status) }).map { entry in
            ImportSummary.Source(
                path: entry.0.path, loadID: entry.1, format: entry.0.format, compression: entry.0.compression,
                records: entry.2.records, inserted: entry.2.inserted, updated: entry.2.updated,
                duplicates: entry.2.duplicates, rejected: entry.2.rejected, warnings: entry.2.warnings,
                status: entry.3.rawValue)
        }
        return summary
    }

    private enum Stop: Error {
        case interrupted
        case requested(ImportSummary.Status, String)
    }

    private func prepare(estimatedRecords: Int64?) throws {
        let existing = try connection.scalarInt("SELECT count(*) FROM facts") ?? 0
        let present = try FactDatabase.existingSecondaryIndexes(connection)
        rebuildsIndexes = existing == 0 || (estimatedRecords ?? 0) > existing
        if options.isAtomic { try connection.execute("BEGIN IMMEDIATE") }
        if rebuildsIndexes {
            let drops = FactSchema.secondaryIndexes.filter { present.contains($0.name) }
            if !drops.isEmpty {
                try inTransaction {
                    for index in drops { try connection.execute("DROP INDEX IF EXISTS \(index.name)") }
                }
            }
        } else {
            // An earlier bulk load that was killed may have left them out.
            try finishIndexes()
            rebuildsIndexes = false
        }
    }

    private func finishIndexes() throws {
        try inTransaction {
            for index in FactSchema.secondaryIndexes { try connection.execute(index.sql) }
        }
    }

    /// Runs `body` in its own transaction, or inside the load's when it is atomic.
    private func inTransaction(_ body: () throws -> Void) throws {
        if options.isAtomic { return try body() }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            try body()
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    private func begin(_ descriptor: SourceDescriptor) throws {
        var id: Int64 = 0
        try inTransaction {
            id = try ledger.start(
                source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt)
        }
        descriptors.append(descriptor)
        current = (id, LoadLedger.Counts())
        pending = LoadLedger.Counts()
    }

    /// Writes one segment, opening a transaction if none is open, and commits it when it ends a batch.
    private func write(_ segment: FactSegment) throws {
        guard let (id, committed) = current else { return }
        if !options.isAtomic && !connection.isInTransaction {
            try connection.execute("BEGIN IMMEDIATE")
            pending = committed
        }
        for fact in segment.facts {
            let outcome: SQLiteFactWriter.Outcome
            do {
                outcome = try writer.write(fact, loadID: id)
            } catch {
                guard error.isConstraintViolation && options.conflictPolicy == .fail else { throw error }
                throw Stop.requested(.aborted, "\(descriptors.last?.path ?? ""):\(fact.line): "
                    + "\(fact.statement) is already in the database (--on-conflict fail)")
            }
            switch outcome {
            case .inserted: pending.inserted += 1
            case .updated: pending.updated += 1
            case .duplicate: pending.duplicates += 1
            }
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

    /// Records the batch's counts and checkpoint in the ledger, flushes its rejects and commits.
    private func commitBatch(id: Int64) throws {
        try ledger.record(id: id, counts: pending, status: .running)
        try rejects?.flush()
        if isCancelled() { throw Stop.interrupted }
        if !options.isAtomic { try connection.execute("COMMIT") }
        progress?.committedRecords.add(pending.records - (current?.counts.records ?? 0), ordering: .relaxed)
        current = (id, pending)
        rejectsCommittedSize = rejects?.bytesWritten ?? 0
    }

    private func end() throws {
        guard let (id, counts) = current, let descriptor = descriptors.last else { return }
        let finishedAt = Timestamp.now()
        try inTransaction {
            try ledger.record(id: id, counts: counts, status: .done, finishedAt: finishedAt)
        }
        finished.append((descriptor, id, counts, .done))
        current = nil
    }

    /// Rolls back what is open and records how the load ended.
    private func fail(_ error: Error) {
        connection.rollbackQuietly()
        if !options.isAtomic { try? rejects?.truncate(to: rejectsCommittedSize) }
        let status: ImportSummary.Status
        let ledgerStatus: LoadLedger.Status
        switch error {
        case Stop.interrupted:
            status = .aborted
            ledgerStatus = .interrupted
            summary.wasInterrupted = true
            summary.message = "interrupted; the open batch was rolled back"
        case Stop.requested(let requested, let message):
            status = requested
            ledgerStatus = requested == .failed ? .failed : .aborted
            summary.message = message
        default:
            status = .failed
            ledgerStatus = .failed
            summary.message = "\(error)"
        }
        summary.status = status
        let finishedAt = Timestamp.now()
        if options.isAtomic {
            // Nothing of the load stays; each source still gets its row, with nothing committed.
            for descriptor in descriptors {
                let id = try? ledger.start(
                    source: descriptor.path, size: descriptor.size, format: descriptor.format.rawValue,
                    compression: descriptor.compression, policy: options.conflictPolicy, startedAt: startedAt,
                    status: ledgerStatus)
                if let id {
                    try? ledger.record(id: id, counts: .init(), status: ledgerStatus, finishedAt: finishedAt,
                                       message: summary.message)
                }
            }
            finished = descriptors.map { ($0, 0, LoadLedger.Counts(), ledgerStatus) }
            current = nil
        } else {
            if let (id, counts) = current, let descriptor = descriptors.last {
                try? ledger.record(id: id, counts: counts, status: ledgerStatus, finishedAt: finishedAt,
                                   message: summary.message)
                finished.append((descriptor, id, counts, ledgerStatus))
                current = nil
            }
            if rebuildsIndexes && !summary.wasInterrupted { try? finishIndexes() }
        }
    }
}
