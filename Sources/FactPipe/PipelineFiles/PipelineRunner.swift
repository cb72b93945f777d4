#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `factpipe run` did (or, with `dryRun`, would do).
public struct PipelineRunSummary: Sendable {
    /// One input: its plan for a dry run, or its load's summary.
    public struct Input: Sendable {
        /// What became of an input.
        public enum Outcome: String, Sendable, CaseIterable {
            /// Its load's own status.
            case done, aborted, interrupted, failed
            /// Not read: the ledger has its content as loaded.
            case skipped
            /// The run stopped at an earlier input.
            case notTried = "not_tried"
            /// A dry run would read it.
            case planned
        }

        public var path: String
        /// What the planner decided before reading it (`notTried` when the run stopped before it,
        /// `fail` when it could not be planned).
        public var decision: InputDecision
        public var reason: String?
        public var summary: ImportSummary?

        /// What became of it: its load's status, `skipped`, `notTried`, or in a dry run `planned` (or
        /// `failed` when it cannot be planned).
        public var status: Outcome {
            switch decision {
            case .skip: return .skipped
            case .notTried: return .notTried
            // Not planned, but a signal ended its load's wait for the writer lock: interrupted, as its load says.
            case .fail: return summary?.status == .interrupted ? .interrupted : .failed
            case .load, .resume:
                guard let summary else { return .planned }
                switch summary.status {
                case .done: return .done
                case .aborted: return .aborted
                case .interrupted: return .interrupted
                case .failed: return .failed
                }
            }
        }
    }

    public var name: String
    public var isDryRun: Bool
    public var status: ImportSummary.Status = .done
    public var inputs: [Input] = []
    /// What each step after the load did, in order.
    public var steps: [PipelineStepResult] = []
    public var message: String?
}

/// Runs a pipeline file: each input matched by its sources in sorted order as its own load (so
/// each gets its own ledger row and rejects file), stopping at the first load that does not finish,
/// then the steps after (optimize, snapshot and its retention). The database may be a PostgreSQL URL:
/// the loads, the plan, optimize and the snapshot then all go to the server.
///
/// A dry run plans the inputs with the planner the loads use (`ImportPipeline.plan()`), so it says
/// what the run would do with each — load, skip or resume — and writes nothing.
public struct PipelineRunner {
    public var file: PipelineFile
    public var isDryRun = false
    /// Called with each input the run read or skipped, as soon as its load ends: what a log shows while the
    /// run goes on (a run killed later, by the OOM killer or a reboot, left no trace of the inputs it had
    /// loaded when everything was said at its end).
    public var onInput: ((PipelineRunSummary.Input) -> Void)?

    public init(file: PipelineFile, isDryRun: Bool = false) {
        self.file = file
        self.isDryRun = isDryRun
    }

    /// Runs (or plans) the pipeline; never throws: every outcome is in the summary.
    public func run(progress: ImportProgress = ImportProgress()) -> PipelineRunSummary {
        var result = PipelineRunSummary(name: file.name, isDryRun: isDryRun)
        let date = String(Timestamp.now().prefix(10))
        let inputs: [String]
        do {
            inputs = try file.checkedSources()
            try checkPaths(inputs: inputs, date: date)
            try file.options.validate()
        } catch {
            result.status = .failed
            result.message = "\(error)"
            return result
        }
        if isDryRun { return plan(inputs, into: &result) }
        // A database that cannot be opened (its folder is missing) fails the run before it makes the
        // rejects files' folders, which it left behind.
        if !inputs.isEmpty, !PostgreSQLAddress.isPostgreSQL(file.databasePath) {
            do {
                try DatabaseFile.check(file.databasePath, mustExist: false)
            } catch {
                result.status = .failed
                result.message = "\(error)"
                return result
            }
        }
        for (index, input) in inputs.enumerated() {
            var options = file.options
            options.inputs = [input]
            var madeRejects: String?
            var madeFolder: String?
            if let template = file.rejectsTemplate {
                let path = PipelineFile.expand(template, date: date, source: input)
                let folder = PipelineFile.folder(of: path)
                if access(folder, F_OK) != 0 { madeFolder = folder }
                Self.makeParentFolder(of: path)
                options.rejectsPath = path
                options.appendsRejects = true
                if path != "-", access(path, F_OK) != 0 { madeRejects = path }
            }
            let summary = ImportPipeline(options: options).run(progress: progress)
            let plan = summary.plans.first ?? InputPlan(path: input, decision: .fail, reason: summary.message)
            // An input loaded on an earlier night is skipped, and one refused at its first bytes (an xz file, a
            // header alone) fails: the rejects file opened for it, still empty, goes (with `{date}` in the
            // template, every night left one for every such file). A resume opens it again.
            if plan.decision == .skip || summary.status != .done, let madeRejects, FileSize.bytes(madeRejects) == 0 {
                unlink(madeRejects)
                // And the (dated) folder made for it, when nothing else is in it.
                if let madeFolder { rmdir(madeFolder) }
            }
            result.inputs.append(.init(path: input, decision: plan.decision, reason: plan.reason, summary: summary))
            if let onInput, let last = result.inputs.last { onInput(last) }
            if summary.status != .done {
                result.status = summary.status
                // Most messages name their input already: name it once.
                let message = summary.message ?? summary.status.rawValue
                result.message = message.hasPrefix("\(input):") ? message : "\(input): " + message
                for untried in inputs[(index + 1)...] {
                    result.inputs.append(.init(path: untried, decision: .notTried,
                                               reason: "the run stopped at \(input)"))
                }
                return result
            }
            // A load that finished though an interrupt came after its last input (`FinishedSource`) ends
            // the run: no later input is read, and the steps after the loads do not run.
            if progress.isCancelled.load(ordering: .relaxed) {
                result.status = .interrupted
                result.message = "interrupted after \(input); "
                    + (index + 1 < inputs.count ? "the inputs after it were not read" : "the steps after the loads did not run")
                for untried in inputs[(index + 1)...] {
                    result.inputs.append(.init(path: untried, decision: .notTried, reason: "the run was interrupted"))
                }
                return result
            }
        }
        do {
            if file.optimizesAfter { result.steps.append(.optimized(try optimize(progress: progress))) }
            if let template = file.snapshotTemplate {
                let isCancelled = { @Sendable in progress.isCancelled.load(ordering: .relaxed) }
                result.steps.append(
                    .snapshot(try snapshot(template, date: date, isCancelled: isCancelled), keep: file.keepSnapshots))
            }
        } catch {
            // A signal during a step stops it (the snapshot's wait for a FIFO's reader, say): interrupted.
            result.status = progress.isCancelled.load(ordering: .relaxed) ? .interrupted : .failed
            result.message = "after the load: \(error)"
        }
        return result
    }

    /// Optimizes the database after the load, in SQLite or in PostgreSQL.
    /// - Throws: `StoreError` or `PostgreSQLError` from the optimizer; `PipelineStepError` when the
    ///   integrity check (in PostgreSQL, the index check) finds a fault.
    private func optimize(progress: ImportProgress) throws -> OptimizeReport {
        let report: OptimizeReport
        // A load that holds the writer lock (someone at a terminal, the same pipeline run twice) is waited
        // for as the run's own loads wait, `wait_seconds`: refused at once, the step failed the run and its
        // snapshot was not written.
        var options = OptimizeOptions()
        options.lockWaitSeconds = file.options.lockTimeoutSeconds
        if let address = PostgreSQLAddress(file.databasePath) {
            report = try DatabaseOptimizer.run(
                address: address, options: options, isCancelled: { progress.isCancelled.load(ordering: .relaxed) })
        } else {
            // A signal stops the step that runs (rolled back), as in `factpipe optimize`.
            report = try DatabaseOptimizer.run(path: file.databasePath, options: options, progress: progress)
        }
        guard report.isIntact else {
            throw PipelineStepError(path: report.path,
                                    message: "integrity check: " + report.integrity.joined(separator: "; "))
        }
        return report
    }

    /// Writes the snapshot, then deletes the older ones beyond `keep_snapshots`, judged by their manifests.
    /// - Throws: `SnapshotError` when the snapshot cannot be written or an old one cannot be deleted.
    private func snapshot(
        _ template: String, date: String, isCancelled: @escaping @Sendable () -> Bool
    ) throws(SnapshotError) -> ArchiveResult {
        let path = PipelineFile.expand(template, date: date)
        Self.makeParentFolder(of: path)
        var options = SnapshotOptions(databasePath: file.databasePath, outputPath: path)
        options.isCancelled = isCancelled
        // A second run the same day, or one whose clock went back, writes over a snapshot `{date}` named the
        // same: with `keep_snapshots` the kept ones then cover one state fewer. Said, not silent.
        let earlier = Self.snapshotManifest(at: path)
        var result = try SnapshotExporter(options: options).run()
        if let earlier, PathText.same(earlier.sourceDatabase, result.manifest.sourceDatabase) {
            result.replacedMadeAt = earlier.createdAt
        }
        if let keep = file.keepSnapshots {
            let retention = SnapshotRetention(
                pattern: template, sourceDatabase: result.manifest.sourceDatabase, databaseID: result.manifest.databaseID)
            let outcome = try retention.pruneAndFindOthers(keeping: keep, justWritten: path)
            (result.removed, result.otherDatabasesLeft, result.unrecordedLeft) =
                (outcome.removed, outcome.otherDatabasesLeft, outcome.unrecordedLeft)
        }
        return result
    }

    /// The manifest of the snapshot at `path`, or nil when there is none that reads.
    private static func snapshotManifest(at path: String) -> SnapshotManifest? {
        archiveManifest(at: path).flatMap { $0.kind == .snapshot ? $0 : nil }
    }

    /// The manifest of the archive (snapshot or backup) at `path`, or nil when there is none that reads.
    private static func archiveManifest(at path: String) -> SnapshotManifest? {
        (try? ArchiveReader(path: path, hashesFile: false)).flatMap { reader in
            if case .success(let manifest) = reader.manifest { manifest } else { nil }
        }
    }

    /// Refuses, before anything is written, a rejects or snapshot path that is one of `inputs` or the
    /// database (by file identity, and by where the path will be once the run has made its folders), a
    /// rejects path the snapshot or the files beside it would replace, an output that is an existing
    /// SQLite database, log, journal or factpipe archive (`OutputPathCheck`), and a snapshot path that holds
    /// a snapshot of another database (another path, or another identity at the same path).
    /// - Throws: `PathConflict` naming both files.
    public func checkPaths(inputs: [String], date: String? = nil) throws(PathConflict) {
        let date = date ?? String(Timestamp.now().prefix(10))
        var outputs: [(option: String, path: String)] = []
        if let template = file.rejectsTemplate {
            outputs += inputs.map { ("rejects", PipelineFile.expand(template, date: date, source: $0)) }
            // An input whose own rejects file would be itself: the template writes over the inputs. (A
            // file the patterns match that is a rejects file of this pipeline is no input: left out, not
            // checked, or the rejects file of a template without `{source}` failed every run after the first.)
            for match in inputs where match != "-" {
                let rejects = PipelineFile.expand(template, date: date, source: match)
                try OutputPathCheck.check(outputs: [("rejects", rejects)], inputs: [match], pipelineFile: file.path)
            }
        }
        // The run's own snapshot (and its files) replaces the one of the same name; no other output may.
        var snapshotFiles: Set<String> = []
        // Files written after the loads go over whatever has their names: a rejects file among the snapshot's
        // files lost the rejects the loads had just written to it, and a report or metrics file (written once
        // the run is over) named as a rejects file or the snapshot replaced it, the run saying done.
        func refuse(_ later: [(option: String, path: String)]) throws(PathConflict) {
            // Identities need the folders; the run makes them, so where the paths will be is compared too.
            let laterWhere = later.map { PathText.eventual($0.path) }
            for earlier in outputs {
                try OutputPathCheck.check(outputs: later + [earlier], replaceableArchives: snapshotFiles)
                if let index = laterWhere.firstIndex(of: PathText.eventual(earlier.path)) {
                    throw PathConflict(message: "\(earlier.option) \(earlier.path) is the file \(later[index].option) "
                        + "\(later[index].path) writes after the loads: give each its own file")
                }
            }
        }
        if let template = file.snapshotTemplate {
            let snapshot = PipelineFile.expand(template, date: date)
            let written = ["", ".sha256", ".manifest.json"].map { (option: "snapshot", path: snapshot + $0) }
            snapshotFiles = Set(written.map(\.path))
            try refuse(written)
            // `run FILE --db scratch.sqlite` wrote the scratch database's snapshot over the day's snapshot of the
            // file's database, exit 0. A run replaces a snapshot of its own database only.
            // Where the export will record it, also for a database the run makes anew.
            let database = PostgreSQLAddress(file.databasePath)?.description
                ?? PathText.real(file.databasePath) ?? file.databasePath
            // Nor a backup named like it (the database's whole file, ledger and all).
            if let earlier = Self.archiveManifest(at: snapshot) {
                guard earlier.kind == .snapshot else {
                    throw PathConflict(message: "snapshot \(snapshot) is a backup of \(earlier.sourceDatabase) made "
                        + "\(earlier.createdAt): a run's snapshot never replaces a backup; give it another path")
                }
                guard PathText.same(earlier.sourceDatabase, database) else {
                    throw PathConflict(message: "snapshot \(snapshot) is a snapshot of \(earlier.sourceDatabase) made "
                        + "\(earlier.createdAt), not of this run's database \(database): a run replaces only its own "
                        + "database's; give it another snapshot path (or remove that file first)")
                }
                // Another database at the same path: another host's, writing into a shared folder, or one made
                // anew. Each night's run replaced the other's snapshot of the day.
                guard DatabaseIdentity.mayBeOf(database: file.databasePath, archived: earlier.databaseID) else {
                    throw PathConflict(message: "snapshot \(snapshot) is a snapshot of another database at "
                        + "\(earlier.sourceDatabase) (identity \(earlier.databaseID ?? "")), made \(earlier.createdAt): "
                        + "a database of another host writing into the same folder, or one this path held before; a "
                        + "run replaces only its own database's; give it another snapshot path (or remove that file "
                        + "first)")
                }
            }
            outputs += written
        }
        try refuse(file.reportFiles.filter { $0.path != "-" })
        // Where each kept file is, for outputs in folders the run makes, which have no identity yet
        // (`new/../kb.sqlite`).
        var kept: [String: (what: String, reason: String)] = [:]
        let readOrLoaded = "factpipe never writes over its inputs or its database"
        if !PostgreSQLAddress.isPostgreSQL(file.databasePath) {
            for (index, path) in DatabaseFile.ownFiles(file.databasePath).enumerated() {
                let what = index == 0 ? "the database \(file.databasePath)" : "the database's file \(path)"
                kept[PathText.eventual(path)] = (what, readOrLoaded)
            }
        }
        for input in inputs where input != "-" {
            kept[PathText.eventual(input)] = ("the input \(input)", readOrLoaded)
        }
        // An output through a folder the run makes (`new/../p.toml`) has no identity to compare yet.
        if !file.path.isEmpty {
            kept[PathText.eventual(file.path)] =
                ("the pipeline file \(file.path)", "factpipe never writes over the pipeline it runs")
        }
        try OutputPathCheck.check(
            outputs: outputs, inputs: inputs, databasePath: file.databasePath, pipelineFile: file.path,
            outputsMayShare: true, replaceableArchives: snapshotFiles)
        for output in outputs {
            if let same = kept[PathText.eventual(output.path)] {
                throw PathConflict(message: "\(output.option) \(output.path) is \(same.what): \(same.reason)")
            }
            // The run makes the folders it needs; a file where one should be, or a folder where the output
            // should be, failed the snapshot once the loads were done, and a dry run said all was well.
            if let file = Self.fileInTheWay(of: output.path) {
                throw PathConflict(message: "\(output.option) \(output.path) cannot be written: \(file) is a file, "
                    + "not a folder")
            }
            var info = stat()
            if output.path != "-", stat(output.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                throw PathConflict(message: "\(output.option) \(output.path) cannot be written: it is a folder")
            }
        }
    }

    /// The first folder on the way to `path` that is there but is no folder (a file, a FIFO); nil when each
    /// is a folder or missing (the run makes the missing ones).
    private static func fileInTheWay(of path: String) -> String? {
        let folder = PipelineFile.folder(of: path)
        guard folder != ".", folder != "/" else { return nil }
        var partial: String? = folder.hasPrefix("/") ? "" : nil
        for component in folder.split(separator: "/") {
            let next = partial.map { $0 + "/" + component } ?? String(component)
            partial = next
            var info = stat()
            guard stat(next, &info) == 0 else { return nil }
            if (info.st_mode & S_IFMT) != S_IFDIR { return next }
        }
        return nil
    }

    /// What a run would do with each input, from the planner the loads use, writing nothing.
    private func plan(_ inputs: [String], into result: inout PipelineRunSummary) -> PipelineRunSummary {
        var options = file.options
        options.inputs = inputs
        let plans = ImportPipeline(options: options).plan()
        // One reason for every input is the database's (its folder missing, another program's file): no
        // input is where the run would stop, so each says it.
        let failsAsOne = plans.count > 1 && plans.allSatisfy { $0.decision == .fail && $0.reason == plans[0].reason }
        var stopsAt: String?
        for plan in plans {
            if let stopsAt, !failsAsOne {
                // The run stops at its first failed input: those after it are not tried.
                result.inputs.append(.init(path: plan.path, decision: .notTried, reason: "the run would stop at \(stopsAt)"))
                continue
            }
            result.inputs.append(.init(path: plan.path, decision: plan.decision, reason: plan.reason))
            if plan.decision == .fail {
                stopsAt = plan.path
                result.status = .failed
                result.message = plan.reason
            }
        }
        return result
    }

    private static func makeParentFolder(of path: String) {
        let folder = PipelineFile.folder(of: path)
        guard folder != ".", access(folder, F_OK) != 0 else { return }
        var partial = folder.hasPrefix("/") ? "" : "."
        for component in folder.split(separator: "/") {
            partial += "/" + component
            mkdir(partial, 0o755)
        }
    }
}
