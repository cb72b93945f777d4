extension ArchiveResult {
    /// The result as one JSON object (`--json`): `status`, `file`, `facts`, `content_bytes`,
    /// `file_bytes`, `ratio`, `file_sha256`, `sidecars`, `seconds`, `facts_per_second`, `removed`,
    /// `manifest`.
    public var json: String {
        let ratio = fileBytes > 0 ? Double(manifest.contentBytes) / Double(fileBytes) : 0
        return JSONText.object([
            ("status", JSONText.quoted("ok")),
            ("file", JSONText.quoted(path)),
            ("facts", "\(manifest.factCount)"),
            ("content_bytes", "\(manifest.contentBytes)"),
            ("file_bytes", "\(fileBytes)"),
            ("ratio", decimal(ratio, 3)),
            ("file_sha256", JSONText.quoted(fileSHA256)),
            ("sidecars", JSONText.array(sidecars)),
            ("seconds", decimal(seconds, 3)),
            ("facts_per_second", "\(seconds > 0 ? Int((Double(manifest.factCount) / seconds).rounded()) : 0)"),
            ("removed", JSONText.array(removed)),
            ("manifest", manifest.json),
        ])
    }
}

extension SnapshotError {
    /// The failure as one JSON object (`--json`): `status` `failed`, `error` (the kind), `path`, `message`.
    public var json: String {
        JSONText.object([
            ("status", JSONText.quoted("failed")),
            ("error", JSONText.quoted(kind.rawValue)),
            ("path", JSONText.quoted(path)),
            ("message", JSONText.quoted(message)),
        ])
    }
}

/// `value` with `decimals` digits after the point, as JSON.
func decimal(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(scaled % Int64(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    return decimals == 0 ? "\(whole)" : "\(whole).\(fraction)"
}
