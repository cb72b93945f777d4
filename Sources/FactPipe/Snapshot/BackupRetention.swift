#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The names of backups, and the rule that keeps the newest N of one database.
///
/// A backup of `kb.sqlite` is named `kb-YYYYMMDDTHHMMSS.mmmZ.db.zst` (UTC), so names sort by time.
/// Pruning deletes only files that match that pattern *and* are backups of this very database (their
/// manifest names its absolute path and its identity, their frames hold the content it describes): another
/// database's backups (one at the same path on another host that backs up into a shared folder too), files
/// of the same name from elsewhere, and anything else in the folder are never touched, nor counted among
/// the backups kept.
struct BackupRetention {
    /// The folder holding the backups.
    let directory: String
    /// The database's name as it starts each backup's name.
    let databaseName: String
    /// The database's absolute path, as its backups' manifests record it.
    let sourceDatabase: String
    /// The database's identity, as its backups' manifests record it (`DatabaseIdentity`); nil when it has none.
    var databaseID: String? = nil

    /// The name a database's backups start with: its file name without the last extension.
    static func databaseName(_ path: String) -> String {
        PathText.stem(path)
    }

    /// A path for a new backup in `directory`: the current UTC time to the millisecond, one that no
    /// file has yet.
    static func newBackupPath(directory: String, databaseName: String) -> String {
        while true {
            let path = PathText.joined(directory, databaseName + "-" + nowStamp() + ".db.zst")
            if access(path, F_OK) != 0 { return path }
            usleep(1_000)
        }
    }

    /// The current UTC time as a backup's name holds it: `YYYYMMDDTHHMMSS.mmmZ`.
    static func nowStamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let iso = Timestamp.iso8601(epochSeconds: Double(now.tv_sec)) ?? "1970-01-01T00:00:00Z"
        let compact = String(iso.filter { $0 != "-" && $0 != ":" }.dropLast())  // YYYYMMDDTHHMMSS
        let millis = String(Int(now.tv_nsec) / 1_000_000)
        return compact + "." + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }

    /// The time stamp in a backup's path (`YYYYMMDDTHHMMSS.mmmZ`, sorting as the time), or nil when its
    /// name is not a backup's of this database.
    private func stamp(of path: String) -> String? {
        let file = PathText.split(path).name
        guard matchesPattern(file) else { return nil }
        return String(decoding: file.utf8.dropFirst(databaseName.utf8.count + 1).dropLast(7), as: UTF8.self)
    }

    /// True when `file` (a name in the folder) has the shape of a backup of this database. Names are compared
    /// byte for byte, as the file system does: `café` written composed and decomposed are two databases (as
    /// Swift compares text, one name; `--keep` of one then deleted the other's backups).
    func matchesPattern(_ file: String) -> Bool {
        let prefix = databaseName + "-"
        guard file.utf8.starts(with: prefix.utf8), file.utf8.reversed().starts(with: ".db.zst".utf8.reversed())
        else { return false }
        let stamp = Array(file.utf8.dropFirst(prefix.utf8.count).dropLast(7))
        let shape = Array("ddddddddTdddddd.dddZ".utf8)  // YYYYMMDDTHHMMSS.mmmZ, d a digit
        guard stamp.count == shape.count else { return false }
        for (byte, expected) in zip(stamp, shape) {
            if expected == UInt8(ascii: "d") {
                guard byte >= 0x30 && byte <= 0x39 else { return false }
            } else if byte != expected {
                return false
            }
        }
        return true
    }

    /// True when the file is a backup of this database: its manifest says so, and its content is there.
    ///
    /// A manifest alone proves nothing: a file of a few hundred bytes holding only a manifest frame that
    /// names this database, named as a backup a moment before the next one, was counted among the newest
    /// and `--keep` deleted the real backups in its place. So the zstd frames before the manifest must be
    /// whole and the content sizes their headers record must add up to the manifest's `content_bytes`
    /// (every backup this release writes records them; only their headers are read). A backup written as
    /// one frame that records no size (by earlier versions) counts when its frames' SHA-256 is the
    /// manifest's `compressed_sha256` (one read of the file). Anything else is left alone and not counted.
    func isBackupOfThisDatabase(_ path: String) -> Bool {
        judge(path) == .thisDatabase
    }

    /// Whose backup a file is: this database's; another database's at this database's path (its manifest
    /// records another identity: another host's database backing up into a shared folder, or one the path held
    /// before), or one whose manifest records no identity while this database has one (an earlier build's),
    /// which `prune` neither counts nor deletes but names; or nobody's it knows.
    enum Judgement { case thisDatabase, anotherDatabaseAtThisPath, unrecorded, none }

    /// Reads the file's manifest once and judges it (`isBackupOfThisDatabase` says what a backup must hold).
    func judge(_ path: String) -> Judgement {
        guard let reader = try? ArchiveReader(path: path, hashesFile: false), reader.isCompressed,
            case .success(let manifest) = reader.manifest,
            manifest.kind == .backup, manifest.format == .sqlite, PathText.same(manifest.sourceDatabase, sourceDatabase),
            manifest.contentBytes > 0, let census = try? reader.frameCensus(), census.frames > 0
        else { return .none }
        if let contentBytes = census.contentBytes {
            guard contentBytes == manifest.contentBytes else { return .none }
        } else {
            guard let expected = manifest.compressedSHA256, let hash = try? reader.hashCompressedFrames(),
                hash == expected
            else { return .none }
        }
        switch DatabaseIdentity.kinship(archived: manifest.databaseID, database: databaseID) {
        case .same: return .thisDatabase
        case .another: return .anotherDatabaseAtThisPath
        case .unrecorded: return .unrecorded
        }
    }

    /// Deletes this database's backups beyond the newest `keep`, with their `.sha256` files, and
    /// returns the paths deleted, oldest first. `written`, the backup just made, is always one of those
    /// kept, whatever its name sorts as: with the clock set back it is named older than the ones before
    /// it, and was deleted as the oldest while the command reported success. Nor is one that another backup
    /// started after this one and finished first (see below).
    /// - Throws: `SnapshotError` `.io` when the folder cannot be listed or a file cannot be deleted.
    func prune(keeping keep: Int, written: String? = nil) throws(SnapshotError) -> [String] {
        try pruneAndFindOthers(keeping: keep, written: written).removed
    }

    /// `prune`, which also returns the backups at this path it left uncounted (`Judgement`), for the command
    /// to name: each file's manifest is read once.
    func pruneAndFindOthers(
        keeping keep: Int, written: String? = nil
    ) throws(SnapshotError) -> ArchiveRetention.Outcome {
        let named = try listFolder().filter(matchesPattern).sorted().map { PathText.joined(directory, $0) }
        let judged = ArchiveRetention.excluding(written, from: named).map { (path: $0, judgement: judge($0)) }
        let backups = judged.filter { $0.judgement == .thisDatabase }.map(\.path)
        let left = { (judgement: Judgement) in judged.filter { $0.judgement == judgement }.map(\.path) }
        // A backup started after this one and named no later than now was made while this one ran, by another
        // `backup` of the same database: it holds a later state. Overlapping `--keep 1` runs deleted it and
        // kept the older one. (One named in the future, by a clock that was ahead, is pruned as its name sorts.)
        let now = Self.nowStamp()
        let writtenStamp = written.flatMap(stamp(of:))
        let isLater = { (path: String) -> Bool in
            guard let writtenStamp, let stamp = self.stamp(of: path) else { return false }
            return stamp > writtenStamp && stamp <= now
        }
        let later = backups.filter(isLater)
        let doomed = Array(backups.filter { !isLater($0) }
            .dropLast(max(keep - (written == nil ? 0 : 1) - later.count, 0)))
        try ArchiveRetention.delete(doomed, sideFileSuffixes: [".sha256"], kind: "backup")
        return ArchiveRetention.Outcome(
            removed: doomed, otherDatabasesLeft: left(.anotherDatabaseAtThisPath), unrecordedLeft: left(.unrecorded))
    }

    /// The names in the folder.
    private func listFolder() throws(SnapshotError) -> [String] {
        guard let folder = opendir(directory) else {
            throw SnapshotError(.io, path: directory, "cannot list the backup folder: \(systemError())")
        }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = DirectoryEntry.name(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
