/// A load into a factpipe database: takes the database's writer lock, opens and migrates it, completes
/// what a killed load left (`LoadRecovery`), decides what to do with each input, and hands the load
/// to the writer stage (`WriterStage`).
final class FactStore: FactSink {
    private let options: ImportOptions
    private let lock: WriterLock
    private let connection: SQLiteConnection
    private let ledger: LoadLedger
    private let stage: WriterStage
    /// The planner's skipped inputs; the writer stage starts its summary from this.
    private(set) var summary = ImportSummary()

    /// Takes the database's writer lock, opens it and prepares the writer.
    /// - Throws: `StoreError` for the database or the lock, `FileOutputError` for the rejects file.
    init(options: ImportOptions, startedAt: String, progress: ImportProgress?, isCancelled: @escaping () -> Bool) throws {
        self.options = options
        try FactDatabase.checkWritable(path: options.databasePath, mustExist: false)
        lock = try WriterLock(
            databasePath: options.databasePath, timeoutSeconds: options.lockTimeoutSeconds,
            description: "import of \(options.inputs.joined(separator: ", ")) started \(startedAt)",
            isCancelled: isCancelled)
        connection = try FactDatabase.openForWriting(path: options.databasePath, settings: options.database)
        try FactSchema.migrate(connection)
        ledger = try LoadLedger(connection: connection)
        stage = try WriterStage(
            options: options, connection: connection, ledger: ledger, startedAt: startedAt, progress: progress,
            isCancelled: isCancelled)
        try LoadRecovery(database: stage.database, ledger: ledger, staging: stage.staging).run()
    }

    /// Decides for each input whether to load it, skip it (its content is in the ledger as done) or
    /// resume its interrupted load, from the ledger and the input's SHA-256.
    /// - Throws: `ReadError` when an input cannot be read for its hash; `StoreError` with a message
    ///   when an input to resume changed since its interrupted load.
    func plan(_ inputs: [String]) throws -> [SourcePlan] {
        var plans: [SourcePlan] = []
        for path in inputs {
            let sha256 = try FileHasher.sha256(path: path)
            var plan = SourcePlan(path: path, sha256: sha256, action: .load)
            if options.resume, let latest = try ledger.latest(source: path),
               ![LoadLedger.Status.done.rawValue, LoadLedger.Status.undone.rawValue].contains(latest.status) {
                guard let sha256, latest.sha256 == sha256 else {
                    throw StoreError(
                        kind: .sqlite(code: 1), path: options.databasePath,
                        message: "\(path) cannot be resumed: "
                            + (sha256 == nil ? "only regular files can be resumed"
                               : "it changed since load \(latest.id) (SHA-256 \(latest.sha256?.prefix(12) ?? "unknown")… "
                                 + "then, \(sha256?.prefix(12) ?? "")… now); load it again without --resume"))
                }
                let entry = try ledger.entry(id: latest.id)
                plan.action = .resume(loadID: latest.id, offset: entry?.counts.checkpointOffset ?? 0,
                                      line: entry?.counts.checkpointLine ?? 1)
            } else if !options.force, let sha256, let done = try ledger.doneLoad(sha256: sha256) {
                plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) was loaded by load "
                    + "\(done.id) from \(done.source); --force loads it again")
            } else if !options.force, let sha256, let earlier = plans.first(where: { $0.sha256 == sha256 && $0.action == .load }) {
                plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) as \(earlier.path), "
                    + "loaded earlier in this run; --force loads it again")
            }
            if case .skip(let reason) = plan.action { summary.skipped.append((path, reason)) }
            plans.append(plan)
        }
        return plans
    }

    /// Runs the writer until the messages end or the load stops; returns the committed summary.
    func run(_ messages: BoundedQueue<WriterMessage>, estimatedRecords: Int64?) -> ImportSummary {
        stage.run(messages, estimatedRecords: estimatedRecords, summary: summary)
    }
}
