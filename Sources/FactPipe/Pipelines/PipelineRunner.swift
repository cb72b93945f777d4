#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The steps a pipeline may run after its load; the command line provides them.
public protocol PipelineAfterSteps {
    /// Optimizes the database; returns a line saying what was done.
    func optimize(databasePath: String) throws -> String
    /// Writes a snapshot of the database to `path`, keeping the `keep` newest of the same pattern.
    func snapshot(databasePath: String, to path: String, pattern: String, keep: Int?) throws -> String
}

/// What `factpipe run` did (or, with `dryRun`, would do).
public struct PipelineRunSummary: Sendable {
    /// One input: its plan for a dry run, or its load's summary.
    public struct Input: Sendable {
        public var path: String
        /// `load`, `skip` (content already loaded), `resume`, or `not_tried` (the run stopped before
        /// it) — the decision before reading.
        public var decision: String
        public var reason: String?
        public var summary: ImportSummary?

        /// What became of it: its load's status (`done`, `aborted`, `failed`), `skipped`, `not_tried`,
        /// or in a dry run `planned` (or `failed` when it cannot be read).
        public var status: String {
            switch decision {
            case "skip": return "skipped"
            case "not_tried": return "not_tried"
            case "fail": return "failed"
            default: return summary?.status.rawValue ?? "planned"
            }
        }
    }

    public var name: String
    public var isDryRun: Bool
    public var status: ImportSummary.Status = .done
    public var inputs: [Input] = []
    public var steps: [String] = []
    public var message: String?
}

/// Runs a pipeline file: each input matched by its sources in sorted order as its own load (so
/// each gets its own ledger row and rejects file), stopping at the first load that does not finish,
/// then the steps after.
public struct PipelineRunner {
    public var file: PipelineFile
    public var isDryRun = false
    public var afterSteps: (any PipelineAfterSteps)?

    public init(file: PipelineFile, isDryRun: Bool = false, afterSteps: (any PipelineAfterSteps)? = nil) {
        self.file = file
        self.isDryRun = isDryRun
        self.afterSteps = afterSteps
    }

    /// Runs (or plans) the pipeline; never throws: every outcome is in the summary.
    public func run(progress: ImportProgress = ImportProgress()) -> PipelineRunSummary {
        var result = PipelineRunSummary(name: file.name, isDryRun: isDryRun)
        let inputs = file.expandSources()
        let date = String(Timestamp.now().prefix(10))
        do {
            try checkPaths(inputs: inputs, date: date)
        } catch {
            result.status = .failed
            result.message = error.message
            return result
        }
        if isDryRun { return plan(inputs, into: &result) }
        for (index, input) in inputs.enumerated() {
            var options = file.options
            options.inputs = [input]
            if let template = file.rejectsTemplate {
                let path = PipelineFile.expand(template, date: date, source: input)
                Self.makeParentFolder(of: path)
                options.rejectsPath = path
                options.appendsRejects = true
            }
            let summary = ImportPipeline(options: options).run(progress: progress)
            let decision = summary.skipped.isEmpty ? (options.resume ? "resume" : "load") : "skip"
            result.inputs.append(.init(path: input, decision: decision, reason: summary.skipped.first?.reason,
                                       summary: summary))
            if summary.status != .done {
                result.status = summary.status
                // Most messages name their input already: name it once.
                let message = summary.message ?? summary.status.rawValue
                result.message = message.hasPrefix("\(input):") ? message : "\(input): " + message
                for untried in inputs[(index + 1)...] {
                    result.inputs.append(.init(path: untried, decision: "not_tried",
                                               reason: "the run stopped at \(input)"))
                }
                return result
            }
        }
        guard let afterSteps else { return result }
        do {
            if file.optimizesAfter {
                result.steps.append(try afterSteps.optimize(databasePath: file.databasePath))
            }
            if let template = file.snapshotTemplate {
                let path = PipelineFile.expand(template, date: date)
                Self.makeParentFolder(of: path)
                result.steps.append(try afterSteps.snapshot(databasePath: file.databasePath, to: path,
                                                            pattern: template, keep: file.keepSnapshots))
            }
        } catch {
            result.status = .failed
            result.message = "after the load: \(error)"
        }
        return result
    }

    /// Refuses a rejects or snapshot path that is one of `inputs` or the database (by file identity),
    /// before anything is written.
    /// - Throws: `PathConflict` naming both files.
    public func checkPaths(inputs: [String], date: String? = nil) throws(PathConflict) {
        let date = date ?? String(Timestamp.now().prefix(10))
        var outputs: [(option: String, path: String)] = []
        if let template = file.rejectsTemplate {
            outputs += inputs.map { ("rejects", PipelineFile.expand(template, date: date, source: $0)) }
            // A file the patterns match whose own rejects file would be itself is an input, not a
            // rejects file to leave out: the template writes over the inputs.
            for match in file.expandSources(excludingOwnFiles: false) {
                let rejects = PipelineFile.expand(template, date: date, source: match)
                try OutputPathCheck.check(outputs: [("rejects", rejects)], inputs: [match])
            }
        }
        if let template = file.snapshotTemplate {
            outputs.append(("snapshot", PipelineFile.expand(template, date: date)))
        }
        for output in outputs {
            try OutputPathCheck.check(outputs: [output], inputs: inputs, databasePath: file.databasePath)
        }
        try OutputPathCheck.check(outputs: [], inputs: inputs, databasePath: file.databasePath)
    }

    /// What a run would do, from the inputs' hashes and the ledger, writing nothing.
    private func plan(_ inputs: [String], into result: inout PipelineRunSummary) -> PipelineRunSummary {
        let loads = access(file.databasePath, F_OK) == 0 ? (try? LoadRecord.all(databasePath: file.databasePath)) ?? [] : []
        for input in inputs {
            do {
                let sha256 = try FileHasher.sha256(path: input)
                if !file.options.force, let sha256, let done = loads.first(where: { $0.sha256 == sha256 && $0.status == "done" }) {
                    result.inputs.append(.init(path: input, decision: "skip",
                                               reason: "the same content was loaded by load \(done.id) from \(done.source)"))
                } else {
                    result.inputs.append(.init(path: input, decision: "load"))
                }
            } catch {
                result.inputs.append(.init(path: input, decision: "fail", reason: "\(error)"))
                result.status = .failed
                result.message = "\(error)"
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
