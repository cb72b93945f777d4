extension ArchiveResult {
    /// The result as one JSON object (`--json`): `status`, `file`, `facts`, `content_bytes`,
    /// `file_bytes`, `ratio`, `file_sha256`, `sidecars`, `seconds`, `facts_per_second`, `removed`,
    /// `other_databases_left` (archives of other databases at the database's path that retention left),
    /// `unrecorded_left` (ones there that record no database identity, left too), `manifest`.
    public var jsonDocument: JSONDocument {
        let ratio = fileBytes > 0 ? Double(manifest.contentBytes) / Double(fileBytes) : 0
        return [
            "status": "ok",
            "file": .string(path),
            "facts": .int(Int(manifest.factCount)),
            "content_bytes": .int(Int(manifest.contentBytes)),
            "file_bytes": .int(Int(fileBytes)),
            "ratio": .fixed(ratio, decimals: 3),
            "file_sha256": .string(fileSHA256),
            "sidecars": .strings(sidecars),
            "seconds": .fixed(seconds, decimals: 3),
            "facts_per_second": .int(seconds > 0 ? Int((Double(manifest.factCount) / seconds).rounded()) : 0),
            "removed": .strings(removed),
            "other_databases_left": .strings(otherDatabasesLeft),
            "unrecorded_left": .strings(unrecordedLeft),
            "manifest": manifest.jsonDocument,
        ]
    }

    /// `jsonDocument` as compact JSON text.
    public var json: String { jsonDocument.text }
}

extension SnapshotError {
    /// The failure as one JSON object (`--json`): `status` `failed`, `error` (the kind), `path`, `message`.
    public var jsonDocument: JSONDocument {
        ["status": "failed", "error": .string(kind.rawValue), "path": .string(path), "message": .string(message)]
    }

    /// `jsonDocument` as compact JSON text.
    public var json: String { jsonDocument.text }
}
