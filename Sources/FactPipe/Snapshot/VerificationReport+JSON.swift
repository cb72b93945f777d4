extension VerificationReport {
    /// The report as one JSON object (`--json`): `status` (`ok` or `failed`), `file`, `kind`, `format`,
    /// `problems` (each with `error` and `message`), what was recomputed, `sidecars_put_in_place`, and the
    /// `manifest` (or null).
    public var jsonDocument: JSONDocument {
        let problemList = problems.map { problem -> JSONDocument in
            ["error": .string(problem.kind.rawValue), "message": .string(problem.message)]
        }
        return [
            "status": isValid ? "ok" : "failed",
            "file": .string(path),
            "kind": .optional(manifest?.kind.rawValue),
            "format": .optional(manifest?.format.rawValue),
            "problems": .array(problemList),
            "facts": .optional(countedFacts),
            "content_bytes": .optional(contentBytes),
            "content_sha256": .optional(contentSHA256),
            "file_sha256": .optional(fileSHA256),
            "checksum_file_checked": .bool(checkedChecksumFile),
            "sidecars_put_in_place": .strings(sidecarsPutInPlace),
            "database_check": .optional(databaseCheck?.rawValue),
            "seconds": .fixed(seconds, decimals: 3),
            "manifest": manifest?.jsonDocument ?? .null,
        ]
    }

    /// `jsonDocument` as compact JSON text.
    public var json: String { jsonDocument.text }
}

extension RestoreResult {
    /// The result as one JSON object (`--json`): `status`, `archive`, `target`, `kind`, `facts`,
    /// `replaced`, `database_check`, `parallel_frames`, `merged_rows`, `sidecars_put_in_place`, `seconds`, `manifest`.
    public var jsonDocument: JSONDocument {
        [
            "status": "ok",
            "archive": .string(archivePath),
            "target": .string(targetPath),
            "kind": .string(manifest.kind.rawValue),
            "facts": .int(Int(factCount)),
            "replaced": .bool(replacedExisting),
            "database_check": .string(databaseCheck.rawValue),
            "parallel_frames": .int(parallelFrames),
            "merged_rows": .int(Int(mergedRows)),
            "sidecars_put_in_place": .strings(sidecarsPutInPlace),
            "seconds": .fixed(seconds, decimals: 3),
            "manifest": manifest.jsonDocument,
        ]
    }

    /// `jsonDocument` as compact JSON text.
    public var json: String { jsonDocument.text }
}
