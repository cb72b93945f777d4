import ArgumentParser
import FactPipe

/// `factpipe backup`: a whole database through SQLite's online backup API, compressed, with a manifest.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a whole database, consistently, into DIR/<name>-<UTC time>.db.zst.",
        discussion: """
            SQLite's online backup API copies the database at one moment (a running load goes on) \
            into a temporary file beside the database (or in --temp-dir: it needs the database's size \
            free); SQLite checks the copy (integrity_check) while zstd compresses it. The file ends with \
            the manifest in a skippable frame (`zstd -d` gives the bare database), is written under \
            a temporary name, synced and renamed; FILE.sha256 goes beside it. --keep N then deletes \
            the oldest backups of this database beyond N — only files named like its backups whose \
            manifest says they are backups of this very database.

            Examples:
              factpipe backup --db kb.sqlite --to backups/
              factpipe backup --db kb.sqlite --to /mnt/backup --keep 7 --json

            Exit codes: 0 written; 1 failed (nothing is left in DIR, earlier backups untouched; a --report or \
            --metrics-file that cannot be written, or an older backup --keep cannot delete, fails the command after \
            the backup is written, and it stays, as the message says); \
            64 usage error; 130/143/129/131 interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT (nothing left).
            """
    )

    @Option(name: .long, help: "The factpipe database to back up.")
    var db: String

    @Option(name: .customLong("to"), help: "The folder to write the backup into (it must exist).")
    var directory: String

    @Option(parsing: .unconditional,
            help: "Keep the newest N backups of this database in the folder, delete older ones.")
    var keep: Int?

    @Option(
        help: ArgumentHelp(
            "The folder for the uncompressed copy that is checked and compressed (default: beside the database).",
            discussion: "It needs the database's size free while the backup runs.", valueName: "dir"))
    var tempDir: String?

    @Option(parsing: .unconditional, help: "zstd level, 1-22.")
    var level: Int = 3

    @Option(parsing: .unconditional, help: "zstd worker threads (default: one per core when there are several).")
    var threads: Int?

    @OptionGroup var console: ConsoleOptions

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        guard (1...22).contains(level) else { throw ValidationError("--level must be between 1 and 22") }
        if let threads, threads < 0 { throw ValidationError("--threads must be 0 or more") }
        guard !directory.isEmpty else { throw ValidationError("--to needs a folder") }
        if let tempDir, tempDir.isEmpty { throw ValidationError("--temp-dir needs a folder") }
        try PathArguments.checkDatabase(db, postgreSQL: .backupTool)
        try PathArguments.checkOutputs(monitoring.outputs, database: db)
    }

    func run() throws {
        let cleanup = InterruptCleanup()
        defer { withExtendedLifetime(cleanup) {} }
        var options = BackupOptions(databasePath: db, directory: directory)
        options.keep = keep
        options.level = level
        options.workers = threads
        options.temporaryDirectory = tempDir
        let result: ArchiveResult
        do {
            result = try DatabaseBackup(options: options).run()
        } catch {
            throw CommandFailure.exit("backup", error, json: console.json)
        }
        try monitoring.write(
            after: "the backup \(result.path) was written and stays", result.runReport(command: "backup", databasePath: db),
            command: "backup", json: console.json)
        if console.json { Standard.json(result.json) }
        if !console.quiet { Standard.error(result.humanText(verb: "backed up")) }
    }
}
