#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rule that keeps the newest N snapshots a pipeline writes, beside `BackupRetention`'s for backups.
///
/// A pipeline's snapshots are named by a pattern with `{date}` in it (`kb-{date}.ndjson.zst`). Only
/// files that match the pattern *and* whose manifest says they are snapshots of this very database
/// (its absolute path and identity), unfiltered, count; they are ranked by the time their manifest records
/// (then by name), and the snapshot just written always stays. Each is judged by its manifest alone — the frame at the end
/// of a compressed file, or `FILE.manifest.json` beside a plain one — never by reading its content, so
/// pruning costs the same however large the old snapshots are.
struct SnapshotRetention {
    /// The snapshot path with `{date}` still in it.
    let pattern: String
    /// The database's absolute path, as its snapshots' manifests record it.
    let sourceDatabase: String
    /// The database's identity, as its snapshots' manifests record it (`DatabaseIdentity`); nil when it has none.
    var databaseID: String? = nil

    /// One snapshot of this database, as its manifest describes it.
    struct Snapshot: Equatable {
        var path: String
        var createdAt: String
    }

    /// The files the pattern names now, sorted: `{date}` found by a glob as any text, then only names
    /// with a `YYYY-MM-DD` date in its place (the same date in each place) kept, so another pattern's
    /// snapshots that the glob also matches (`kb-weekly-…` for `kb-{date}`) are never this one's.
    func candidates() -> [String] {
        // The rest of the path is a name, not a pattern: a folder `s[1]` matched nothing, and nothing was pruned.
        let wildcard = pattern.split(separator: "{date}", omittingEmptySubsequences: false)
            .map(PathText.globEscaped).joined(separator: "*")
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(wildcard, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
            .filter(isNamedByPattern).sorted()
    }

    /// True when `path` is the pattern with one `YYYY-MM-DD` date in each `{date}`.
    func isNamedByPattern(_ path: String) -> Bool {
        let parts = pattern.split(separator: "{date}", omittingEmptySubsequences: false).map { Array($0.utf8) }
        var rest = Array(path.utf8)[...]
        var date: ArraySlice<UInt8>?
        for (index, part) in parts.enumerated() {
            guard rest.starts(with: part) else { return false }
            rest = rest.dropFirst(part.count)
            if index == parts.count - 1 { break }
            let stamp = rest.prefix(10)
            guard Self.isDate(stamp), date.map({ $0 == stamp }) ?? true else { return false }
            date = stamp
            rest = rest.dropFirst(10)
        }
        return rest.isEmpty
    }

    /// `YYYY-MM-DD`: ten bytes, digits but for the two dashes.
    private static func isDate(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.count == 10 else { return false }
        return text.enumerated().allSatisfy { offset, byte in
            offset == 4 || offset == 7 ? byte == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// The snapshot of this whole database at `path`, from its manifest; nil for anything else (another
    /// database's snapshot, a filtered export of this one, a backup, a file with no readable manifest).
    /// A filtered export (`export --predicate`, `--since`) named like the pipeline's snapshots holds part of
    /// the database: counted among the N kept, it pushed a whole snapshot out, and N states were not kept.
    func snapshot(at path: String) -> Snapshot? {
        judge(path).flatMap { $0.kinship == .same ? $0.snapshot : nil }
    }

    /// A whole snapshot of a database at this database's path, from its manifest (read once), and whether it
    /// is this database's: one whose manifest records another identity (another host's database, writing into a
    /// shared folder, or one the path held before), or none while this database has one (an earlier build's),
    /// `prune` neither counts nor deletes, but names.
    private func judge(_ path: String) -> (snapshot: Snapshot, kinship: DatabaseIdentity.Kinship)? {
        guard let reader = try? ArchiveReader(path: path, hashesFile: false),
            case .success(let manifest) = reader.manifest,
            manifest.kind == .snapshot, PathText.same(manifest.sourceDatabase, sourceDatabase),
            manifest.filter == FactFilter()
        else { return nil }
        return (
            Snapshot(path: path, createdAt: manifest.createdAt),
            DatabaseIdentity.kinship(archived: manifest.databaseID, database: databaseID)
        )
    }

    /// Deletes this database's snapshots beyond the newest `keep` (`justWritten` counted among them
    /// and never deleted), with the `.sha256` and `.manifest.json` files beside them, and returns the
    /// paths deleted, oldest first.
    /// - Throws: `SnapshotError` `.io` when a snapshot cannot be deleted.
    func prune(keeping keep: Int, justWritten: String) throws(SnapshotError) -> [String] {
        try pruneAndFindOthers(keeping: keep, justWritten: justWritten).removed
    }

    /// `prune`, which also returns the snapshots at this path it left uncounted, for `run` to name: each
    /// file's manifest is read once.
    func pruneAndFindOthers(
        keeping keep: Int, justWritten: String
    ) throws(SnapshotError) -> ArchiveRetention.Outcome {
        let judged = ArchiveRetention.excluding(justWritten, from: candidates()).compactMap(judge)
        let left = { (kinship: DatabaseIdentity.Kinship) in judged.filter { $0.kinship == kinship }.map(\.snapshot.path) }
        let older = judged.filter { $0.kinship == .same }.map(\.snapshot)
            .sorted { ($0.createdAt, $0.path) < ($1.createdAt, $1.path) }
        let doomed = older.dropLast(max(keep - 1, 0)).map(\.path)
        try ArchiveRetention.delete(doomed, sideFileSuffixes: [".sha256", ".manifest.json"], kind: "snapshot")
        return ArchiveRetention.Outcome(
            removed: doomed, otherDatabasesLeft: left(.another), unrecordedLeft: left(.unrecorded))
    }
}
