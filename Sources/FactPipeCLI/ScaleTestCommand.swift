import ArgumentParser
import FactPipe
#if canImport(Glibc)
import Glibc
#endif

/// `factpipe scale-test`: generate, load and query, and report rate, latency and memory.
struct ScaleTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-test",
        abstract: "Generate facts, load them, time lookups, and report insert rate, latency and memory.",
        discussion: """
            Generates --facts synthetic facts (a child `factpipe generate` process writes CSV, no \
            duplicates or malformed records) into a temporary file, loads them through the import \
            pipeline with its default settings, then runs each query pattern --queries times with \
            random keys, half that exist and half that do not: predicate + subject, subject, \
            statement, and count by predicate. Reports the insert rate, p50/p95/p99/max latency per \
            pattern, the peak RSS during the load and over the whole run, and the database size.

            The generated input is always deleted; the database too unless --db or --keep. \
            Phases are named on standard error unless --quiet.

            Examples:
              factpipe scale-test
              factpipe scale-test --facts 100000 --queries 1000 --json
              factpipe scale-test --db big.sqlite --metrics-file /var/lib/node_exporter/factpipe.prom
            """
    )

    @Option(parsing: .unconditional, help: "Facts to generate and load.")
    var facts: Int = 1_000_000

    @Option(parsing: .unconditional, help: "Queries per pattern.")
    var queries: Int = 10_000

    @Option(name: .long, help: "Load into this new database and keep it (default: a temporary one).")
    var db: String?

    @Flag(help: "Keep the temporary database and print its path.")
    var keep = false

    @Option(parsing: .unconditional, help: "Seed of the generated facts and the query keys.")
    var seed: UInt64 = 42

    @Option(help: "Directory for the generated input and the temporary database.")
    var workDir: String?

    @OptionGroup var console: ConsoleOptions

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        // No facts is no scale test: the load of an input with a header alone failed ("no record found").
        guard facts >= 1 else { throw ValidationError("--facts must be 1 or more") }
        // Each query's time is kept for the percentiles: a bound, not an allocation that aborts (or overflows).
        guard (0...Self.maxQueries).contains(queries) else {
            throw ValidationError("--queries must be 0 to \(Self.maxQueries)")
        }
        // An empty one (an unset variable) was the root folder: `"" + "/.factpipe-scale-test…"`.
        if let workDir, workDir.isEmpty { throw ValidationError("--work-dir needs a folder") }
        if let db {
            try PathArguments.checkDatabase(db, postgreSQL: .sqliteOnly(
                reason: "scale-test measures the SQLite store in a new database file it creates; it does not take "
                    + "a PostgreSQL URL (scripts/bench-postgres measures loads into a server)"))
        }
        try PathArguments.checkOutputs(monitoring.outputs, database: db)
    }

    /// The most lookups of each pattern: their times take 24 bytes each (24 MB), and 4 million lookups run
    /// for about a minute.
    static let maxQueries = 1_000_000

    func run() throws {
        // A reader that goes away (`scale-test 2>&1 | head -1`) must not kill the process before it has
        // removed its temporary files: writes to a closed pipe fail with EPIPE instead, and are dropped.
        signal(SIGPIPE, SIG_IGN)
        var options = ScaleTestOptions(facts: facts, queries: queries)
        options.databasePath = db
        options.keepsDatabase = keep
        options.seed = seed
        options.workingDirectory = workDir
        let progress = ImportProgress()
        let trap = SignalTrap(progress: progress)
        options.generateInput = { path, count, seed in
            try GeneratorProcess.generate(path: path, count: count, seed: seed) {
                progress.isCancelled.load(ordering: .relaxed)
            }
        }
        let result: ScaleTestResult
        do {
            result = try ScaleTest(options: options).run(progress: progress) { phase in
                if !console.quiet { Standard.error("factpipe scale-test: \(phase)") }
            }
        } catch {
            if let signal = trap.receivedSignal {
                Standard.error("factpipe scale-test: interrupted; temporary files removed")
                throw ExitCode(FactPipeExit.stopped(by: signal))
            }
            throw CommandFailure.exit("scale-test", error, json: console.json)
        }
        if let signal = trap.receivedSignal {
            // The queries break off on a signal: the figures are partial, so they are not printed as a
            // result, and the report says the run was interrupted (its success gauge 0).
            let code = FactPipeExit.stopped(by: signal)
            let message = "interrupted (\(SignalTrap.name(of: signal))); the figures are partial and not shown"
            if console.json {
                let object: JSONDocument = [
                    "command": "scale-test", "status": "interrupted", "exit_code": .int(Int(code)),
                    "error": .string(message),
                ]
                Standard.json(object.text)
            }
            var report = result.runReport
            report.status = "interrupted"
            try monitoring.write(report, command: "scale-test")
            Standard.error("factpipe scale-test: \(message); temporary files removed")
            throw ExitCode(code)
        }
        // Written before the figures are printed: one that cannot be written fails the command (1), and its
        // --json object is then the failure's alone, not figures that read as success.
        try monitoring.write(after: "the scale test ran", result.runReport, command: "scale-test", json: console.json)
        if console.json { Standard.json(result.json.text) } else { Standard.output(result.humanText) }
    }
}

extension ScaleTestResult {
    /// The figures for people, with the knowledge base's targets and factpipe's beside them.
    var humanText: String {
        var lines = [
            "facts       \(Format.count(load.inserted)) loaded of \(Format.count(options.facts)) generated "
                + "(\(Format.bytes(inputBytes)) CSV in \(Format.seconds(generateSeconds)) s, not timed)",
            "load        \(Format.seconds(load.seconds)) s, \(Format.count(Int(load.factsPerSecond))) facts/s",
            "memory      peak RSS \(Format.bytes(Int64(loadPeakRSSBytes))) during the load, "
                + "\(Format.bytes(Int64(peakRSSBytes))) over the whole run",
            "database    \(Format.bytes(databaseBytes)) (+ \(Format.bytes(walBytes)) WAL)"
                + (isDatabaseKept ? " at \(TerminalText.escaped(databasePath))" : ", deleted"),
            "",
        ]
        var table = TextTable(
            ["pattern", "queries", "found", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            alignments: [.left, .right, .right, .right, .right, .right, .right])
        for result in patterns {
            table.append([
                result.pattern.title, Format.count(result.queries),
                "\(Format.count(result.found))/\(Format.count(result.existingKeys))",
                milliseconds(result.figures.p50), milliseconds(result.figures.p95), milliseconds(result.figures.p99),
                milliseconds(result.figures.maximum),
            ])
        }
        lines.append(table.render())
        return lines.joined(separator: "\n")
    }
}
