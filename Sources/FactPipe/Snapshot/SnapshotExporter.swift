#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What an export reads, and what and where it writes.
public struct SnapshotOptions: Sendable {
    /// The factpipe database to read: a SQLite path or a PostgreSQL URL.
    public var databasePath: String
    /// The snapshot file, or `-` for standard output.
    public var outputPath: String
    /// `ndjson`, `csv` or `text`.
    public var format: SnapshotManifest.Format = .ndjson
    /// The zstd level; 0 writes plain bytes.
    public var level = 3
    /// Whether to compress; nil compresses when `outputPath` ends in `.zst`.
    public var compresses: Bool?
    /// zstd worker threads; nil uses one per core when there are several.
    public var workers: Int?
    /// Which facts to write.
    public var filter = FactFilter()
    /// Asked between chunks and while the output waits for a pipe's reader: true stops the export,
    /// removing its temporary file (a `run`'s snapshot, whose signals end no system call).
    public var isCancelled: (@Sendable () -> Bool)?

    /// Options for exporting every fact of `databasePath` to `outputPath` as NDJSON.
    public init(databasePath: String, outputPath: String) {
        self.databasePath = databasePath
        self.outputPath = outputPath
    }

    /// True when the output is zstd-compressed.
    public var isCompressed: Bool { level > 0 && (compresses ?? outputPath.hasSuffix(".zst")) }

    /// zstd worker threads to use.
    var workerCount: Int { workers ?? (ResourceUsage.onlineCores > 1 ? ResourceUsage.onlineCores : 0) }

    /// What is wrong with `name` as a snapshot's, when it promises a compression the file would not have
    /// (`kb.ndjson.gz`: gzip; `kb.ndjson.ZST`, `.zstd`: zstd, which only `.zst` so spelt gets), with the
    /// name it should have; nil for a `.zst` name or a plain one.
    public static func misnamedCompression(_ name: String) -> (problem: String, betterName: String)? {
        let lowered = name.lowercased()
        if (lowered.hasSuffix(".zst") && !name.hasSuffix(".zst")) || lowered.hasSuffix(".zstd") {
            return ("only a name ending in .zst (so spelt) is compressed",
                    name.dropLast(lowered.hasSuffix(".zstd") ? 5 : 4) + ".zst")
        }
        let endings = [
            (".gz", "gzip"), (".tgz", "gzip"), (".xz", "xz"), (".bz2", "bzip2"), (".lz4", "lz4"), (".lz", "lzip"),
            (".zip", "zip"), (".7z", "7z"), (".br", "brotli"),
        ]
        guard let (ending, kind) = endings.first(where: { lowered.hasSuffix($0.0) }) else { return nil }
        return ("a snapshot is zstd (a name ending in .zst) or plain, not \(kind)", name.dropLast(ending.count) + ".zst")
    }
}

/// Writes a snapshot: the facts of one read transaction, in id order, as NDJSON, CSV or text,
/// zstd-compressed or plain, with a manifest.
///
/// ```
/// FactRowSource ─▶ FactRowEncoder ──▶ 1 MiB chunk ──▶ content SHA-256 ──▶ ZstdWriter ──▶ AtomicFileOutput
/// (one read       (one record       (bounded)      and size             (workers)     temp, fsync,
///  transaction)    a row)                                                              rename, FILE.sha256
/// ```
/// Rows are streamed, never collected: memory is the chunk, the encoder's small cache and zstd's
/// buffers, whatever the database's size. A compressed snapshot ends with the manifest in a zstd
/// skippable frame (`SkippableFrame`); a plain one has it beside, in `FILE.manifest.json`.
public struct SnapshotExporter: Sendable {
    /// Content bytes gathered before they are hashed and compressed.
    public static let chunkBytes = 1 << 20

    /// What to export, where.
    public var options: SnapshotOptions

    /// An exporter for `options`.
    public init(options: SnapshotOptions) {
        self.options = options
    }

    /// Writes the snapshot and its manifest; on failure nothing is left at the output path.
    /// - Throws: `SnapshotError`: `.database` when the database cannot be read, `.io` when the output
    ///   cannot be written, `.unencodable` for a fact the format cannot carry, `.compression`.
    public func run() throws(SnapshotError) -> ArchiveResult {
        let start = ContinuousClock.now
        let database = options.databasePath
        if let address = PostgreSQLAddress(database) {
            // A server's facts are for its users only: the snapshot is readable by its owner alone.
            return try write(from: PostgreSQLFactCursor(address: address, filter: options.filter),
                             mode: 0o600, sourceDatabase: address.description, start: start)
        }
        for suffix in ["", "-wal", "-shm"] where AtomicFileOutput.isSameFile(options.outputPath, database + suffix) {
            throw SnapshotError(.io, path: options.outputPath, "is the database itself; the snapshot must go elsewhere")
        }
        let cursor = try storeCall { () throws(StoreError) in
            try FactCursor(databasePath: database, filter: options.filter)
        }
        if let repeated = try storeCall({ () throws(StoreError) in try cursor.repeatedStatement() }) {
            throw SnapshotError.repeated(
                repeated.statement, times: repeated.times, database: database,
                loadIsRunning: WriterLock.isHeld(databasePath: database), setAsideByLoad: repeated.setAsideByLoad)
        }
        // A snapshot holds the database's facts: it is no more readable than the database.
        // Made by root for another user's database, it is that user's, as the database is (`NewFileAttributes`).
        return try write(
            from: cursor, mode: AtomicFileOutput.permissions(of: database).map { $0 & 0o666 } ?? 0o644,
            owner: NewFileAttributes.like(database: database)?.owner, sourceDatabase: absolutePath(database),
            start: start)
    }

    /// Streams `cursor`'s rows into the snapshot file (created with `mode`), then writes its manifest and
    /// sidecars.
    private func write(
        from cursor: some FactRowSource, mode: mode_t, owner: (user: uid_t, group: gid_t)? = nil,
        sourceDatabase: String, start: ContinuousClock.Instant
    ) throws(SnapshotError) -> ArchiveResult {
        let output = try AtomicFileOutput(
            path: options.outputPath, mode: mode, owner: owner, isCancelled: options.isCancelled)
        defer { output.abandon() }  // removes the temporary file unless it was committed
        let frames = HashingSink(output)
        let compressor =
            options.isCompressed
            ? try ZstdWriter(level: options.level, workers: options.workerCount, sink: frames, name: options.outputPath)
            : nil
        let sink: any ArchiveSink = compressor ?? output
        let digest = SHA256Digest()
        var encoder = FactRowEncoder(format: options.format)
        let chunk = OutputBytes(capacity: Self.chunkBytes + 64 * 1024)
        encoder.appendHeader(to: chunk)
        var facts: Int64 = 0
        var contentBytes: Int64 = 0
        func flush() throws(SnapshotError) {
            if options.isCancelled?() == true {
                compressor?.abandon()
                throw SnapshotError(.io, path: options.outputPath, "interrupted; the snapshot was not written")
            }
            digest.update(chunk.bytes)
            try sink.write(chunk.bytes)
            contentBytes += Int64(chunk.count)
            chunk.removeAll()
        }
        while try cursor.advance() {
            try encoder.append(cursor, to: chunk)
            facts += 1
            if chunk.count >= Self.chunkBytes { try flush() }
        }
        try flush()
        try cursor.end()
        try compressor?.finish()

        let manifest = SnapshotManifest(
            kind: .snapshot, format: options.format, compression: options.isCompressed ? "zstd" : "none",
            schemaVersion: cursor.schemaVersion, factCount: facts, contentBytes: contentBytes,
            contentSHA256: digest.finish() ?? "", createdAt: Timestamp.now(),
            sourceDatabase: sourceDatabase, filter: options.filter,
            compressedSHA256: options.isCompressed ? frames.finish() : nil, databaseID: cursor.databaseID)
        if options.isCompressed { try output.write(SkippableFrame.encode(manifestJSON: manifest.json)) }
        let fileHash = try output.finishWriting()
        var sidecars: [(suffix: String, bytes: [UInt8])] = []
        if output.canHaveSidecars {
            sidecars.append((".sha256", checksumLine(fileHash, options.outputPath)))
            if !options.isCompressed { sidecars.append((".manifest.json", Array((manifest.json + "\n").utf8))) }
        }
        do {
            // Another export to the same path renames its three files before or after these, never between.
            let lock = FolderLock(folder: PathText.split(options.outputPath).folder)
            defer { withExtendedLifetime(lock) {} }
            try output.commit(sidecars: sidecars)
            if output.canHaveSidecars && options.isCompressed { removeStaleManifest() }
        }
        return ArchiveResult(
            manifest: manifest, path: options.outputPath, fileBytes: output.bytesWritten, fileSHA256: fileHash,
            sidecars: sidecars.map { options.outputPath + $0.suffix }, seconds: seconds(since: start))
    }

    /// Removes the `FILE.manifest.json` an earlier plain export to this path left, now that the file is
    /// compressed with its manifest inside: that one describes a file that is gone. Only a regular file
    /// that reads as a factpipe manifest is removed; anything else of that name is not factpipe's.
    private func removeStaleManifest() {
        let path = options.outputPath + ".manifest.json"
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
            let text = try? ArchiveReader.readSmallFile(path), (try? SnapshotManifest.decode(text, path: path)) != nil
        else { return }
        unlink(path)
    }
}

extension SnapshotError {
    /// A statement `facts` holds `times` times, found while its unique index is out (a bulk load stopped
    /// before it built it again, another program writing meanwhile): an archive of it would verify and
    /// then not restore.
    /// With `loadIsRunning` (a writer holds the database's lock), the load that set the index aside is still
    /// at work: it was called stopped, and the `optimize` advised refused ("another load is writing").
    /// Without `setAsideByLoad`, someone else dropped the index: the rows are theirs to choose between.
    static func repeated(
        _ statement: String, times: Int, database: String, loadIsRunning: Bool = false, setAsideByLoad: Bool = true
    ) -> SnapshotError {
        let held = "facts holds \(JSONText.quoted(String(statement.prefix(100)))) \(times) times: "
        // A load running now that set the index aside recorded it as it dropped it (`setAsideByLoad`).
        guard setAsideByLoad else {
            return SnapshotError(
                .unencodable, path: database,
                held + "its unique index on statements (facts_statement) is missing, and no load of factpipe's set "
                    + "it aside, so the archive would not restore; delete the rows you do not want, or put the index "
                    + "back (`\(FactSchema.uniqueIndex.sql)`) and see which it refuses, and export again")
        }
        guard !loadIsRunning else {
            return SnapshotError(
                .unencodable, path: database,
                held + "a load running now has set the unique index on statements aside, and another program wrote "
                    + "it meanwhile, so the archive would not restore; export again once that load has finished (it "
                    + "makes statements unique again)")
        }
        return SnapshotError(
            .unencodable, path: database,
            held + "a load was stopped before it made statements unique again, and another program wrote it "
                + "meanwhile, so the archive would not restore; run `factpipe optimize --db \(database)` (or any "
                + "import), which completes that load, and export again")
    }
}
