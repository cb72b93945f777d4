/// What `factpipe optimize` may do beyond its fixed steps.
public struct OptimizeOptions: Sendable, Equatable {
    /// Rewrite the database without its free pages (`VACUUM`).
    public var vacuum = false
    /// Rebuild every index (`REINDEX`).
    public var reindex = false
    /// How long to wait for SQLite's lock when another program holds it, in milliseconds.
    public var busyTimeoutMilliseconds: Int32 = 250
    /// How long to wait for a load that holds the writer lock to finish, in seconds: 0 (refuse at once)
    /// for `factpipe optimize`; a pipeline's `[after]` step waits as its loads do (`wait_seconds`).
    public var lockWaitSeconds: Double = 0

    /// Creates options; by default neither `VACUUM` nor `REINDEX` runs.
    public init(vacuum: Bool = false, reindex: Bool = false) {
        self.vacuum = vacuum
        self.reindex = reindex
    }
}

/// What `factpipe optimize` did, and the database's size before and after.
public struct OptimizeReport: Sendable {
    /// One step, how long it took, and what it answered.
    public struct Step: Sendable, Equatable {
        /// The SQL run, e.g. `ANALYZE` or `PRAGMA wal_checkpoint(TRUNCATE)`.
        public var name: String
        public var seconds: Double
        public var detail: String?
    }

    /// The files and pages of the database at one moment.
    public struct Size: Sendable, Equatable {
        public var fileBytes: Int64
        public var walBytes: Int64
        public var pageSize: Int
        public var pageCount: Int
        public var freePages: Int
    }

    /// The SQLite path, or the PostgreSQL server as `PostgreSQLAddress.description` shows it.
    public var path: String
    /// SQLite, or PostgreSQL (where `fileBytes` is the size of factpipe's tables with their indexes,
    /// and the WAL and page figures are 0).
    public var store = DatabaseStats.Store.sqlite
    public var before: Size
    public var after: Size
    public var steps: [Step] = []
    /// What `PRAGMA integrity_check` returned (in PostgreSQL, the check of factpipe's indexes):
    /// `["ok"]` for a sound database.
    public var integrity: [String] = []
    /// False when a reader kept the checkpoint from emptying the log.
    public var checkpointCompleted = true

    /// True when the integrity check found nothing wrong.
    public var isIntact: Bool { integrity == ["ok"] }
}

/// Runs `factpipe optimize`: `PRAGMA optimize`, `ANALYZE`, optionally `REINDEX` and `VACUUM`, a
/// WAL checkpoint that truncates the log, and `PRAGMA integrity_check`.
///
/// It takes the database's writer lock without waiting, so it refuses at once while a load runs
/// (and a load that starts meanwhile waits for it). `VACUUM` runs before the checkpoint: in WAL
/// mode the rewritten pages go through the log, and only the checkpoint shrinks the file.
public enum DatabaseOptimizer {
    /// Optimizes the factpipe database at `path` and reports what it did.
    /// - Throws: `StoreError` of kind `.busy` while a load holds the lock or another program keeps
    ///   SQLite's lock longer than the busy timeout; other kinds when the file is missing, is not a
    ///   factpipe database, or a step fails; `.replaced` when the path is moved over or removed while it runs
    ///   (what it did went into the file that had the name).
    ///
    /// A cancelled `progress` (SIGINT, SIGTERM) stops the step that runs: its transaction rolls back, the
    /// log it wrote is truncated, and the run throws `StoreError` `.interrupted` naming the step; the
    /// database is as the steps before it left it.
    public static func run(
        path: String, options: OptimizeOptions = .init(), progress: ImportProgress? = nil
    ) throws(StoreError) -> OptimizeReport {
        do {
            return try optimize(path: path, options: options, progress: progress)
        } catch  where error.kind == .busy && !error.message.hasPrefix("refusing") {
            throw StoreError(
                kind: .busy, path: path,
                message: "refusing to optimize: another program holds the database's lock (\(error.message); "
                    + "waited \(options.busyTimeoutMilliseconds) ms)", sql: error.sql)
        }
    }

    /// Optimizes the factpipe database in PostgreSQL at `address` (see `PostgreSQLOptimizer`) and reports
    /// what it did.
    /// - Throws: `PostgreSQLError` while a load holds the writer lock, when the server cannot be reached,
    ///   the database has no factpipe schema, or a step fails.
    /// `isCancelled` ends a wait for the writer lock (`lockWaitSeconds`).
    public static func run(
        address: PostgreSQLAddress, options: OptimizeOptions = .init(), isCancelled: () -> Bool = { false }
    ) throws(PostgreSQLError) -> OptimizeReport {
        try PostgreSQLOptimizer.run(address: address, options: options, isCancelled: isCancelled)
    }

    private static func optimize(
        path: String, options: OptimizeOptions, progress: ImportProgress?
    ) throws(StoreError) -> OptimizeReport {
        let beforeFiles = FileSize.database(path)
        var report: OptimizeReport
        do {
            let maintenance = try DatabaseMaintenance(
                path: path, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds,
                lockWaitSeconds: options.lockWaitSeconds,
                isCancelled: { progress?.isCancelled.load(ordering: .relaxed) == true })
            let pages = try maintenance.pages()
            let before = OptimizeReport.Size(
                fileBytes: beforeFiles.file, walBytes: beforeFiles.wal, pageSize: pages.size, pageCount: pages.count,
                freePages: pages.free)
            report = OptimizeReport(path: path, before: before, after: before)
            let interrupter = maintenance.interrupter()
            defer { interrupter.disarm() }
            progress?.whenCancelled { interrupter.interrupt() }
            /// Runs one step; an interrupt stops it (or the next one) and ends the run.
            func step(_ name: String, _ body: () throws(StoreError) -> Void) throws(StoreError) {
                do throws(StoreError) {
                    if progress?.isCancelled.load(ordering: .relaxed) == true { throw interrupted(path, name) }
                    try report.timed(name, body)
                    try maintenance.checkStillAtPath()
                } catch where error.kind == .replaced {
                    throw error
                } catch {
                    guard progress?.isCancelled.load(ordering: .relaxed) == true else { throw error }
                    // What the stopped step wrote to the log was rolled back: give the space back.
                    _ = try? maintenance.checkpoint()
                    throw interrupted(path, name)
                }
            }
            // What a stopped load left (its indexes, its staged batches), completed as the next load would.
            if let leftovers = try maintenance.leftovers() {
                try step("complete stopped loads") { () throws(StoreError) in try maintenance.completeStoppedLoads() }
                if let last = report.steps.indices.last { report.steps[last].detail = leftovers.description }
            }
            try step("PRAGMA optimize") { () throws(StoreError) in try maintenance.optimize() }
            try step("ANALYZE") { () throws(StoreError) in try maintenance.analyze() }
            if options.reindex { try step("REINDEX") { () throws(StoreError) in try maintenance.reindex() } }
            if options.vacuum { try step("VACUUM") { () throws(StoreError) in try maintenance.vacuum() } }
            // The checkpoint and the check stop on an interrupt as the steps before do: a signal during the
            // checkpoint was dropped (the whole check ran after it, exit 0), and one during the check ended
            // it as a failed statement (exit 1, which says the check found damage).
            func interruptible(_ name: String, _ body: () throws(StoreError) -> Void) throws(StoreError) {
                if progress?.isCancelled.load(ordering: .relaxed) == true { throw interrupted(path, name) }
                do throws(StoreError) {
                    try body()
                } catch {
                    guard progress?.isCancelled.load(ordering: .relaxed) == true else { throw error }
                    throw interrupted(path, name)
                }
            }
            var checkpoint: DatabaseMaintenance.Checkpoint?
            try interruptible("PRAGMA wal_checkpoint(TRUNCATE)") { () throws(StoreError) in
                try report.timed("PRAGMA wal_checkpoint(TRUNCATE)") { () throws(StoreError) -> String? in
                    let result = try maintenance.checkpoint()
                    checkpoint = result
                    if result.logFrames < 0 { return "not in WAL mode" }
                    return result.wasBlocked
                        ? "blocked by a reader: \(result.checkpointedFrames) of \(result.logFrames) frames copied"
                        : "\(result.checkpointedFrames) of \(result.logFrames) frames copied, log truncated"
                }
            }
            report.checkpointCompleted = !(checkpoint?.wasBlocked ?? false)
            var integrity: [String] = []
            try interruptible("PRAGMA integrity_check") { () throws(StoreError) in
                try report.timed("PRAGMA integrity_check") { () throws(StoreError) -> String? in
                    integrity = try maintenance.integrityCheck()
                    return integrity.prefix(3).joined(separator: "; ")
                }
            }
            report.integrity = integrity
            // What was checked and sized must be the file the path names: not one moved over meanwhile.
            try maintenance.checkStillAtPath()
            let after = try maintenance.pages()
            report.after = OptimizeReport.Size(
                fileBytes: 0, walBytes: 0, pageSize: after.size, pageCount: after.count, freePages: after.free)
        }
        // Sizes on disk once the connection is closed (the last connection removes an empty log).
        let afterFiles = FileSize.database(path)
        report.after.fileBytes = afterFiles.file
        report.after.walBytes = afterFiles.wal
        return report
    }
}

private func interrupted(_ path: String, _ step: String) -> StoreError {
    StoreError(
        kind: .interrupted, path: path,
        message: "interrupted during \(step); that step was rolled back, the database is as the steps before left it")
}

extension OptimizeReport {
    /// Runs `body` as the step `name` of either store's optimize, recording its time and what it said.
    mutating func timed<Failure: Error>(_ name: String, _ body: () throws(Failure) -> String?) throws(Failure) {
        let start = ContinuousClock.now
        let detail = try body()
        steps.append(.init(name: name, seconds: WriterTimings.since(start), detail: detail))
    }

    /// The same for a step that says nothing.
    mutating func timed<Failure: Error>(_ name: String, _ body: () throws(Failure) -> Void) throws(Failure) {
        try timed(name) { () throws(Failure) -> String? in
            try body()
            return nil
        }
    }
}
