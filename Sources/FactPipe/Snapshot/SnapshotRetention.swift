#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rule that keeps the newest N snapshots a pipeline writes, beside `BackupRetention`'s for backups.
///
/// A pipeline's snapshots are named by a pattern with `{date}` in it (`kb-{date}.ndjson.zst`). Only
/// files that match the pattern *and* whose manifest says they are snapshots of this very database
/// (its absolute path) count; they are ranked by the time their manifest records (then by name), and
/// the snapshot just written always stays. Each is judged by its manifest alone — the frame at the end
/// of a compressed file, or `FILE.manifest.json` beside a plain one — never by reading its content, so
/// pruning costs the same however large the old snapshots are.
struct SnapshotRetention {
    /// The snapshot path with `{date}` still in it.
    let pattern: String
    /// The database's absolute path, as its snapshots' manifests record it.
    let sourceDatabase: String

    /// One snapshot of this database, as its manifest describes it.
    struct Snapshot: Equatable {
        var path: String
        var createdAt: String
    }

    /// The files the pattern matches now (`{date}` as any text), sorted.
    func candidates() -> [String] {
        let wildcard = pattern.split(separator: "{date}", omittingEmptySubsequences: false).joined(separator: "*")
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(wildcard, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// The snapshot of this database at `path`, from its manifest; nil for anything else (another
    /// database's snapshot, a backup, a file with no readable manifest).
    func snapshot(at path: String) -> Snapshot? {
        guard let reader = try? ArchiveReader(path: path, hashesFile: false),
            case .success(let manifest) = reader.manifest,
            manifest.kind == .snapshot, manifest.sourceDatabase == sourceDatabase
        else { return nil }
        return Snapshot(path: path, createdAt: manifest.createdAt)
    }

    /// Deletes this database's snapshots beyond the newest `keep` (`justWritten` counted among them
    /// and never deleted), with the `.sha256` and `.manifest.json` files beside them, and returns the
    /// paths deleted, oldest first.
    /// - Throws: `SnapshotError` `.io` when a snapshot cannot be deleted.
    func prune(keeping keep: Int, justWritten: String) throws(SnapshotError) -> [String] {
        let current = FileIdentity(path: justWritten)
        let older = candidates()
            .filter { $0 != justWritten && (current == nil || FileIdentity(path: $0) != current) }
            .compactMap(snapshot(at:))
            .sorted { ($0.createdAt, $0.path) < ($1.createdAt, $1.path) }
        let doomed = older.dropLast(max(keep - 1, 0)).map(\.path)
        for path in doomed {
            guard unlink(path) == 0 else {
                throw SnapshotError(.io, path: path, "cannot delete this old snapshot: \(systemError())")
            }
            unlink(path + ".sha256")
            unlink(path + ".manifest.json")
        }
        if let first = doomed.first { try AtomicFileOutput.syncFolder(of: first) }
        return doomed
    }
}
