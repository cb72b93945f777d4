import ArgumentParser
import FactPipe

/// `factpipe optimize`: planner statistics, a truncated log, optionally VACUUM and REINDEX, and an
/// integrity check; in PostgreSQL, VACUUM, ANALYZE, optionally VACUUM FULL and REINDEX, and an index check.
struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Analyze, checkpoint and check a factpipe database; optionally VACUUM and REINDEX it.",
        discussion: """
            First completes what a stopped load left (its unique index, its staged batches, the secondary \
            indexes it dropped), as the next load would; then runs PRAGMA optimize, ANALYZE, [REINDEX], \
            [VACUUM], PRAGMA wal_checkpoint(TRUNCATE) and PRAGMA integrity_check, and prints the file and \
            WAL sizes before and after.

            With a PostgreSQL URL it works on factpipe's tables only: [REINDEX], VACUUM (VACUUM FULL \
            with --vacuum), the secondary indexes a stopped load left out, ANALYZE, and a check that \
            every index is valid; the sizes are those of the tables with their indexes.

            It refuses at once (exit 1) while a load writes to the database, instead of waiting for \
            it; a load started meanwhile waits for optimize to finish.

            Examples:
              factpipe optimize --db kb.sqlite
              factpipe optimize --db kb.sqlite --vacuum --json
              factpipe optimize --db postgresql://kb@db.example.com/knowledge

            Exit codes: 0 done and the integrity check passed; 1 refused, failed, or the integrity \
            check found problems; 64 usage error; 130/143/129/131 interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT (the step that \
            ran is rolled back and its log truncated).
            """
    )

    @Option(name: .long, help: "The factpipe database to optimize (a SQLite path or a PostgreSQL URL).")
    var db: String

    @Flag(help: "Rewrite the database without its free pages (VACUUM; VACUUM FULL in PostgreSQL).")
    var vacuum = false

    @Flag(help: "Rebuild every index (REINDEX).")
    var reindex = false

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
    }

    func run() throws {
        let report: OptimizeReport
        let options = OptimizeOptions(vacuum: vacuum, reindex: reindex)
        let progress = ImportProgress()
        // SQLite only: with PostgreSQL a signal ends the command, and the server rolls back its statement.
        var trap: SignalTrap?
        do {
            if let address = PostgreSQLAddress(db) {
                // A signal ends the command, with a cancel request for what the server runs; it rolls it back.
                let cleanup = InterruptCleanup()
                defer { withExtendedLifetime(cleanup) {} }
                report = try DatabaseOptimizer.run(address: address, options: options)
            } else {
                let removed = StaleTemporaries.sweep(besides: db)
                if !removed.isEmpty {
                    Standard.error(
                        "factpipe optimize: removed \(removed.count) temporary files left by killed commands")
                }
                trap = SignalTrap(progress: progress)
                report = try DatabaseOptimizer.run(path: db, options: options, progress: progress)
            }
        } catch let error as StoreError where error.kind == .interrupted {
            // The step that ran was rolled back and its log truncated; 130 or 143 as for a load.
            throw CommandFailure.exit(
                "optimize", CommandFailure.Interrupted(underlying: error, code: FactPipeExit.stopped(by: trap?.receivedSignal)),
                json: json)
        } catch {
            throw CommandFailure.exit("optimize", error, json: json)
        }
        if json { Standard.json(report.json.text) } else { Standard.output(report.humanText) }
        guard report.isIntact else {
            // The report above says what was found (and is the JSON object under --json).
            throw CommandFailure.exit(
                "optimize", CommandFailure.Problem("the integrity check found problems in \(report.path)"))
        }
    }
}

extension OptimizeReport {
    /// `{"database", "store", "steps": [{"step", "seconds", "detail"}], "before": {…}, "after": {…},
    /// "integrity": ["ok"], "intact", "checkpoint_completed"}`.
    var json: JSONDocument {
        func size(_ size: Size) -> JSONDocument {
            [
                "file_bytes": .int(Int(size.fileBytes)), "wal_bytes": .int(Int(size.walBytes)),
                "page_size": .int(size.pageSize), "page_count": .int(size.pageCount),
                "free_pages": .int(size.freePages),
            ]
        }
        return [
            "database": .string(path),
            "store": .string(store.rawValue),
            "steps": .array(
                steps.map {
                    [
                        "step": .string($0.name), "seconds": .rounded($0.seconds, decimals: 3),
                        "detail": .optional($0.detail),
                    ]
                }),
            "before": size(before), "after": size(after),
            "integrity": .array(integrity.map { .string($0) }),
            "intact": .bool(isIntact), "checkpoint_completed": .bool(checkpointCompleted),
        ]
    }

    /// What was done and the sizes before and after, for people.
    var humanText: String {
        var table = TextTable(["step", "seconds", "result"], alignments: [.left, .right, .left])
        for step in steps {
            table.append([step.name, String(format1: step.seconds, decimals: 3), step.detail ?? "done"])
        }
        if store == .postgresql {
            var sizes = TextTable(["", "tables with their indexes"], alignments: [.left, .right])
            sizes.append(["before", Format.bytes(before.fileBytes)])
            sizes.append(["after", Format.bytes(after.fileBytes)])
            let saved = before.fileBytes - after.fileBytes
            return "optimized \(TerminalText.escaped(path))\n\n" + table.render() + "\n\n" + sizes.render() + "\n\n"
                + (saved > 0 ? "reclaimed \(Format.bytes(saved))" : "no space reclaimed")
        }
        var sizes = TextTable(
            ["", "file", "WAL", "pages", "free pages"], alignments: [.left, .right, .right, .right, .right])
        for (label, size) in [("before", before), ("after", after)] {
            sizes.append([
                label, Format.bytes(size.fileBytes), Format.bytes(size.walBytes), Format.count(size.pageCount),
                Format.count(size.freePages),
            ])
        }
        let saved = before.fileBytes + before.walBytes - after.fileBytes - after.walBytes
        return "optimized \(TerminalText.escaped(path))\n\n" + table.render() + "\n\n" + sizes.render() + "\n\n"
            + (saved > 0 ? "reclaimed \(Format.bytes(saved))" : "no space reclaimed")
            + (checkpointCompleted ? "" : "; a reader kept the log from being emptied")
    }
}
