import ArgumentParser
import FactPipe

/// `factpipe restore`: a backup or snapshot back into a database, verified before anything is replaced.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup (.db.zst) or a snapshot into a database file.",
        discussion: """
            The archive is verified before anything is replaced: the new database is written to a \
            temporary file beside the target (a backup decoded, a snapshot imported), its checksums \
            and fact count compared with the manifest, SQLite's check run, and only then is it \
            renamed over the target. An existing target is replaced only with --force, and only when \
            it is a factpipe database or an empty file; a --to name ending in -wal, -shm, -journal, \
            -factpipe.lock, .sha256 or .manifest.json is refused. A restored \
            backup gets quick_check, because its manifest records that integrity_check passed on \
            the same bytes (same SHA-256) at backup time; --full-check runs integrity_check again. \
            Snapshot restores always run integrity_check. A backup whose database is not one factpipe \
            makes (another program's tables, a view, a trigger, an unknown schema version) is refused \
            before SQLite reads it. A text snapshot (statements alone) is refused: import it instead. Do not restore over a database that \
            other programs have open.

            Examples:
              factpipe restore bk/kb-20250101T020000.000Z.db.zst --to kb.sqlite --force
              factpipe restore kb.ndjson.zst --to copy.sqlite --json

            Exit codes: 0 restored; 1 failed (the target is left as it was); 64 usage error; \
            130/143/129/131 interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT (the target is left as it was).
            """
    )

    @Argument(help: "The backup or snapshot.")
    var file: String

    @Option(name: .customLong("to"), help: "The database file to write.")
    var target: String

    @Flag(help: "Replace the target if it exists.")
    var force = false

    @Flag(help: "Run PRAGMA integrity_check on a restored backup even when its manifest records one.")
    var fullCheck = false

    @OptionGroup var console: ConsoleOptions

    func validate() throws {
        guard !file.isEmpty else { throw ValidationError("the archive path is empty (an unset variable?)") }
        try PathArguments.checkArchive(file, option: "the archive")
        guard !target.isEmpty else { throw ValidationError("--to needs a database path") }
        try PathArguments.checkDatabase(target, option: "--to", postgreSQL: .backupTool)
        if let problem = ArchiveRestorer.targetNameProblem(target) {
            throw ValidationError("--to \(target): \(problem)")
        }
        try PathArguments.checkOutputs(
            [("--to", target)], inputs: [file, file + ".sha256"], database: nil, mayReplaceDatabases: true)
    }

    func run() throws {
        let cleanup = InterruptCleanup()
        defer { withExtendedLifetime(cleanup) {} }
        var options = RestoreOptions(archivePath: file, targetPath: target)
        options.force = force
        options.fullCheck = fullCheck
        do {
            let result = try ArchiveRestorer(options: options).run()
            if console.json { Standard.json(result.json) }
            if !console.quiet, !result.sidecarsPutInPlace.isEmpty {
                Standard.error(SidecarNote.text(result.sidecarsPutInPlace, command: "restore"))
            }
            if !console.quiet {
                Standard.error(
                    "factpipe: restored \(Format.count(Int(result.factCount), "fact")) from \(TerminalText.escaped(file)) "
                        + "to \(TerminalText.escaped(target))"
                        + (result.replacedExisting ? " (replaced)" : "")
                        + ", \(result.databaseCheck.rawValue) ok, in \(Format.seconds(result.seconds)) s")
                if result.mergedRows > 0 {
                    Standard.error(
                        "factpipe: the snapshot is of a version-1 database: merged "
                            + "\(Format.count(Int(result.mergedRows), "row")) into the facts whose statements the current "
                            + "canonical form reads them as, as migrating the database merges them (each kept under "
                            + "merged_rows in its fact_metadata)")
                }
            }
            // A filtered export restored over a database replaced it with that part, and said nothing of it: a
            // warning, said under --quiet too (a nightly job's restore runs quiet).
            let filter = result.manifest.filter
            if filter != FactFilter() {
                let predicates = filter.predicates.isEmpty
                    ? [] : ["of the predicates " + filter.predicates.joined(separator: ", ")]
                let parts = predicates + (filter.since.map { ["created at or after \($0)"] } ?? [])
                Standard.error(
                    "factpipe: the snapshot is a filtered export: it holds only the facts "
                        + TerminalText.escaped(parts.joined(separator: " and "))
                        + " of \(TerminalText.escaped(result.manifest.sourceDatabase)), and so does "
                        + TerminalText.escaped(target) + " now")
            }
        } catch {
            throw CommandFailure.exit("restore", error, json: console.json)
        }
    }
}
