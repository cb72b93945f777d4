/// A failure of an export, a backup, a restore, or a problem found in an archive.
///
/// `description` is one line naming the file, e.g.
/// `kb.ndjson.zst: truncated: the file ends inside a compressed frame after 1048576 decoded bytes`.
public struct SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers (and `--json` output) that react to each case.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A file could not be opened, read, written, synced or renamed.
        case io
        /// The database could not be read or written (SQLite's message is in `message`).
        case database
        /// The compressor or decompressor could not be set up or failed.
        case compression
        /// A fact cannot be written in the requested format.
        case unencodable
        /// The file is neither a factpipe archive nor a snapshot with its manifest beside it.
        case notAnArchive = "not_an_archive"
        /// The archive has no factpipe manifest.
        case missingManifest = "missing_manifest"
        /// The manifest frame or file is there but cannot be read.
        case manifestDamaged = "manifest_damaged"
        /// The file ends before its last frame does.
        case truncated
        /// A compressed frame is damaged: bad header, block, or frame checksum.
        case corruptFrame = "corrupt_frame"
        /// The SHA-256 of the content differs from the manifest's.
        case hashMismatch = "hash_mismatch"
        /// The number of facts differs from the manifest's.
        case countMismatch = "count_mismatch"
        /// The size of the content differs from the manifest's.
        case sizeMismatch = "size_mismatch"
        /// The SHA-256 of the file differs from its `.sha256` file.
        case fileHashMismatch = "file_hash_mismatch"
        /// The database inside a backup, or a restored one, fails SQLite's checks.
        case databaseDamaged = "database_damaged"
        /// The database inside a backup is not one factpipe makes (another program's tables, a view, a
        /// trigger, an unknown schema version…): it is neither counted nor restored.
        case notAFactpipeDatabase = "not_a_factpipe_database"
        /// The restore target exists and `--force` was not given.
        case targetExists = "target_exists"
        /// The restore target exists and is neither empty nor a factpipe database: it is never replaced.
        case targetNotADatabase = "target_not_a_database"
        /// A text snapshot holds the statements alone, so restoring it would not give back the database.
        case statementsOnly = "statements_only"
    }

    /// The category of the failure.
    public var kind: Kind
    /// The file or database concerned.
    public var path: String
    /// What went wrong, in words a user can act on, without the path.
    public var message: String

    /// Creates an error for `path`; `message` should not repeat the path.
    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// `path: message`, a single line.
    public var description: String { "\(path): \(message)" }
}

extension SnapshotError {
    /// Wraps a database failure.
    init(_ error: StoreError) {
        self.init(.database, path: error.path, error.reason + (error.sql.map { " (in: \($0.prefix(200)))" } ?? ""))
    }

    /// Wraps a failure of a PostgreSQL server: the server (without password) as the path.
    init(_ error: PostgreSQLError) {
        self.init(.database, path: error.server, error.message + (error.sqlState.map { " (SQLSTATE \($0))" } ?? ""))
    }

    /// Wraps a read failure of an archive, keeping whether it was cut short or damaged.
    init(_ error: ReadError) {
        let kind: Kind
        switch error.kind {
        case .truncatedCompressedStream: kind = .truncated
        case .corruptCompressedStream, .trailingData: kind = .corruptFrame
        case .decoderSetup: kind = .compression
        default: kind = .io
        }
        self.init(kind, path: error.source, error.message)
    }
}

/// Runs a database call, turning its `StoreError` into a `SnapshotError`.
func storeCall<T>(_ body: () throws(StoreError) -> T) throws(SnapshotError) -> T {
    do {
        return try body()
    } catch {
        throw SnapshotError(error)
    }
}
