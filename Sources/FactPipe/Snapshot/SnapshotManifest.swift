/// What an archive holds and how to check it: written into every snapshot and backup.
///
/// Its JSON form is one object with snake_case keys (`archive_version`, `kind`, `format`,
/// `compression`, `schema_version`, `fact_count`, `content_bytes`, `content_sha256`,
/// `compressed_sha256` (compressed archives), `created_at`,
/// `source_database`, `database_id` (where the database has one), `filters`, `tool`, `tool_version`, and for
/// backups `integrity_check`).
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
    /// The identity of that database (`DatabaseIdentity`), 16 hex digits; nil when it had none (made by an
    /// earlier build and not written since) or the archive was written before identities were recorded.
    public var databaseID: String?
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
        integrityCheck: String? = nil, compressedSHA256: String? = nil, databaseID: String? = nil
    ) {
        self.compressedSHA256 = compressedSHA256
        self.databaseID = databaseID
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

    /// The manifest as one JSON object, keys in a fixed order.
    public var jsonDocument: JSONDocument {
        var members: [JSONDocument.Member] = [
            .init("archive_version", .int(Int(archiveVersion))),
            .init("kind", .string(kind.rawValue)),
            .init("format", .string(format.rawValue)),
            .init("compression", .string(compression)),
            .init("schema_version", .int(Int(schemaVersion))),
            .init("fact_count", .int(Int(factCount))),
            .init("content_bytes", .int(Int(contentBytes))),
            .init("content_sha256", .string(contentSHA256)),
        ]
        if let compressedSHA256 { members.append(.init("compressed_sha256", .string(compressedSHA256))) }
        members += [.init("created_at", .string(createdAt)), .init("source_database", .string(sourceDatabase))]
        if let databaseID { members.append(.init("database_id", .string(databaseID))) }
        var filters: [JSONDocument.Member] = []
        if !filter.predicates.isEmpty { filters.append(.init("predicates", .strings(filter.predicates))) }
        if let since = filter.since { filters.append(.init("since", .string(since))) }
        members.append(.init("filters", .object(filters)))
        members.append(.init("tool", "factpipe"))
        members.append(.init("tool_version", .string(toolVersion)))
        if let integrityCheck { members.append(.init("integrity_check", .string(integrityCheck))) }
        return .object(members)
    }

    /// The manifest as one line of JSON, keys in a fixed order.
    public var json: String { jsonDocument.text }
}
