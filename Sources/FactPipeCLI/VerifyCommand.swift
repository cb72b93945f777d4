import ArgumentParser
import FactPipe

/// `factpipe verify`: checks a snapshot or backup against its manifest and checksums.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a snapshot or backup against its manifest and checksums.",
        discussion: """
            Reads the archive once: every zstd frame is decoded and its checksum checked; the size, \
            SHA-256 and fact count of the content are compared with the manifest's, and the file's \
            SHA-256 with FILE.sha256 when it is there. A backup's database is decompressed into a \
            temporary file under TMPDIR and checked by SQLite (quick_check; integrity_check with \
            --full-check), once its schema is known to be factpipe's. Each problem is named: truncated, \
            corrupt_frame, hash_mismatch, count_mismatch, size_mismatch, file_hash_mismatch, \
            missing_manifest, manifest_damaged, not_an_archive, database_damaged, \
            not_a_factpipe_database.

            Examples:
              factpipe verify bk/kb-20250101T020000.000Z.db.zst
              factpipe verify kb.ndjson.zst --json

            Exit codes: 0 sound; 1 a problem was found (or the file cannot be read); 64 usage error; \
            130/143/129/131 interrupted by SIGINT/SIGTERM/SIGHUP/SIGQUIT.
            """
    )

    @Argument(help: "The snapshot or backup.")
    var file: String

    @Flag(help: "Run PRAGMA integrity_check on a backup's database instead of quick_check.")
    var fullCheck = false

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Nothing on standard error but problems.")
    var quiet = false

    func validate() throws {
        guard !file.isEmpty else { throw ValidationError("the archive path is empty (an unset variable?)") }
        try PathArguments.checkArchive(file, option: "the archive")
    }

    func run() throws {
        let cleanup = InterruptCleanup()
        defer { withExtendedLifetime(cleanup) {} }
        let report = ArchiveVerifier(path: file, databaseCheck: fullCheck ? .full : .quick).run()
        if json { Standard.json(report.json) }
        if !quiet, !report.sidecarsPutInPlace.isEmpty {
            Standard.error(SidecarNote.text(report.sidecarsPutInPlace, command: "verify"))
        }
        for problem in report.problems {
            Standard.error("factpipe verify: \(problem.kind.rawValue): \(TerminalText.escaped("\(problem)"))")
        }
        if report.isValid {
            if !quiet, let manifest = report.manifest {
                let facts = Format.count(Int(manifest.factCount))
                Standard.error(
                    "factpipe verify: ok: \(TerminalText.escaped(file)): \(manifest.kind.rawValue) of \(facts) "
                        + "facts (\(manifest.format.rawValue), \(Format.bytes(manifest.contentBytes))), "
                        + "checksums match, made \(TerminalText.escaped(manifest.createdAt)) from "
                        + TerminalText.escaped(manifest.sourceDatabase))
            }
        } else {
            throw ExitCode(FactPipeExit.failure)
        }
    }
}
