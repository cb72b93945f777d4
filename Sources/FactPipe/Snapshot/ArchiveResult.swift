/// What an export or a backup wrote.
public struct ArchiveResult: Sendable {
    /// The manifest written into (or beside) the archive.
    public var manifest: SnapshotManifest
    /// The archive's path, or `-`.
    public var path: String
    /// Bytes of the archive as written (compressed, manifest frame included).
    public var fileBytes: Int64
    /// SHA-256 of the archive's bytes.
    public var fileSHA256: String
    /// Files written beside the archive (`FILE.sha256`, `FILE.manifest.json`).
    public var sidecars: [String]
    /// Wall-clock seconds.
    public var seconds: Double
    /// Older archives the retention rule removed (`backup --keep`, a pipeline's `keep_snapshots`).
    public var removed: [String] = []
    /// Archives of other databases at the database's path (another identity, `DatabaseIdentity`) that the
    /// retention rule found among the ones it judges and left, neither counted nor removed.
    public var otherDatabasesLeft: [String] = []
    /// Archives at the database's path that record no identity while the database has one (written by an
    /// earlier build, of this database or another host's) that the retention rule left, neither counted nor removed.
    public var unrecordedLeft: [String] = []
    /// When a snapshot of this database was at the path and this one replaced it: when that one was made.
    public var replacedMadeAt: String?
}
