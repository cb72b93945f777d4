/// What an archive holds and how to check it: written into every snapshot and backup.
///
/// Its JSON form is one object with snake_case keys (`archive_version`, `kind`, `format`,
/// `compression`, `schema_version`, `fact_count`, `content_bytes`, `content_sha256`,
/// `compressed_sha256` (compressed archives), `created_at`,
/// `source_database`, `filters`, `tool`, `tool_version`, and for backups `integrity_check`).
public struct SnapshotManifest: Sendable, Hashable {
    /// What the archive is.
    public enum Kind: String, Sendable, Hashable {
        /// Facts as NDJSON, CSV or text, written by `export`.
        case snapshot
        /// A whole SQLite database, written by `backup`.
        case backup
    }

    /// The format of the archive's content once decompressed.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case ndjson, csv, text
        /// A SQLite database file (backups).
        case sqlite
    }

    /// The version of this manifest and archive layout.
    public static let currentArchiveVersion = 1

    /// The archive layout's version (`currentArchiveVersion` when written by this build).
    public var archiveVersion = SnapshotManifest.currentArchiveVersion
    /// Snapshot or backup.
    public var kind: Kind
    /// The content's format.
    public var format: Format
    /// `zstd` or `none`.
    public var compression: String
    /// The database's schema version (`PRAGMA user_version`).
    public var schemaVersion: Int64
    /// Facts in the content: records of a snapshot, rows of `facts` in a backup.
    public var factCount: Int64
    /// Bytes of the content once decompressed.
    public var contentBytes: Int64
    /// SHA-256 of the content once decompressed, 64 lowercase hex digits.
    public var contentSHA256: String
    /// SHA-256 of the compressed frames before the manifest frame, as written; nil for plain
    /// snapshots. Decoding is deterministic, so bytes with this hash decode to the content above.
    public var compressedSHA256: String?
    /// When the archive was written, ISO 8601 UTC.
    public var createdAt: String
    /// The absolute path of the database the archive was made from.
    public var sourceDatabase: String
    /// The filters of a snapshot (every fact when empty).
    public var filter: FactFilter
    /// The factpipe version that wrote it.
    public var toolVersion: String
    /// The result of `PRAGMA integrity_check` on the backed-up database before it was compressed
    /// (`ok` or SQLite's first finding); nil for snapshots.
    public var integrityCheck: String?

    /// Creates a manifest from its parts.
    public init(
        kind: Kind, format: Format, compression: String, schemaVersion: Int64, factCount: Int64,
        contentBytes: Int64, contentSHA256: String, createdAt: String, sourceDatabase: String,
        filter: FactFilter = FactFilter(), toolVersion: String = FactPipeVersion.current,
        integrityCheck: String? = nil, compressedSHA256: String? = nil
    ) {
        self.compressedSHA256 = compressedSHA256
        self.kind = kind
        self.format = format
        self.compression = compression
        self.schemaVersion = schemaVersion
        self.factCount = factCount
        self.contentBytes = contentBytes
        self.contentSHA256 = contentSHA256
        self.createdAt = createdAt
        self.sourceDatabase = sourceDatabase
        self.filter = filter
        self.toolVersion = toolVersion
        self.integrityCheck = integrityCheck
    }

    /// The manifest as one line of JSON, keys in a fixed order.
    public var json: String {
        var members: [(key: String, json: String)] = [
            ("archive_version", "\(archiveVersion)"),
            ("kind", JSONText.quoted(kind.rawValue)),
            ("format", JSONText.quoted(format.rawValue)),
            ("compression", JSONText.quoted(compression)),
            ("schema_version", "\(schemaVersion)"),
            ("fact_count", "\(factCount)"),
            ("content_bytes", "\(contentBytes)"),
            ("content_sha256", JSONText.quoted(contentSHA256)),
        ]
        if let compressedSHA256 { members.append(("compressed_sha256", JSONText.quoted(compressedSHA256))) }
        members += [
            ("created_at", JSONText.quoted(createdAt)),
            ("source_database", JSONText.quoted(sourceDatabase)),
        ]
        var filters: [(key: String, json: String)] = []
        if !filter.predicates.isEmpty { filters.append(("predicates", JSONText.array(filter.predicates))) }
        if let since = filter.since { filters.append(("since", JSONText.quoted(since))) }
        members.append(("filters", JSONText.object(filters)))
        members.append(("tool", JSONText.quoted("factpipe")))
        members.append(("tool_version", JSONText.quoted(toolVersion)))
        if let integrityCheck { members.append(("integrity_check", JSONText.quoted(integrityCheck))) }
        return JSONText.object(members)
    }
}
