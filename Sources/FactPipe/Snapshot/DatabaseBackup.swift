import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a backup copies, where it goes, and how many to keep.
public struct BackupOptions: Sendable {
    /// The factpipe database to back up.
    public var databasePath: String
    /// The folder the backup goes to (it must exist).
    public var directory: String
    /// Keep this many backups of the database in the folder, the newest; nil keeps all.
    public var keep: Int?
    /// The folder for the uncompressed copy that is checked and compressed (it needs the database's
    /// size free); nil puts it beside the database, on the disk that already holds the database, rather
    /// than in the backup folder (often a small or remote mount) or the system's temporary folder
    /// (often a small RAM-backed file system).
    public var temporaryDirectory: String?
    /// The zstd level, 1-22.
    public var level = 3
    /// zstd worker threads; nil uses one per core when there are several.
    public var workers: Int?
    /// Bytes of the database in each zstd frame (the last frame holds the rest).
    var frameContentBytes = BackupOptions.defaultFrameContentBytes

    /// The default `frameContentBytes`: on a 1M-fact database (500 MB), frames of 8, 16 and 32 MiB
    /// make the backup 0.16 %, 0.08 % and 0.04 % larger than one frame does, and give a restore 60,
    /// 30 and 15 frames to share between its threads.
    static let defaultFrameContentBytes: Int64 = 16 << 20

    /// Options for backing up `databasePath` into `directory`.
    public init(databasePath: String, directory: String) {
        self.databasePath = databasePath
        self.directory = directory
    }
}

/// Backs up a whole database: SQLite's online backup API copies it, page by page and consistent,
/// into a temporary database (beside the database, or in `temporaryDirectory`); SQLite checks the
/// copy (`integrity_check`) while zstd compresses it into `DIR/<name>-<UTC time>.db.zst`: frames of 16 MiB of the database
/// each, every one recording its content size in its header (so that a restore decodes them in
/// parallel, each into its place; `zstd -d` reads them as one stream), then the manifest in a
/// skippable frame. The file is written under a temporary name, synced, renamed, and its folder
/// synced; `FILE.sha256` goes beside it. Then the retention rule (`BackupRetention`) prunes the
/// oldest backups of the same database.
///
/// A copy that fails the integrity check is not kept: a backup that restores a damaged database is
/// worse than none.
public struct DatabaseBackup: Sendable {
    /// What to back up, where.
    public var options: BackupOptions

    /// A backup with `options`.
    public init(options: BackupOptions) {
        self.options = options
    }

    /// Writes the backup, then applies the retention rule.
    /// - Throws: `SnapshotError`: `.database` when the database cannot be read or copied, `.io` when
    ///   the folder cannot be written, `.databaseDamaged` when the copy fails SQLite's check.
    public func run() throws(SnapshotError) -> ArchiveResult {
        let start = ContinuousClock.now
        let source = absolutePath(options.databasePath)
        var info = stat()
        guard stat(options.directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SnapshotError(.io, path: options.directory, "the backup folder does not exist or is not a folder")
        }
        let name = BackupRetention.databaseName(source)
        let path = BackupRetention.newBackupPath(directory: options.directory, databaseName: name)
        let copyFolder = options.temporaryDirectory ?? PathText.split(source).folder
        guard stat(copyFolder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SnapshotError(.io, path: copyFolder, "the folder for the temporary copy does not exist or is not a folder")
        }
        // The database as it is now: a backup of a file that was replaced or deleted meanwhile is not kept.
        var original = stat()
        guard stat(options.databasePath, &original) == 0 else {
            throw SnapshotError(.database, path: options.databasePath, "cannot read the database: \(systemError())")
        }
        StaleTemporaries.sweep(folder: copyFolder)
        let copyPath = AtomicFileOutput.temporaryName(for: PathText.joined(copyFolder, PathText.split(path).name + ".db"))
        let created = open(copyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard created >= 0 else {
            throw SnapshotError(
                .io, path: copyFolder,
                "cannot create the temporary copy of the database there: \(systemError()) (--temp-dir chooses another folder)")
        }
        close(created)
        for suffix in ["", "-journal"] { TemporaryFiles.register(copyPath + suffix) }
        defer {
            for suffix in ["", "-journal", "-wal", "-shm"] { AtomicFileOutput.remove(copyPath + suffix) }
        }
        do {
            // Stopped by a signal, the copy ends at its next step (the process ends once the database is closed).
            try SQLiteBackup.copy(from: options.databasePath, to: copyPath, isCancelled: { TemporaryFiles.isEnding })
        } catch {
            // A failure to write the copy is the copy folder's; one to read is the database's.
            guard error.path == copyPath else { throw SnapshotError(error) }
            // Room is the folder's to give; any other failure (too many open files, `ulimit -f`, memory) is not,
            // and was blamed on the folder all the same.
            guard error.isDiskFull else {
                throw SnapshotError(.database, path: copyFolder, "cannot copy the database into this folder: \(error.message)")
            }
            throw SnapshotError(
                .io, path: copyFolder,
                "cannot copy the database into this folder (the copy needs the database's size free; --temp-dir "
                    + "chooses another folder): \(error.message)")
        }

        let mode = AtomicFileOutput.permissions(of: options.databasePath).map { $0 & 0o666 } ?? 0o600
        // Made by root (a nightly job) for another user's database, it is that user's, as the database is: root's,
        // the owner could neither verify nor restore it, and their own `backup --keep` could not judge it.
        let output = try AtomicFileOutput(
            path: path, mode: mode, owner: NewFileAttributes.like(database: options.databasePath)?.owner)
        defer { output.abandon() }  // removes the temporary file unless it was committed
        let frames = HashingSink(output)
        let compressor = try ZstdWriter(
            level: options.level,
            workers: options.workers ?? (ResourceUsage.onlineCores > 1 ? ResourceUsage.onlineCores : 0),
            sink: frames, name: path)
        let input = try ArchiveInput(path: copyPath)
        // SQLite checks the copy on another thread while this one compresses it.
        let check = BackgroundResult(label: "factpipe.backup-check") {
            () throws(SnapshotError) -> DatabaseCheck.Report in
            do throws(StoreError) {
                return try DatabaseCheck.inspect(path: copyPath, check: .full)
            } catch where error.kind == .foreignDatabase {
                // `verify` and `restore` refuse such a database: a backup of it could never be restored.
                throw SnapshotError(
                    .notAFactpipeDatabase, path: source,
                    "holds what factpipe does not make (\(error.message)), so a restore would refuse its backup "
                        + "and none was kept; remove it from the database and back up again")
            } catch {
                throw SnapshotError(error)
            }
        }
        let content: (bytes: Int64, sha256: String)
        do throws(SnapshotError) {
            content = try Self.compress(input, into: compressor, frameBytes: options.frameContentBytes)
        } catch {
            _ = try? check.wait()
            throw error
        }
        let inspection = try check.wait()
        if let first = inspection.problems.first {
            throw SnapshotError(
                .databaseDamaged, path: options.databasePath,
                "the database fails PRAGMA integrity_check, so no backup was kept: \(first)")
        }
        let manifest = SnapshotManifest(
            kind: .backup, format: .sqlite, compression: "zstd", schemaVersion: inspection.schemaVersion,
            factCount: inspection.factCount, contentBytes: content.bytes, contentSHA256: content.sha256,
            createdAt: Timestamp.now(), sourceDatabase: source, integrityCheck: "ok", compressedSHA256: frames.finish(),
            databaseID: inspection.databaseID)
        try output.write(SkippableFrame.encode(manifestJSON: manifest.json))
        let fileHash = try output.finishWriting()
        try Self.checkUnchanged(options.databasePath, since: original)
        let written = try Self.putInPlace(output, fileHash: fileHash, named: path) {
            BackupRetention.newBackupPath(directory: options.directory, databaseName: name)
        }
        var result = ArchiveResult(
            manifest: manifest, path: written, fileBytes: output.bytesWritten, fileSHA256: fileHash,
            sidecars: [written + ".sha256"], seconds: 0)
        if let keep = options.keep {
            let retention = BackupRetention(
                directory: options.directory, databaseName: name, sourceDatabase: source, databaseID: manifest.databaseID)
            do {
                let outcome = try retention.pruneAndFindOthers(keeping: keep, written: written)
                (result.removed, result.otherDatabasesLeft, result.unrecordedLeft) =
                    (outcome.removed, outcome.otherDatabasesLeft, outcome.unrecordedLeft)
            } catch {
                // The new backup is whole and stays: a failure that said only why pruning failed read as no backup.
                throw SnapshotError(
                    error.kind, path: error.path,
                    "the backup \(written) was written and is kept, but an older one could not be pruned: "
                        + error.message)
            }
        }
        result.seconds = seconds(since: start)
        return result
    }

    /// Puts the finished backup in place under `path`, or, when another backup took that name meanwhile, under
    /// the next name `newPath()` gives; returns the name. Two backups started in the same millisecond (of one
    /// database, or of two of the same name into one folder) were given one name: the second rename replaced
    /// the first backup, both said it was theirs, and either one's checksum could end beside the other's archive.
    static func putInPlace(
        _ output: AtomicFileOutput, fileHash: String, named path: String, newPath: () -> String
    ) throws(SnapshotError) -> String {
        var path = path
        while true {
            do {
                try output.commit(sidecars: [(".sha256", checksumLine(fileHash, path))], replacing: false, as: path)
                return path
            } catch where error.kind == .targetExists {
                path = newPath()
            }
        }
    }

    /// Throws when the file at `path` is no longer the one the backup started from (deleted, or replaced
    /// by another file, e.g. a restore or a move): its backup would be of a database that is gone.
    private static func checkUnchanged(_ path: String, since original: stat) throws(SnapshotError) {
        var now = stat()
        guard stat(path, &now) == 0 else {
            throw SnapshotError(.database, path: path, "the database was deleted during the backup; no backup was kept")
        }
        guard now.st_dev == original.st_dev, now.st_ino == original.st_ino else {
            throw SnapshotError(
                .database, path: path, "the database was replaced by another file during the backup; no backup was kept")
        }
    }

    /// Streams the copy through the compressor, `frameBytes` of it a frame, each frame with its
    /// content size in its header (so a restore can decode the frames in parallel); returns the
    /// copy's size and SHA-256.
    private static func compress(
        _ input: ArchiveInput, into compressor: ZstdWriter, frameBytes: Int64
    ) throws(SnapshotError) -> (bytes: Int64, sha256: String) {
        precondition(frameBytes > 0, "a frame holds at least one byte")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        repeat {
            let frame = min(frameBytes, input.size - total)
            try compressor.beginFrame(contentBytes: frame)
            var left = frame
            while left > 0 {
                let wanted = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(left, Int64(buffer.count)))])
                let count: Int
                do {
                    count = try input.read(into: wanted)
                } catch {
                    throw SnapshotError(error)
                }
                guard count > 0 else {
                    throw SnapshotError(
                        .io, path: input.name, "the copy ended after \(total) of its \(input.size) bytes")
                }
                try compressor.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                total += Int64(count)
                left -= Int64(count)
            }
            try compressor.finish()
        } while total < input.size
        return (total, try input.finishFileHash() ?? "")
    }
}
