/// Decides, before reading an input, what a load into PostgreSQL does with it — load it, skip it (its
/// content is in the ledger as done, or came earlier in the same run) or resume its interrupted load —
/// from the ledger and the input's SHA-256, by the SQLite planner's rules (`InputPlanner`).
///
/// The load plans with its own connection under the writer lock; a dry run (`dryRun`) plans from a
/// read-only snapshot of the ledger and writes nothing, not even the schema.
struct PostgreSQLLoadPlanner {
    /// The ledger; nil when the database has no factpipe schema yet (every input is loaded).
    private let ledger: PostgreSQLLedger?
    private let options: ImportOptions
    /// The server, as messages show it.
    private let server: String
    private var plans: [SourcePlan] = []

    init(ledger: PostgreSQLLedger?, options: ImportOptions, server: String) {
        self.ledger = ledger
        self.options = options
        self.server = server
    }

    /// What `run --dry-run` (`ImportPipeline.plan()`) says of each input of a load into `address`, from
    /// the ledger as it is now, in one read-only transaction. An input that cannot be planned is `fail`
    /// with why, and the ones after it are planned all the same; every input is `fail` when the server
    /// cannot be read or the database is not factpipe's.
    static func dryRun(address: PostgreSQLAddress, options: ImportOptions) -> [InputPlan] {
        let connection: PostgreSQLConnection
        var planner: PostgreSQLLoadPlanner
        do throws(PostgreSQLError) {
            connection = try PostgreSQLConnection(address: address, applicationName: "factpipe run --dry-run")
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let hasLedger = try PostgreSQLSchema.state(connection) != .empty
            if hasLedger { try PostgreSQLSchema.checkReadable(connection) }
            // As the load would refuse it: the plan said "load" of a LATIN1 database the load then refused.
            try PostgreSQLSchema.checkEncoding(connection)
            planner = PostgreSQLLoadPlanner(
                ledger: hasLedger ? PostgreSQLLedger(connection: connection) : nil, options: options,
                server: connection.server)
        } catch {
            return options.inputs.map { InputPlan(path: $0, decision: .fail, reason: "\(error)") }
        }
        defer { connection.rollbackQuietly() }
        return options.inputs.map { input in
            do {
                return try planner.plan(input).inputPlan
            } catch {
                return InputPlan(path: input, decision: .fail, reason: "\(error)")
            }
        }
    }

    /// Plans one input after those planned before.
    /// - Throws: `ReadError` when the input cannot be read for its hash; `PostgreSQLError` from the
    ///   ledger, or when an input to resume changed since its interrupted load.
    mutating func plan(_ path: String) throws -> SourcePlan {
        let hashed = try FileHasher.hash(path: path)
        let sha256 = hashed?.sha256
        var plan = SourcePlan(path: path, sha256: sha256, action: .load)
        plan.stamp = hashed?.stamp
        if options.resume, let ledger, let latest = try ledger.latest(source: path),
           ![LoadLedger.Status.done.rawValue, LoadLedger.Status.undone.rawValue].contains(latest.status) {
            guard let sha256, latest.sha256 == sha256 else {
                throw PostgreSQLError(
                    server: server,
                    message: ResumePolicy.changedProblem(path, loadID: latest.id, recorded: latest.sha256, now: sha256))
            }
            plan.action = try resume(path, loadID: latest.id, ledger: ledger)
        } else if options.resume, let ledger, let sha256, !plans.contains(where: { $0.sha256 == sha256 && $0.isRead }),
                  let interrupted = try ledger.latestUnfinished(sha256: sha256) {
            plan.action = try resume(path, loadID: interrupted.id, ledger: ledger)
        } else if !options.force, let sha256, let ledger, let done = try ledger.doneLoad(sha256: sha256, format: options.format.given) {
            plan.action = .skip(reason: ValidationRules.skipReason(
                sha256: sha256, loadID: done.id, source: done.source,
                rejected: try ledger.entry(id: done.id)?.counts.rejected ?? 0, recorded: try ledger.rules(id: done.id),
                options: options))
        } else if !options.force, let sha256,
                  let earlier = plans.first(where: { $0.sha256 == sha256 && $0.isRead }) {
            plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) as \(earlier.path), "
                + "loaded earlier in this run; --force loads it again")
            plan.copyOf = earlier.path
        }
        if case .resume(let loadID, _, _, _) = plan.action, let ledger {
            plan.resumeFormat = ResumePolicy.keptFormat(
                try ledger.format(id: loadID), counts: try ledger.entry(id: loadID)?.counts, options: options)
        }
        if plan.action == .load, let ledger, let sha256 {
            let unfinished = try ledger.latestUnfinished(sha256: sha256)
            let latest = try ledger.latest(sha256: sha256)
            plan.note = ResumePolicy.reloadNote(
                unfinished: try unfinished.map { ($0.id, try ledger.entry(id: $0.id)?.counts.records ?? 0) },
                undone: latest.flatMap { $0.status == LoadStatus.undone.rawValue ? $0.id : nil })
        }
        plans.append(plan)
        return plan
    }

    /// Goes on with load `loadID` (`ResumePolicy.decide`).
    private func resume(_ path: String, loadID: Int64, ledger: PostgreSQLLedger) throws -> SourcePlan.Action {
        let entry = try ledger.entry(id: loadID)
        switch ResumePolicy.decide(
            path, loadID: loadID, policy: entry?.policy, format: try ledger.format(id: loadID), counts: entry?.counts,
            rules: try ledger.rules(id: loadID), options: options, earlier: plans) {
        case .go(let action): return action
        case .refuse(let message): throw PostgreSQLError(server: server, message: message)
        }
    }
}
