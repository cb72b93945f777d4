#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides, before anything is read, what a load does with each input: read it from the start, skip
/// it, or resume its interrupted load — from the ledger and the input's SHA-256.
///
/// `import`, `run` and `run --dry-run` all plan with it, so a dry run says what the run does:
/// - with `resume`, an input whose latest load did not finish (killed, interrupted, failed or
///   aborted) is resumed, provided its content is the same;
/// - otherwise, unless `force`, an input whose content the ledger has as done, or that an earlier
///   input of the same run loads, is skipped;
/// - anything else is loaded. A load into an existing knowledge base has no ledger: it loads every
///   input.
struct InputPlanner {
    private let options: ImportOptions
    /// The database's ledger; nil when there is none yet (the database is still to be created).
    private let ledger: LoadLedger?
    private var plans: [SourcePlan] = []

    /// A planner over `ledger`, the one the load writes.
    init(options: ImportOptions, ledger: LoadLedger?) {
        self.options = options
        self.ledger = options.intoExisting ? nil : ledger
    }

    /// A planner over the ledger of the database as it is now, read through a read-only connection
    /// that leaves no file behind: what a dry run uses.
    /// - Throws: `StoreError` when the database exists but is not a factpipe database.
    init(readingLedgerOf options: ImportOptions) throws {
        var ledger: LoadLedger?
        var info = stat()
        if !options.intoExisting, stat(options.databasePath, &info) == 0, info.st_size > 0 {
            let connection = try FactDatabase.openForReading(path: options.databasePath, leavesNoTrace: true)
            ledger = try LoadLedger(connection: connection)
        }
        self.init(options: options, ledger: ledger)
    }

    /// Plans each of `inputs` in order (an input counts as loaded for the ones after it).
    /// - Throws: as `plan(_:)` for one input.
    mutating func plan(_ inputs: [String]) throws -> [SourcePlan] {
        try inputs.map { try plan($0) }
    }

    /// Plans one input after those planned before.
    /// - Throws: `ReadError` when the input cannot be read for its hash; `StoreError` with a message
    ///   when an input to resume changed since its interrupted load.
    mutating func plan(_ path: String) throws -> SourcePlan {
        let hashed = try FileHasher.hash(path: path)
        let sha256 = hashed?.sha256
        var plan = SourcePlan(path: path, sha256: sha256, action: .load)
        plan.stamp = hashed?.stamp
        if let ledger {
            plan.action = try decide(path, sha256: sha256, ledger: ledger)
            if case .resume(let loadID, _, _, _) = plan.action {
                plan.resumeFormat = ResumePolicy.keptFormat(
                    try ledger.format(id: loadID), counts: try ledger.entry(id: loadID)?.counts, options: options)
            }
            if plan.action == .load, let sha256 {
                let unfinished = try ledger.latestUnfinished(sha256: sha256)
                let latest = try ledger.latest(sha256: sha256)
                plan.note = ResumePolicy.reloadNote(
                    unfinished: try unfinished.map { ($0.id, try ledger.entry(id: $0.id)?.counts.records ?? 0) },
                    undone: latest.flatMap { $0.status == LoadStatus.undone.rawValue ? $0.id : nil })
            }
        }
        if plan.action == .load, !options.force, !options.intoExisting, let sha256,
           let earlier = plans.first(where: { $0.sha256 == sha256 && $0.isRead }) {
            plan.action = .skip(reason: "the same content (SHA-256 \(sha256.prefix(12))…) as \(earlier.path), "
                + "loaded earlier in this run; --force loads it again")
            plan.copyOf = earlier.path
        }
        plans.append(plan)
        return plan
    }

    private func decide(_ path: String, sha256: String?, ledger: LoadLedger) throws -> SourcePlan.Action {
        if options.resume, let latest = try ledger.latest(source: path),
           LoadStatus(rawValue: latest.status).map({ $0 != .done && $0 != .undone }) ?? true {
            guard let sha256, latest.sha256 == sha256 else {
                throw StoreError(
                    kind: .cannotResume, path: options.databasePath,
                    message: ResumePolicy.changedProblem(path, loadID: latest.id, recorded: latest.sha256, now: sha256))
            }
            return try resume(path, loadID: latest.id, ledger: ledger)
        }
        if options.resume, let sha256, !plans.contains(where: { $0.sha256 == sha256 && $0.isRead }),
           let interrupted = try ledger.latestUnfinished(sha256: sha256) {
            return try resume(path, loadID: interrupted.id, ledger: ledger)
        }
        if !options.force, let sha256, let done = try ledger.doneLoad(sha256: sha256, format: options.format.given) {
            return .skip(reason: ValidationRules.skipReason(
                sha256: sha256, loadID: done.id, source: done.source,
                rejected: try ledger.entry(id: done.id)?.counts.rejected ?? 0, recorded: try ledger.rules(id: done.id),
                options: options))
        }
        return .load
    }

    /// Goes on with load `loadID` (`ResumePolicy.decide`).
    private func resume(_ path: String, loadID: Int64, ledger: LoadLedger) throws -> SourcePlan.Action {
        let entry = try ledger.entry(id: loadID)
        switch ResumePolicy.decide(
            path, loadID: loadID, policy: entry?.policy, format: try ledger.format(id: loadID), counts: entry?.counts,
            rules: try ledger.rules(id: loadID), options: options, earlier: plans) {
        case .go(let action): return action
        case .refuse(let message):
            throw StoreError(kind: .cannotResume, path: options.databasePath, message: message)
        }
    }
}

/// How an input goes on with an interrupted load: under the conflict policy the load began with, and
/// only once in a run. Both stores' planners ask it.
enum ResumePolicy {
    /// Why `path` cannot be resumed: its SHA-256 now (nil for what is no regular file) is not the one load
    /// `loadID` recorded. A SQLite database whose file alone still has the recorded hash was hashed by an
    /// earlier release, which left its `-wal` out: the message says so rather than that the file changed.
    static func changedProblem(_ path: String, loadID: Int64, recorded: String?, now: String?) -> String {
        guard let now else { return "\(path) cannot be resumed: only regular files can be resumed" }
        let hashes = "(SHA-256 \(recorded?.prefix(12) ?? "unknown")… then, \(now.prefix(12))… now)"
        if let recorded, FileHasher.sha256WithoutLog(path: path) == recorded {
            return "\(path) cannot be resumed exactly: load \(loadID) recorded the SHA-256 of the database file alone, "
                + "as earlier releases did, and its -wal now counts too \(hashes); the file is as it was, but what its "
                + "-wal holds may have changed since. Load it again without --resume (the facts already loaded are met "
                + "as stored ones, under the load's conflict policy)"
        }
        return "\(path) cannot be resumed: it changed since load \(loadID) \(hashes); load it again without --resume"
    }

    enum Decision {
        /// The plan: go on with the load, or skip the input (a copy an earlier input already goes on with).
        case go(SourcePlan.Action)
        /// Why the resume is refused.
        case refuse(String)
    }

    /// Goes on with load `loadID` (whose row has `policy`, `format` and `counts`) after its checkpoint;
    /// skips the input when one of the run's `earlier` plans goes on with that load; refuses another
    /// policy than the load's once it merged records under it (a failed atomic load merged none), another
    /// `--format` than the one it read the input in, and other rules than it checked records by (`rules`).
    static func decide(
        _ path: String, loadID: Int64, policy: ConflictPolicy?, format: String?, counts: LoadLedger.Counts?,
        rules: String?, options: ImportOptions, earlier: [SourcePlan]
    ) -> Decision {
        if let earlier = earlier.first(where: { $0.resumes(loadID) }) {
            return .go(.skip(
                reason: "the same content as \(earlier.path), which goes on with load \(loadID) in this run"))
        }
        if let given = options.format.given, let format, given != format, readAny(counts) {
            // Read on in another format, every record after the checkpoint would be refused and the load done.
            let option = setting(of: options, flag: "--format", key: "sources.format")
            return .refuse(
                "\(path) cannot be resumed with \(option(given)): load \(loadID) read it as \(format) up to its "
                    + "checkpoint; resume it with \(option(format)) (or without \(option(nil))), or undo load "
                    + "\(loadID) and load it again")
        }
        if let policy, let counts, counts.records > 0, policy != options.conflictPolicy {
            return .refuse(mismatch(path, loadID: loadID, began: policy, options: options))
        }
        if readAny(counts),
            let problem = ValidationRules.resumeProblem(path, loadID: loadID, recorded: rules, options: options)
        {
            return .refuse(problem)
        }
        return .go(.resume(
            loadID: loadID, offset: counts?.checkpointOffset ?? 0, line: counts?.checkpointLine ?? 1,
            rejected: counts?.rejected ?? 0))
    }

    /// What a load of an input from its first line says (nil: nothing) when its content's latest load stopped
    /// after committing `unfinished.records` records, or its content's latest load (`undone`) was undone. A
    /// plain rerun after a kill read the input from line 1 again and wrote its refusals up to the stop into the
    /// rejects file a second time, and a file undone came back the next night, each without a word.
    static func reloadNote(unfinished: (id: Int64, records: Int)?, undone: Int64?) -> String? {
        if let unfinished, unfinished.records > 0 {
            return "load \(unfinished.id) of the same content stopped after committing \(unfinished.records) records; "
                + "this load reads it from line 1, meeting those as stored facts and refusing again what they refused "
                + "(--resume goes on from where load \(unfinished.id) stopped)"
        }
        if let undone {
            return "load \(undone) of the same content was undone; it is loaded again (undo removes the facts, "
                + "it does not keep the content out)"
        }
        return nil
    }

    /// The format a resume given none reads on in: its load's, once that load read something in it (one
    /// that read nothing, its header refused, is no guide).
    static func keptFormat(_ format: String?, counts: LoadLedger.Counts?, options: ImportOptions) -> InputFormat? {
        guard options.format == .auto, readAny(counts) else { return nil }
        return format.flatMap(InputFormat.init(rawValue:))
    }

    /// True when the load committed something of its input.
    private static func readAny(_ counts: LoadLedger.Counts?) -> Bool {
        (counts?.records ?? 0) > 0 || (counts?.checkpointOffset ?? 0) > 0
    }

    /// Half of the input would be merged one way and half another: a resume goes on as its load began.
    static func mismatch(_ path: String, loadID: Int64, began: ConflictPolicy, options: ImportOptions) -> String {
        let option = setting(of: options, flag: "--on-conflict", key: "load.on_conflict")
        return "\(path) cannot be resumed with \(option(options.conflictPolicy.rawValue)): load \(loadID) began with "
            + "\(option(began.rawValue)), and its records up to the checkpoint were merged that way; resume it with "
            + "\(option(began.rawValue)), or load it again without --resume"
    }

    /// How a refusal names an option set to a value (nil: the option alone), as the user gave it: the flag of
    /// `import` (`--on-conflict skip`) or the key of a pipeline file (`load.on_conflict = "skip"`).
    private static func setting(of options: ImportOptions, flag: String, key: String) -> (String?) -> String {
        { value in
            guard let value else { return options.isFromPipelineFile ? key : flag }
            return options.isFromPipelineFile ? "\(key) = \"\(value)\"" : "\(flag) \(value)"
        }
    }
}

extension InputFormat {
    /// The format a user gave, as the ledger writes it; nil for `auto`, which reads what the input holds.
    var given: String? { self == .auto ? nil : rawValue }
}

extension SourcePlan {
    /// True when it goes on with load `loadID`.
    func resumes(_ loadID: Int64) -> Bool {
        if case .resume(let id, _, _, _) = action { return id == loadID }
        return false
    }

    /// True when the load reads it (from the start or from its checkpoint).
    var isRead: Bool {
        if case .skip = action { return false }
        return true
    }
}
