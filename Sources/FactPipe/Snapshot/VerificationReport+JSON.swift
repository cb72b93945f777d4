extension VerificationReport {
    /// The report as one JSON object (`--json`): `status` (`ok` or `failed`), `file`, `kind`, `format`,
    /// `problems` (each with `error` and `message`), what was recomputed, and the `manifest` (or null).
    public var json: String {
        let problemList = problems.map { problem in
            JSONText.object([
                ("error", JSONText.quoted(problem.kind.rawValue)), ("message", JSONText.quoted(problem.message)),
            ])
        }
        return JSONText.object([
            ("status", JSONText.quoted(isValid ? "ok" : "failed")),
            ("file", JSONText.quoted(path)),
            ("kind", manifest.map { JSONText.quoted($0.kind.rawValue) } ?? "null"),
            ("format", manifest.map { JSONText.quoted($0.format.rawValue) } ?? "null"),
            ("problems", "[" + problemList.joined(separator: ",") + "]"),
            ("facts", countedFacts.map { "\($0)" } ?? "null"),
            ("content_bytes", contentBytes.map { "\($0)" } ?? "null"),
            ("content_sha256", contentSHA256.map { JSONText.quoted($0) } ?? "null"),
            ("file_sha256", fileSHA256.map { JSONText.quoted($0) } ?? "null"),
            ("checksum_file_checked", checkedChecksumFile ? "true" : "false"),
            ("database_check", databaseCheck.map { JSONText.quoted($0.rawValue) } ?? "null"),
            ("seconds", decimal(seconds, 3)),
            ("manifest", manifest?.json ?? "null"),
        ])
    }
}

extension RestoreResult {
    /// The result as one JSON object (`--json`): `status`, `archive`, `target`, `kind`, `facts`,
    /// `replaced`, `database_check`, `parallel_frames`, `seconds`, `manifest`.
    public var json: String {
        JSONText.object([
            ("status", JSONText.quoted("ok")),
            ("archive", JSONText.quoted(archivePath)),
            ("target", JSONText.quoted(targetPath)),
            ("kind", JSONText.quoted(manifest.kind.rawValue)),
            ("facts", "\(factCount)"),
            ("replaced", replacedExisting ? "true" : "false"),
            ("database_check", JSONText.quoted(databaseCheck.rawValue)),
            ("parallel_frames", "\(parallelFrames)"),
            ("seconds", decimal(seconds, 3)),
            ("manifest", manifest.json),
        ])
    }
}
