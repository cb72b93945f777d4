import ArgumentParser
import FactPipe

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file: load its sources into its database, then the steps after.",
        discussion: """
            Each input its sources match is loaded in sorted order as its own load; an input whose \
            content the ledger has as loaded is skipped (unless --force). Options given here override \
            the file. With --dry-run the file is checked, the inputs listed with what would happen, and \
            nothing is written. Exit codes as for import (64 for a path in the file that import would \
            refuse as an option); 1 also for any other fault of the pipeline file.

            Example:
              factpipe run pipelines/nightly-ndjson.toml --dry-run
              factpipe run pipelines/nightly-ndjson.toml --db /tmp/kb.sqlite --json
            """
    )

    @Argument(help: "The pipeline file (TOML); - reads it from standard input.")
    var pipelineFile: String

    @Flag(help: "Check the file and show what would be loaded, writing nothing.")
    var dryRun = false

    @Option(name: .long, help: "Load into this database (a SQLite path or a PostgreSQL URL) instead of the file's.")
    var db: String?

    @Option(help: "Rejects path ({date} and {source} are filled in) instead of the file's.")
    var rejects: String?

    @Option(help: "Snapshot path after the load ({date} is filled in) instead of the file's.")
    var snapshot: String?

    @Option(parsing: .unconditional, help: "Records per transaction.")
    var batchSize: Int?

    @Option(help: "When a statement is already stored: ignore, replace, update or fail.")
    var onConflict: ConflictPolicyArgument?

    @Option(parsing: .unconditional, help: "Abort a load once more than N records were refused.")
    var maxErrors: Int?

    @Flag(help: "Continue the interrupted load of each input.")
    var resume = false

    @Flag(help: "Load inputs even when the ledger has their content as loaded.")
    var force = false

    @OptionGroup var console: ConsoleOptions

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        guard !pipelineFile.isEmpty else { throw ValidationError("the pipeline file path is empty (an unset variable?)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let maxErrors, maxErrors < 0 { throw ValidationError("--max-errors must be 0 or more") }
        // As `import --rejects ""`: what an unset variable gives; taken as given, the run loaded its inputs and
        // then failed to open a file with no name.
        for (option, value) in [("--rejects", rejects), ("--snapshot", snapshot)] where value?.isEmpty == true {
            throw ValidationError("\(option) needs a file path (an unset variable?)")
        }
    }

    func run() throws {
        // A temporary copy of a piped SQLite input still being written when the load stopped (a signal while
        // the pipe stalls) belongs to a reader thread that ends with the process: removed here.
        defer { TemporaryFiles.removeAll() }
        var file: PipelineFile
        do {
            file = try PipelineFile.load(path: pipelineFile)
        } catch {
            throw CommandFailure.exit("run", error, json: console.json)
        }
        if let db {
            file.databasePath = db
            file.options.databasePath = db
        }
        if let rejects { file.rejectsTemplate = rejects }
        if let snapshot { file.snapshotTemplate = snapshot }
        if let batchSize { file.options.batchSize = batchSize }
        if let onConflict { file.options.conflictPolicy = onConflict.value }
        if let maxErrors { file.options.maxErrors = maxErrors }
        if resume { file.options.resume = true }
        if force { file.options.force = true }

        file.reportFiles = monitoring.outputs.compactMap { option, path in path.map { (option, $0) } }
        var runner = PipelineRunner(file: file, isDryRun: dryRun)
        do {
            try file.options.validate()
            let inputs = file.expandSources()
            try PathArguments.checkDatabase(
                file.databasePath, option: db == nil ? "\(pipelineFile): database" : "--db", postgreSQL: .supported)
            try PathArguments.checkOutputs(
                monitoring.outputs, inputs: inputs, database: file.databasePath, pipelineFile: file.path)
            // Two streams there would interleave, and a snapshot piped on would hold reject lines.
            try PathArguments.checkOneStreamOnStandardOutput([
                ("--json", console.json),
                ("rejects \(file.rejectsTemplate ?? "")", PathArguments.isStandardOutput(file.rejectsTemplate)),
                ("snapshot \(file.snapshotTemplate ?? "")", PathArguments.isStandardOutput(file.snapshotTemplate)),
            ])
            try runner.checkPaths(inputs: inputs)
        } catch {
            throw CommandFailure.exit("run", CommandFailure.Usage(underlying: error), json: console.json)
        }
        let progress = ImportProgress()
        let trap = SignalTrap(progress: progress)
        let line = ProgressLine(progress: progress, enabled: !console.quiet && !dryRun)
        // Each input's line as its load ends (a cron log shows the night as it goes); the rest at the end.
        var printedInputs = 0
        if !console.quiet && !dryRun {
            runner.onInput = { input in
                line.printAbove(input.line(isDryRun: false))
                printedInputs += 1
            }
        }
        let result = runner.run(progress: progress)
        line.finish()
        // Written before the run's object is printed: one that cannot be written fails the run (1) after its
        // loads, which stand, and the object says so (a second, failure object followed it).
        var reportFailure: (any Error)?
        do {
            try monitoring.writeFiles(RunReport(command: "run", importSummary: result.combined, databasePath: file.databasePath))
        } catch {
            reportFailure = error
        }
        var code = result.exitCode(signal: trap.receivedSignal)
        if reportFailure != nil { code = FactPipeExit.afterReportFailure(code) }
        if console.json {
            var document = result.jsonDocument
            if case .object(let members) = document {
                document = .object(members + [.init("exit_code", .int(Int(code)))]
                    + (reportFailure.map { [.init("report_error", .string("\($0)"))] } ?? []))
            }
            Standard.json(document.text)
        }
        if !console.quiet {
            let rest = result.humanText(after: printedInputs)
            if !rest.isEmpty { Standard.error(rest) }
        } else if let failure = result.failureText {
            Standard.error(failure)
        }
        if let reportFailure { Standard.error("factpipe run: error: " + TerminalText.escaped("\(reportFailure)")) }
        if code != 0 { throw ExitCode(code) }
    }
}

extension PipelineRunSummary {
    /// The loads of the run added up, for the report and metrics files.
    var combined: ImportSummary {
        var total = ImportSummary()
        total.status = status
        total.message = message
        for summary in inputs.compactMap(\.summary) {
            total.records += summary.records
            total.inserted += summary.inserted
            total.updated += summary.updated
            total.duplicates += summary.duplicates
            total.rejected += summary.rejected
            total.rejectedBeforeResume += summary.rejectedBeforeResume
            total.deletedByUndo += summary.deletedByUndo
            total.warnings += summary.warnings
            total.seconds += summary.seconds
            total.peakRSSBytes = max(total.peakRSSBytes, summary.peakRSSBytes)
            total.bytesRead += summary.bytesRead
            total.sources += summary.sources
        }
        return total
    }

    func exitCode(signal: Int32?) -> Int32 {
        if let interrupted = inputs.last?.summary, interrupted.wasInterrupted {
            return interrupted.exitCode(signal: signal)
        }
        switch status {
        case .failed: return FactPipeExit.failure
        case .aborted: return FactPipeExit.aborted
        case .interrupted: return FactPipeExit.stopped(by: signal)
        case .done:
            return inputs.contains { ($0.summary.map { $0.rejected + $0.rejectedBeforeResume } ?? 0) > 0 }
                ? FactPipeExit.doneWithRejects : FactPipeExit.success
        }
    }

    var jsonObject: String { jsonDocument.text }

    /// The run as one JSON object: the pipeline, each input's decision and outcome, the steps after.
    var jsonDocument: JSONDocument {
        let items = inputs.map { input -> JSONDocument in
            var fields: [JSONDocument.Member] = [
                .init("source", .string(input.path)), .init("decision", .string(input.decision.rawValue)),
                .init("status", .string(input.status.rawValue)),
            ]
            if let reason = input.reason { fields.append(.init("reason", .string(reason))) }
            if let summary = input.summary { fields.append(.init("load", summary.jsonDocument)) }
            return .object(fields)
        }
        var fields: [JSONDocument.Member] = [
            .init("pipeline", .string(name)), .init("dry_run", .bool(isDryRun)),
            .init("status", .string(status.rawValue)), .init("inputs", .array(items)),
            .init("steps", .strings(steps.map(\.line))),
        ]
        if let message { fields.append(.init("message", .string(message))) }
        return .object(fields)
    }

    /// Why the run stopped, alone (what `--quiet` still prints): its own message, which names the input,
    /// else the loads' reasons; nil when nothing stopped.
    var failureText: String? {
        if status != .done, let message { return "factpipe: \(TerminalText.escaped(name)): " + TerminalText.escaped(message) }
        let lines = inputs.compactMap { input in
            input.summary?.failureText.map { TerminalText.escaped(input.path) + ": " + $0 }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    var humanText: String { humanText(after: 0) }

    /// What `run` prints of the run, without the first `printed` inputs' lines (printed as they ended).
    func humanText(after printed: Int) -> String {
        var lines: [String] = []
        for input in inputs.dropFirst(printed) {
            lines.append(input.line(isDryRun: isDryRun))
        }
        // A run that failed before its loads names why; "no input matches" would read as a quiet night.
        if inputs.isEmpty, status == .done || message == nil {
            lines.append("factpipe: \(TerminalText.escaped(name)): no input matches the pipeline's sources")
        }
        lines.append(contentsOf: steps.map { "factpipe: after: \($0.line)" })
        if let message { lines.append("factpipe: \(TerminalText.escaped(name)): \(TerminalText.escaped(message))") }
        return lines.joined(separator: "\n")
    }
}

extension PipelineStepResult {
    /// The step in one line, as `run` prints it after the loads.
    var line: String {
        switch self {
        case .optimized(let report):
            return "optimized \(TerminalText.escaped(report.path)): \(Format.bytes(report.before.fileBytes + report.before.walBytes)) → "
                + "\(Format.bytes(report.after.fileBytes + report.after.walBytes)), "
                + (report.store == .postgresql ? "indexes valid" : "integrity ok")
        case .snapshot(let result, let keep):
            var text = "snapshot \(TerminalText.escaped(result.path)): \(Format.count(Int(result.manifest.factCount), "fact")), "
                + "\(Format.bytes(result.fileBytes))"
            if let replaced = result.replacedMadeAt { text += "; it replaced the snapshot made \(replaced) at that path" }
            if let keep, !result.removed.isEmpty { text += "; removed \(result.removed.count) older (keeping \(keep))" }
            if !result.otherDatabasesLeft.isEmpty {
                text += "; left \(result.otherDatabasesLeft.count) of other databases at that database's path (another "
                    + "identity), which keep_snapshots neither counts nor removes"
            }
            if !result.unrecordedLeft.isEmpty {
                text += "; left \(result.unrecordedLeft.count) that record no database identity (an earlier release's: "
                    + "this database's or another host's), which keep_snapshots neither counts nor removes: "
                    + "delete them by hand once you know they are this database's"
            }
            return text
        }
    }
}

extension PipelineRunSummary.Input {
    /// The input in one line, as `run` prints it.
    func line(isDryRun: Bool) -> String {
        if let summary, decision != .skip {
            return TerminalText.escaped(path) + ": " + summary.humanText
        }
        let said = decision == .notTried ? "not tried" : (isDryRun ? "would " : "") + decision.rawValue
        return TerminalText.escaped(path) + ": \(said)" + (reason.map { " — " + TerminalText.escaped($0) } ?? "")
    }
}
