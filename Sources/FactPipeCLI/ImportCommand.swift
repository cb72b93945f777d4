import ArgumentParser
import FactPipe

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load facts from NDJSON, CSV/TSV or text files into a SQLite database or PostgreSQL.",
        discussion: """
            Inputs may be plain, gzip or zstd (recognised by their bytes); `-` reads standard \
            input. Each batch is one transaction; a failure rolls back only the open batch.

            Examples:
              factpipe import facts.ndjson --db kb.sqlite
              zstd -dc dump.csv.zst | factpipe import - --format csv --db kb.sqlite
              factpipe import a.txt b.ndjson.gz --db kb.sqlite --atomic --json

            Exit codes: 0 done; 2 done with rejected records; 3 aborted (--max-errors, or a \
            conflict under --on-conflict fail); 1 failed; 64 usage error; 130/143/129/131 interrupted \
            (SIGINT/SIGTERM/SIGHUP/SIGQUIT).
            """
    )

    @Argument(help: "Input files; - for standard input.")
    var inputs: [String] = []

    @Option(name: .long, help: "The database to load into: a SQLite file (created when missing) or a postgresql:// URL.")
    var db: String

    @Option(help: "Input format: auto, ndjson, csv, tsv, text or sqlite (another SQLite database's facts table).")
    var format: InputFormatArgument = .auto

    @Option(parsing: .unconditional, help: "Records per transaction.")
    var batchSize: Int = 50_000

    @Option(help: "When a statement is already stored: ignore, replace, update or fail.")
    var onConflict: ConflictPolicyArgument = .ignore

    @Option(help: "Write refused records to this NDJSON file.")
    var rejects: String?

    @Option(parsing: .unconditional, help: "Abort once more than N records were refused.")
    var maxErrors: Int?

    @Flag(help: "Load everything in one transaction: all or nothing.")
    var atomic = false

    @Option(parsing: .unconditional, help: "Most arguments a statement may have.")
    var maxArgs: Int = FactLimits.default.maxArgs

    @Option(parsing: .unconditional, help: "Longest argument, in characters.")
    var maxArgLength: Int = FactLimits.default.maxArgLength

    @Option(parsing: .unconditional, help: "Longest predicate, in characters.")
    var maxPredicateLength: Int = FactLimits.default.maxPredicateLength

    @Option(parsing: .unconditional, help: "Longest statement, in bytes.")
    var maxStatementBytes: Int = FactLimits.default.maxStatementBytes

    @Option(parsing: .unconditional, help: "Longest input record, in bytes.")
    var maxRecordBytes: Int = FactLimits.default.maxRecordBytes

    @Flag(help: "Load into an existing knowledge-base database through the columns it has, without altering it.")
    var intoExisting = false

    @Flag(help: "Continue the last interrupted load of each input after its last committed record.")
    var resume = false

    @Flag(help: "Load inputs even when the ledger has the same content as loaded.")
    var force = false

    @Option(parsing: .unconditional, help: "Seconds to wait for another load into the same database to finish.")
    var wait: Double = 60

    @Flag(help: "Refuse records whose predicate/subject/object disagree with their statement.")
    var strictParts = false

    @Option(
        parsing: .unconditional,
        help: "SQLite page cache, in MiB (default: \(DatabaseSettings().cacheKiB / 1024)); not for PostgreSQL.")
    var cacheMb: Int?

    @Option(parsing: .unconditional, help: "Parser workers (0: one per core, at most 4); up to 64.")
    var workers: Int = 0

    @Flag(help: "Print one JSON summary object on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "No summary or progress on standard error; only why a load stopped.")
    var quiet = false

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give one or more input files, or - for standard input") }
        guard !inputs.contains("") else {
            throw ValidationError("an input path is empty (an unset variable?); give a file, or - for standard input")
        }
        do {
            try options.validate()
        } catch {
            throw ValidationError(error.message)
        }
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        try PathArguments.checkOutputs([("--rejects", rejects)] + monitoring.outputs, inputs: inputs, database: db)
        if let rejects { try PathArguments.checkWritableFile(rejects, option: "--rejects") }
        try PathArguments.checkOneStreamOnStandardOutput([
            ("--json", json), ("--rejects \(rejects ?? "")", PathArguments.isStandardOutput(rejects)),
        ])
    }

    /// The load the flags describe (checked by `ImportOptions.validate()`).
    private var options: ImportOptions {
        var options = ImportOptions(inputs: inputs, databasePath: db)
        options.format = format.value
        options.batchSize = batchSize
        options.conflictPolicy = onConflict.value
        options.rejectsPath = rejects
        options.maxErrors = maxErrors
        options.isAtomic = atomic
        options.strictParts = strictParts
        options.workers = workers
        if let cacheMb {
            options.database.cacheKiB = max(min(cacheMb, Int.max / 1024), Int.min / 1024) * 1024
            options.isCacheSizeGiven = true
        }
        options.resume = resume
        options.intoExisting = intoExisting
        options.force = force
        options.lockTimeoutSeconds = wait
        options.limits.maxArgs = maxArgs
        options.limits.maxArgLength = maxArgLength
        options.limits.maxPredicateLength = maxPredicateLength
        options.limits.maxStatementBytes = maxStatementBytes
        options.limits.maxRecordBytes = maxRecordBytes
        return options
    }

    func run() throws {
        // A temporary copy of a piped SQLite input still being written when the load stopped (a signal while
        // the pipe stalls) belongs to a reader thread that ends with the process: removed here.
        defer { TemporaryFiles.removeAll() }
        // `import -` typed at a prompt without a redirection waited in silence (or behind a progress line).
        if !quiet, inputs.contains("-"), isatty(STDIN_FILENO) == 1 {
            Standard.error("factpipe: reading facts from the terminal (standard input), a record a line; "
                + "Ctrl-D ends them (to load a file, give its name or redirect it: < facts.ndjson)")
        }
        let progress = ImportProgress()
        let trap = SignalTrap(progress: progress)
        let line = ProgressLine(progress: progress, enabled: !quiet)
        var summary = ImportPipeline(options: options).run(progress: progress)
        line.finish()
        var code = summary.exitCode(signal: trap.receivedSignal)
        // Written before the summary is printed, so that its exit code is the command's: a report that
        // cannot be written fails the command (1), though the load stands as the summary says.
        var reportFailure: (any Error)?
        do {
            // A PostgreSQL address is reported without its password.
            try monitoring.writeFiles(RunReport(importSummary: summary, databasePath: PostgreSQLAddress.redacted(db)))
        } catch {
            reportFailure = error
            summary.notes.append("the load is \(summary.status.rawValue) as this summary says, but its report could not be "
                + "written: \(error)")
            code = FactPipeExit.afterReportFailure(code)
        }
        if json {
            Standard.json(summary.jsonObject(exitCode: code))
        }
        if !quiet {
            Standard.error(summary.humanText)
        } else if let failure = summary.failureText {
            Standard.error(failure)
        }
        if let reportFailure { Standard.error("factpipe import: error: " + TerminalText.escaped("\(reportFailure)")) }
        if code != 0 { throw ExitCode(code) }
    }
}

struct InputFormatArgument: ExpressibleByArgument {
    let value: InputFormat
    static let auto = InputFormatArgument(value: .auto)
    var defaultValueDescription: String { value.rawValue }
    static var allValueStrings: [String] { InputFormat.allCases.map(\.rawValue) }
}

extension InputFormatArgument {
    init?(argument: String) {
        guard let format = InputFormat(rawValue: argument.lowercased()) else { return nil }
        self.init(value: format)
    }
}

struct ConflictPolicyArgument: ExpressibleByArgument {
    let value: ConflictPolicy
    static let ignore = ConflictPolicyArgument(value: .ignore)
    var defaultValueDescription: String { value.rawValue }
    static var allValueStrings: [String] { ConflictPolicy.allCases.map(\.rawValue) }
}

extension ConflictPolicyArgument {
    init?(argument: String) {
        guard let policy = ConflictPolicy(rawValue: argument.lowercased()) else { return nil }
        self.init(value: policy)
    }
}
