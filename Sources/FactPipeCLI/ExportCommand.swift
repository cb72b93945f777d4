import ArgumentParser
import FactPipe

#if canImport(Glibc)
import Glibc
#endif

/// `factpipe export`: a consistent snapshot of a database's facts, in the shape `import` reads.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a consistent snapshot of the facts as NDJSON, CSV or text, zstd-compressed.",
        discussion: """
            The facts are read in one read transaction (a load running in another process is not \
            seen half-way; with PostgreSQL, a REPEATABLE READ READ ONLY one) and written in id order, \
            every column kept in NDJSON and CSV, so `import` (or `restore`) of the snapshot \
            gives back the same facts; text keeps the statements alone. A name ending in .zst is zstd-compressed (with frame \
            checksums and the manifest in a skippable frame at the end: `zstd -d` gives the bare \
            content); any other name, or --level 0, is written plain with FILE.manifest.json beside \
            it (a .gz, .xz, .bz2, .lz4 or .zip name is refused). FILE.sha256 is written beside every file (`sha256sum -c FILE.sha256`). The format \
            follows the name (.csv, .txt) unless --format is given. With -o -, the snapshot goes to \
            standard output, compressed only when --level is given.

            Examples:
              factpipe export --db kb.sqlite -o kb.ndjson.zst
              factpipe export --db kb.sqlite -o a.csv --predicate HasPart --since 2025-01-01
              factpipe export --db kb.sqlite -o - --format text | head
              factpipe export --db postgresql://kb@db.example.com/knowledge -o kb.ndjson.zst

            Exit codes: 0 written; 1 failed (database, output, or a fact the format cannot carry; \
            nothing is left at the output path; a --report or --metrics-file that cannot be written fails \
            the command after the snapshot is written, and it stays); 64 usage error; 130/143/129/131 interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT (nothing left).
            """
    )

    @Option(name: .long, help: "The factpipe database to read: a SQLite file or a postgresql:// URL.")
    var db: String

    @Option(name: [.short, .customLong("output")], help: "The snapshot file, or - for standard output.")
    var output: String

    @Option(help: "ndjson, csv or text (default: from the file name, else ndjson).")
    var format: SnapshotFormatArgument?

    @Option(parsing: .unconditional, help: "zstd level, 1-22 (default 3); 0 writes plain bytes.")
    var level: Int?

    @Option(parsing: .unconditional, help: "zstd worker threads (default: one per core when there are several).")
    var threads: Int?

    @Option(name: .customLong("predicate"), help: "Only facts of this predicate (repeatable).")
    var predicates: [String] = []

    @Option(help: "Only facts created at or after this ISO 8601 time.")
    var since: String?

    @OptionGroup var console: ConsoleOptions

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        if let level, !(0...22).contains(level) { throw ValidationError("--level must be between 0 and 22") }
        if let threads, threads < 0 { throw ValidationError("--threads must be 0 or more") }
        guard !output.isEmpty else { throw ValidationError("-o must be a path, or - for standard output") }
        try PathArguments.checkArchive(output, option: "-o")
        if output != "-" {
            // Written plain under a name that promises another compression, `gzip -t` and every reader fail.
            if let misnamed = SnapshotOptions.misnamedCompression(output) {
                throw ValidationError("-o \(output): \(misnamed.problem); name it \(misnamed.betterName)")
            }
            if let level, level > 0, !output.hasSuffix(".zst") {
                throw ValidationError(
                    "--level \(level) compresses only a name ending in .zst, and -o \(output) would be written plain: "
                        + "name it \(output).zst, or leave out --level")
            }
        }
        if Self.isTerminal(output) {
            // The archive's bytes go out as they are stored: a fact's escape sequences would drive the terminal
            // (clear it, set its title), and compressed bytes are no use there.
            throw ValidationError(
                "-o \(output): standard output is a terminal, and a snapshot is written as it is stored (a fact's "
                    + "control characters too): redirect it to a file or a pipe, or look at facts with `factpipe query`")
        }
        if console.json && (output == "-" || StandardStreams.descriptor(sameAs: output) == STDOUT_FILENO) {
            throw ValidationError(
                "--json cannot be used with -o \(output): standard output carries the snapshot")
        }
        if predicates.contains(where: \.isEmpty) { throw ValidationError("--predicate needs a name") }
        if let since, FactFilter(predicates: [], since: since) == nil {
            throw ValidationError("--since \(since) is not an ISO 8601 time (e.g. 2025-01-01T00:00:00Z)")
        }
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        let sidecars = output == "-" ? [] : [output + ".sha256", output + ".manifest.json"]
        let outputs = [("-o", output)] + sidecars.map { ("-o", $0) } + monitoring.outputs
        // The archive at -o (and its files) is the one an export replaces; a report named like an archive is not.
        try PathArguments.checkOutputs(outputs, database: db, replaceableArchives: Set([output] + sidecars))
    }

    /// True when `output` is a terminal: standard output for `-`, or a character device that is one
    /// (`/dev/tty`, `/dev/stderr` on a terminal, `/dev/pts/3`).
    static func isTerminal(_ output: String) -> Bool {
        if output == "-" { return isatty(STDOUT_FILENO) == 1 }
        var info = stat()
        guard stat(output, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return false }
        let descriptor = open(output, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return isatty(descriptor) == 1
    }

    func run() throws {
        let cleanup = InterruptCleanup()
        defer { withExtendedLifetime(cleanup) {} }
        var options = SnapshotOptions(databasePath: db, outputPath: output)
        options.format = format?.value ?? SnapshotFormatArgument.guess(from: output)
        options.level = level ?? 3
        if output == "-" { options.compresses = level != nil }
        options.workers = threads
        options.filter = FactFilter(predicates: predicates, since: since) ?? FactFilter()
        // Stopped by a signal (`InterruptCleanup`), the export ends at its next chunk instead of compressing on
        // into a removed file while its database stays open.
        options.isCancelled = { TemporaryFiles.isEnding }
        let result: ArchiveResult
        if output == "-" { ClosedOutput.deferSIGPIPE() }
        do {
            result = try SnapshotExporter(options: options).run()
        } catch {
            if output == "-" { ClosedOutput.endIfReaderIsGone() }
            throw CommandFailure.exit("export", error, json: console.json)
        }
        try monitoring.write(
            after: "the snapshot \(result.path) was written and stays",
            result.runReport(command: "export", databasePath: PostgreSQLAddress.redacted(db)), command: "export",
            json: console.json)
        if console.json { Standard.json(result.json) }
        if !console.quiet { Standard.error(result.humanText(verb: "exported")) }
    }
}

/// A snapshot format named on the command line.
struct SnapshotFormatArgument: ExpressibleByArgument {
    let value: SnapshotManifest.Format
    static var allValueStrings: [String] { ["ndjson", "csv", "text"] }

    init?(argument: String) {
        guard let format = SnapshotManifest.Format(rawValue: argument.lowercased()), format != .sqlite else {
            return nil
        }
        value = format
    }

    /// The format a file name suggests: `.csv` and `.txt` (before any `.zst`), else NDJSON.
    static func guess(from path: String) -> SnapshotManifest.Format {
        let name = path.hasSuffix(".zst") ? String(path.dropLast(4)) : path
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".txt") || name.hasSuffix(".text") { return .text }
        return .ndjson
    }
}

extension ArchiveResult {
    /// One line for people, for standard error.
    func humanText(verb: String) -> String {
        var text =
            "factpipe: \(verb) \(Format.count(Int(manifest.factCount), "fact")) to \(TerminalText.escaped(path)): "
            + "\(Format.bytes(manifest.contentBytes))"
        if manifest.compression == "zstd" {
            let ratio = fileBytes > 0 ? Double(manifest.contentBytes) / Double(fileBytes) : 0
            text += " → \(Format.bytes(fileBytes)) (ratio \(String(format1: ratio, decimals: 2)))"
        }
        text += " in \(Format.seconds(seconds)) s"
        for file in removed { text += "\nfactpipe: removed old backup \(TerminalText.escaped(file))" }
        if let oldest = otherDatabasesLeft.first {
            text += "\nfactpipe: left \(Format.count(otherDatabasesLeft.count, "backup")) of other databases at "
                + "\(TerminalText.escaped(manifest.sourceDatabase)) (another identity: another host's, or one this path held "
                + "before), which --keep neither counts nor removes; the oldest is \(TerminalText.escaped(oldest))"
        }
        if let oldest = unrecordedLeft.first {
            text += "\nfactpipe: left \(Format.count(unrecordedLeft.count, "backup")) at "
                + "\(TerminalText.escaped(manifest.sourceDatabase)) that record no database identity (written by an earlier "
                + "release: this database's, or another host's at that path), which --keep neither counts nor removes; "
                + "delete them by hand once you know they are this database's; the oldest is \(TerminalText.escaped(oldest))"
        }
        return text
    }
}
