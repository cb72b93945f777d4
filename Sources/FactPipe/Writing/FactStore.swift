/// A load into a factpipe database: takes the database's writer lock, opens and migrates it, completes
/// what a killed load left (`LoadRecovery`), decides what to do with each input, and hands the load
/// to the writer stage (`WriterStage`).
final class FactStore: FactSink {
    private let options: ImportOptions
    private let lock: WriterLock
    private let connection: SQLiteConnection
    private let ledger: LoadLedger
    let stage: WriterStage
    /// The planner's skipped inputs; the writer stage starts its summary from this.
    private(set) var summary = ImportSummary()

    /// Takes the database's writer lock, opens it and prepares the writer.
    /// - Throws: `StoreError` for the database or the lock, `FileOutputError` for the rejects file.
    init(options: ImportOptions, startedAt: String, progress: ImportProgress?, isCancelled: @escaping () -> Bool) throws {
        self.options = options
        try FactDatabase.checkWritable(path: options.databasePath, mustExist: false)
        try WriterLock.checkRejectsNotHeld(options)
        lock = try WriterLock(
            databasePath: options.databasePath, timeoutSeconds: options.lockTimeoutSeconds,
            description: "import of \(options.inputs.joined(separator: ", ")) started \(startedAt)",
            isCancelled: isCancelled)
        if let rejects = options.rejectsPath { try BufferedFileOutput.checkNotHeld(rejects, what: "rejects file") }
        connection = try FactDatabase.openForWriting(path: options.databasePath, settings: options.database)
        try FactSchema.migrate(connection)
        try StagingArea(connection: connection).checkUniqueIndex()
        ledger = try LoadLedger(connection: connection)
        stage = try WriterStage(
            options: options, connection: connection, ledger: ledger, startedAt: startedAt, progress: progress,
            isCancelled: isCancelled)
        stage.database.beforeCommit = { [lock] () throws(StoreError) in try lock.reassert() }
        // What it merges is counted in the stopped load's ledger row, not in this run's counts (a resume that
        // only completed the merge said 0 inserted, 0 duplicates): a note says it.
        var notes: [String] = []
        _ = try LoadRecovery(database: stage.database, ledger: ledger, staging: stage.staging).run { id, merged in
            notes.append(merged.noteOfStoppedLoad(id))
        }
        summary.notes.append(contentsOf: notes)
    }

    /// Decides for each input whether to load it, skip it (its content is in the ledger as done) or
    /// resume its interrupted load, from the ledger and the input's SHA-256.
    /// - Throws: `ReadError` when an input cannot be read for its hash; `StoreError` with a message
    ///   when an input to resume changed since its interrupted load.
    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var planner = InputPlanner(options: options, ledger: ledger)
        do {
            let plans = try planner.plan(inputs)
            for plan in plans {
                if case .skip(let reason) = plan.action { summary.skipped.append((plan.path, reason)) }
            }
            try stage.readyRejects(readingAnInput: plans.contains(where: \.isRead))
            return plans
        } catch {
            // The writer never runs, and its end builds the secondary indexes a killed bulk load left out (the
            // recovery in `init` completed that load): a refused resume left `facts` without them until a later
            // load or `optimize`. Not after a stop signal (hashing a large input): the next writer builds them.
            if !stage.isCancelled() { try? stage.database.buildMissingSecondaryIndexes() }
            throw error
        }
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?, sourcesToRead: Int) -> ImportSummary {
        stage.run(messages, estimatedRecords: estimatedRecords, sourcesToRead: sourcesToRead, summary: summary)
    }
}
