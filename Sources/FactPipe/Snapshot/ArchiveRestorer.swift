import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which archive to restore, where, and how carefully.
public struct RestoreOptions: Sendable {
    /// The backup (`.db.zst`) or snapshot to restore.
    public var archivePath: String
    /// The database file to write.
    public var targetPath: String
    /// Replace the target when it exists.
    public var force = false
    /// Run `PRAGMA integrity_check` on a restored backup even when its manifest records one that
    /// passed on the very same bytes.
    public var fullCheck = false

    /// Options for restoring `archivePath` into `targetPath`.
    public init(archivePath: String, targetPath: String) {
        self.archivePath = archivePath
        self.targetPath = targetPath
    }
}

/// What a restore did.
public struct RestoreResult: Sendable {
    /// The archive restored.
    public var archivePath: String
    /// The database written.
    public var targetPath: String
    /// The archive's manifest.
    public var manifest: SnapshotManifest
    /// Facts in the restored database.
    public var factCount: Int64
    /// True when an existing database was replaced (`--force`).
    public var replacedExisting: Bool
    /// The SQLite check run on the restored database.
    public var databaseCheck: IntegrityCheck
    /// Frames of a backup decoded in parallel, each into its place; 0 when the content was decoded
    /// in order (a backup written as one frame, a snapshot).
    public var parallelFrames = 0
    /// Rows of a snapshot of a version-1 database merged into a fact of the same statement, as migrating that
    /// database merges them (kept in the fact's `fact_metadata` under `merged_rows`); 0 for any other archive.
    public var mergedRows: Int64 = 0
    /// The files beside the archive that an export killed between its renames left hidden, and the restore put
    /// in place (`SidecarRollForward`).
    public var sidecarsPutInPlace: [String] = []
    /// Wall-clock seconds.
    public var seconds: Double
}

/// Restores a backup or a snapshot into a database file, verifying everything before anything is
/// replaced.
///
/// The new database is written to a temporary file in the target's folder: a backup by decoding it
/// (its frames on one thread a core, each into its place, when they record their sizes; its size,
/// frame checksums, the compressed frames' SHA-256 and `FILE.sha256` checked), a snapshot by a full
/// verification pass and then the import pipeline. SQLite then checks it and counts its facts
/// against the manifest, and only then is it synced and renamed over the target (stale `-wal` and
/// `-shm` files of a replaced database are removed first, so they cannot be replayed into the new
/// one). The target's factpipe writer lock is held while it is replaced, so no factpipe load writes
/// to it meanwhile. Any failure removes the temporary file and leaves the target's bytes as they were
/// (a backup restore drops the target's cached pages as it starts, so that the new file is written
/// into the memory they free).
///
/// A restored backup gets `PRAGMA quick_check` (every page and b-tree) when its manifest records
/// that `PRAGMA integrity_check` passed on the database at backup time: the restored bytes have that
/// database's SHA-256, so they are that database. `fullCheck`, a manifest without that record, and
/// every snapshot restore run the full `PRAGMA integrity_check`.
public struct ArchiveRestorer: Sendable {
    /// What to restore, where.
    public var options: RestoreOptions
    /// Set when the target held a file as the restored database was put in place (also one made there
    /// while the restore ran, which `--force` replaces if it is a factpipe database or empty).
    private let placedOverAFile = PlacedFlag()

    private final class PlacedFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// A restorer with `options`.
    public init(options: RestoreOptions) {
        self.options = options
    }

    /// Restores the archive.
    /// - Throws: `SnapshotError`: `.io` for a target named as another file's side file (see
    ///   `targetNameProblem`); `.targetExists` without `force`; `.targetNotADatabase` for an existing
    ///   target that is neither empty nor a factpipe database (see `replacementProblem`); any problem `verify` names
    ///   (`.truncated`, `.corruptFrame`, `.hashMismatch`, `.countMismatch`, `.missingManifest`, …);
    ///   `.databaseDamaged` when the restored database fails SQLite's check; `.notAFactpipeDatabase` when
    ///   a backup holds a database whose schema factpipe does not make; `.io`, `.database`.
    public func run() throws(SnapshotError) -> RestoreResult {
        if let problem = Self.targetNameProblem(options.targetPath) {
            throw SnapshotError(.io, path: options.targetPath, problem)
        }
        // A target that is a symlink is restored through it: the database is its real file, where
        // factpipe keeps its lock and SQLite its log. Renamed over, the link itself would become a new
        // database beside the old one, which every program that opens the real path would go on using.
        if let problem = ForeignSymlink.problem(options.targetPath) {
            throw SnapshotError(.io, path: options.targetPath, "cannot restore to it: \(problem)")
        }
        if PathText.symlinkTarget(options.targetPath) != nil, PathText.real(options.targetPath) == nil {
            throw SnapshotError(.io, path: options.targetPath, Self.unresolvedLinkProblem(options.targetPath))
        }
        let real = DatabaseFile.realPath(options.targetPath)
        if PathText.symlinkTarget(options.targetPath) != nil, real != options.targetPath,
           PathText.symlinkTarget(real) == nil {
            var through = self
            through.options.targetPath = real
            var result = try through.run()
            result.targetPath = options.targetPath
            return result
        }
        let start = ContinuousClock.now
        let target = options.targetPath
        var info = stat()
        let exists = stat(target, &info) == 0
        if exists {
            guard options.force else {
                throw SnapshotError(
                    .targetExists, path: target, "exists; give --force to replace it (nothing was changed)")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw SnapshotError(.io, path: target, "exists and is not a regular file; it is not replaced")
            }
        }
        if AtomicFileOutput.isSameFile(target, options.archivePath) {
            throw SnapshotError(.io, path: target, "is the archive itself; restore it to another path")
        }
        if exists, let problem = Self.replacementProblem(target) {
            throw SnapshotError(.targetNotADatabase, path: target, problem)
        }
        // Before the sweep, which would put them in place without a word when the archive is beside the target.
        let putInPlace = SidecarRollForward.complete(options.archivePath)
        // A restore killed earlier left its temporary database (the size of the whole database) here.
        StaleTemporaries.sweep(besides: target)
        // The whole file's hash is needed only to compare it with a `FILE.sha256` beside it.
        let hasChecksumFile = access(options.archivePath + ".sha256", F_OK) == 0
        let reader = try ArchiveReader(path: options.archivePath, hashesFile: hasChecksumFile)
        // A checksum file that cannot be read fails the restore now, not once the whole archive is decoded.
        if hasChecksumFile { _ = try reader.recordedFileSHA256() }
        let manifest = try reader.manifest.get()
        if manifest.kind != .backup && manifest.format == .text {
            // Restored, every fact would come back with confidence 1.0, no source and the restore's time.
            throw SnapshotError(
                .statementsOnly, path: options.archivePath,
                "a text snapshot holds the statements alone (no confidence, source, context or times): restoring "
                    + "it would not give back the database; `factpipe import` loads its statements, and an NDJSON "
                    + "or CSV export keeps every column")
        }
        let check: IntegrityCheck
        let facts: Int64
        var parallelFrames = 0
        var merged: Int64 = 0
        if manifest.kind == .backup {
            check = options.fullCheck || manifest.integrityCheck != "ok" ? .full : .quick
            (facts, parallelFrames) = try restoreBackup(reader, manifest, check: check)
        } else {
            check = .full
            (facts, merged) = try restoreSnapshot(reader, manifest)
        }
        return RestoreResult(
            archivePath: options.archivePath, targetPath: target, manifest: manifest, factCount: facts,
            replacedExisting: exists || placedOverAFile.value.load(ordering: .relaxed), databaseCheck: check, parallelFrames: parallelFrames,
            mergedRows: merged, sidecarsPutInPlace: putInPlace, seconds: seconds(since: start))
    }

    /// Verifies the snapshot, imports it into a temporary database, checks it, and renames it.
    private func restoreSnapshot(
        _ reader: ArchiveReader, _ manifest: SnapshotManifest
    ) throws(SnapshotError) -> (facts: Int64, merged: Int64) {
        var counter = RecordCounter(format: manifest.format)
        let content = try reader.readContent(limit: manifest.contentBytes) { piece in counter.consume(piece) }
        try verifyChecksums(reader, manifest, content: content, counted: counter.records)

        let temporary = AtomicFileOutput.temporaryName(for: options.targetPath)
        let sideFiles = ["", "-wal", "-shm", "-journal", "-factpipe.lock"].map { temporary + $0 }
        for file in sideFiles { TemporaryFiles.register(file) }
        defer {
            for file in sideFiles { AtomicFileOutput.remove(file) }
        }
        // Made private before the import opens it (SQLite would make it, and its -wal and -shm, 0644 less the
        // umask): it holds every fact of the archive until `replaceTarget` gives it the target's permissions.
        let made = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, AtomicFileOutput.privateMode)
        guard made >= 0 else {
            throw SnapshotError(
                .io, path: options.targetPath,
                "cannot create a file in \(AtomicFileOutput.folder(of: temporary)): \(systemError())")
        }
        _ = fchmod(made, AtomicFileOutput.privateMode)
        close(made)
        var importOptions = ImportOptions(inputs: [options.archivePath], databasePath: temporary)
        importOptions.format = manifest.format == .csv ? .csv : (manifest.format == .text ? .text : .ndjson)
        importOptions.maxErrors = 0
        // What an earlier release stored and exported (`{"k":1,"k":2}` in a context) comes back as it was.
        importOptions.keepsRepeatedNames = true
        // The facts were stored once already, some perhaps by a load with raised limits (`--max-args 20`):
        // judged by the default limits they were refused, and an archive `verify` passed could not be restored.
        // A statement with a control or invisible character, which an earlier release stored and the migration to
        // the current canonical form kept as it was, is in the archive as stored: it comes back so.
        importOptions.limits = Self.snapshotLimits
        importOptions.lockTimeoutSeconds = 1
        // PostgreSQL numbers its schema versions on its own: only a SQLite version 1 held the old form.
        let versionOne = manifest.schemaVersion <= CanonicalFormMigration.fromVersion
            && !PostgreSQLAddress.isPostgreSQL(manifest.sourceDatabase)
        importOptions.keepsStatementsAsWritten = versionOne
        let summary = ImportPipeline(options: importOptions).run()
        guard summary.status == .done, summary.rejected == 0, summary.inserted == Int(manifest.factCount) else {
            // A full disk under the target stops the import: the snapshot (which `verify` passes) is not at fault.
            if (summary.error as? StoreError)?.isDiskFull == true || isTargetDiskFull {
                throw noRoom("the import into it stopped: database or disk is full")
            }
            // Nor is it at fault when the new database could not be written (a limit on a file's size, `ulimit
            // -f`; a quota; an I/O error): reported as a count that differs, the sound archive passed for damaged.
            if let store = summary.error as? StoreError, store.isWriteFailure {
                throw SnapshotError(
                    .io, path: options.targetPath,
                    "the restored database could not be written (\(store.reason)); the archive itself is not judged: "
                        + "nothing was restored")
            }
            throw SnapshotError(
                .countMismatch, path: options.archivePath,
                "import of the snapshot did not give back its \(manifest.factCount) facts: \(summary.status.rawValue), "
                    + "\(summary.inserted) inserted, \(summary.duplicates) duplicates, \(summary.rejected) rejected"
                    + (summary.message.map { " (\($0))" } ?? ""))
        }
        try foldLog(of: temporary)
        let merged = versionOne ? try migrateAsVersionOne(temporary) : 0
        try foldLog(of: temporary)
        let facts = try checkDatabase(temporary, manifest, check: .full, merged: merged)
        try replaceTarget(with: temporary) { () throws(SnapshotError) in
            let fd = open(temporary, O_RDONLY | O_CLOEXEC)
            guard fd >= 0, fsync(fd) == 0 else {
                if fd >= 0 { close(fd) }
                throw SnapshotError(
                    .io, path: options.targetPath, "cannot sync the restored database: \(systemError())")
            }
            close(fd)
            guard AtomicFileOutput.move(temporary, to: options.targetPath, replacing: options.force) == 0 else {
                if errno == EEXIST && !options.force { throw Self.createdMeanwhile(options.targetPath) }
                throw SnapshotError(
                    .io, path: options.targetPath, "cannot rename the restored database into place: \(systemError())")
            }
            try AtomicFileOutput.syncFolder(of: options.targetPath)
        }
        return (facts, merged)
    }

    /// Folds the write-ahead log the import left beside the restored file into it, and makes sure none is
    /// left: SQLite's check reads the file alone (immutable), and a file renamed into place must hold
    /// every fact by itself. The import's own fold at its end can fail unseen when the disk fills: the
    /// half-folded file then read as "database disk image is malformed", and the restore blamed the
    /// archive (`database_damaged`) for what was a full disk.
    /// - Throws: `SnapshotError` `.io` naming the target's folder when the log cannot be folded in (the
    ///   disk is full, or another failure to write there).
    private func foldLog(of temporary: String) throws(SnapshotError) {
        let log = temporary + "-wal"
        guard (FileSize.bytes(log) ?? 0) > 0 else { return }
        var unfolded: String?
        do throws(StoreError) {
            let connection = try SQLiteConnection(path: temporary, create: false)
            connection.setBusyTimeout(milliseconds: 5_000)
            if try connection.scalarInt("PRAGMA wal_checkpoint(TRUNCATE)") != 0 {
                unfolded = "another connection kept it from being copied in"
            }
        } catch {
            if error.isDiskFull || isTargetDiskFull { throw noRoom(error.message) }
            unfolded = error.message
        }
        if unfolded == nil, (FileSize.bytes(log) ?? 0) > 0 { unfolded = "it is not empty after being copied in" }
        guard let unfolded else { return }
        if isTargetDiskFull { throw noRoom(unfolded) }
        throw SnapshotError(
            .io, path: AtomicFileOutput.folder(of: options.targetPath),
            "cannot fold the restored database's write-ahead log into it (\(unfolded)); nothing was restored")
    }

    /// True when the disk of the target's folder has (almost) no room left: under 1 MiB for this user.
    var isTargetDiskFull: Bool {
        var info = statvfs()
        guard statvfs(AtomicFileOutput.folder(of: options.targetPath), &info) == 0 else { return false }
        return Double(info.f_bavail) * Double(info.f_frsize) < Double(1 << 20)
    }

    /// The error of a restore that ran out of room on the target's disk, naming the target's folder: the
    /// archive is not judged (it was reported as damaged, or as not giving back its facts, and could
    /// have been deleted as bad).
    func noRoom(_ detail: String) -> SnapshotError {
        let folder = AtomicFileOutput.folder(of: options.targetPath)
        return SnapshotError(
            .io, path: folder,
            "no room left on this disk for the restored database (\(detail)); the archive itself is not judged: "
                + "free space there, or restore to another disk (nothing was restored)")
    }

    /// What a snapshot's records are read under: their form is judged but not their size, as
    /// `ForeignFactRow.restoreLimits` does (some facts were perhaps stored by a load with raised limits),
    /// within bounds that keep a restore's memory finite. Unbounded, a 49 KB archive holding one record
    /// padded with 1.5 GB of spaces took 3.1 GB of memory, and one statement of 25 million arguments
    /// 907 MB. The bounds are far past what a load accepts by default (a record of 1 MiB, a statement of
    /// 10 KiB, 10 arguments): a record of 64 MiB, a statement of 16 MiB, 100,000 arguments.
    static let snapshotLimits: FactLimits = {
        var limits = ForeignFactRow.restoreLimits
        limits.maxRecordBytes = 64 << 20
        limits.maxStatementBytes = 16 << 20
        limits.maxArgs = 100_000
        return limits
    }()

    /// Makes the database restored from a snapshot of a version-1 database what a writer makes of that
    /// database: its statements, loaded as written (the canonical form of then), are rewritten, and rows
    /// that now share a statement become the earliest one, the later ones kept in its `fact_metadata` under
    /// `merged_rows` (`CanonicalFormMigration`). Loaded in canonical form, such rows were duplicates of
    /// one another, and the restore failed. Returns how many rows were merged.
    private func migrateAsVersionOne(_ path: String) throws(SnapshotError) -> Int64 {
        try storeCall { () throws(StoreError) in
            let connection = try FactDatabase.openForWriting(path: path)
            try connection.execute("PRAGMA user_version = \(CanonicalFormMigration.fromVersion)")
            let result = try CanonicalFormMigration.migrateIfNeeded(connection)
            try SubjectIndexMigration.migrateIfNeeded(connection)
            let merged = result?.merged ?? 0
            if merged > 0 {
                // The ledger's count is the snapshot's rows: it says where the others went.
                let note = try connection.prepare(
                    "UPDATE factpipe_loads SET message = ?1 WHERE id = (SELECT max(id) FROM factpipe_loads)")
                try note.bind(
                    1, "a snapshot of a version-1 database: \(merged) of its rows merged into facts of the same "
                        + "statement, as migrating that database merges them (kept under merged_rows in their "
                        + "fact_metadata)")
                _ = try note.step()
            }
            return Int64(merged)
        }
    }

    /// Compares what the pass recomputed with the manifest and with `FILE.sha256`; throws the first
    /// difference.
    func verifyChecksums(
        _ reader: ArchiveReader, _ manifest: SnapshotManifest, content: ArchiveReader.Content, counted: Int64?
    ) throws(SnapshotError) {
        var report = VerificationReport(path: reader.path, manifest: manifest)
        report.contentBytes = content.bytes
        report.contentSHA256 = content.sha256.isEmpty ? nil : content.sha256
        report.compressedSHA256 = content.compressedSHA256
        guard report.contentSHA256 != nil || (manifest.compressedSHA256 != nil && content.compressedSHA256 != nil)
        else {
            throw SnapshotError(.hashMismatch, path: reader.path, "nothing to check the content against")
        }
        report.countedFacts = counted
        report.fileSHA256 = try reader.fileSHA256()
        if let first = ArchiveVerifier.compare(manifest, report, path: reader.path).first { throw first }
        if let recorded = try reader.recordedFileSHA256(), recorded != report.fileSHA256 {
            throw SnapshotError(.fileHashMismatch, path: reader.path, "file hash differs from \(reader.path).sha256")
        }
    }

    /// Lets SQLite check the restored file; returns its fact count, which must be the manifest's.
    /// `merged` rows of a version-1 snapshot were merged into facts of the same statement
    /// (`migrateAsVersionOne`): the database holds that many facts fewer than the manifest counts.
    func checkDatabase(
        _ path: String, _ manifest: SnapshotManifest, check: IntegrityCheck, merged: Int64 = 0
    ) throws(SnapshotError) -> Int64 {
        let report: DatabaseCheck.Report
        do {
            report = try DatabaseCheck.inspect(path: path, check: check)
        } catch {
            if error.kind == .foreignDatabase {
                throw SnapshotError(
                    .notAFactpipeDatabase, path: options.archivePath,
                    "the database inside is not a factpipe database: \(error.message); a restore puts only a "
                        + "factpipe database in place, so nothing was restored")
            }
            if error.isOutOfMemory {
                // Memory SQLite could not have (ulimit -v, a cgroup's limit): not the archive's fault.
                throw SnapshotError(
                    .io, path: options.archivePath,
                    "not enough memory to check the restored database (\(error.message)); the archive itself is not "
                        + "judged: free memory or raise the limit, and run again")
            }
            // A file cut short by a full disk reads as damaged: the disk is named, not the archive.
            if error.isDiskFull || isTargetDiskFull { throw noRoom(error.message) }
            throw SnapshotError(
                .databaseDamaged, path: options.archivePath, "the restored database cannot be read: \(error.message)")
        }
        if let first = report.problems.first {
            throw SnapshotError(
                .databaseDamaged, path: options.archivePath,
                "the restored database fails PRAGMA \(check.rawValue): \(first)")
        }
        guard report.factCount + merged == manifest.factCount else {
            throw SnapshotError(
                .countMismatch, path: options.archivePath,
                "count differs: the restored database has \(report.factCount) facts"
                    + (merged > 0 ? " and \(merged) merged into them" : "")
                    + ", the manifest says \(manifest.factCount)")
        }
        // A backup is the database as it was; a snapshot's facts went into a database of this release's
        // schema, whatever the version of the one exported (another store's, or an older release's).
        guard manifest.format != .sqlite || report.schemaVersion == manifest.schemaVersion else {
            throw SnapshotError(
                .databaseDamaged, path: options.archivePath,
                "the restored database has schema version \(report.schemaVersion), "
                    + "the manifest says \(manifest.schemaVersion)")
        }
        return report.factCount
    }

    /// Gives `temporary` the owner and group of the database it replaces (when there is one), so that
    /// the user a service runs as can still open its database after root restored it. Without the
    /// privilege to give it away (not root), the file keeps its owner and takes the group if it can.
    private func copyOwner(to temporary: String) throws(SnapshotError) {
        var info = stat()
        guard stat(options.targetPath, &info) == 0, info.st_uid != geteuid() || info.st_gid != getegid() else { return }
        if chown(temporary, info.st_uid, info.st_gid) == 0 { return }
        guard errno == EPERM else {
            throw SnapshotError(
                .io, path: options.targetPath, "cannot give the restored database its owner: \(systemError())")
        }
        _ = chown(temporary, uid_t.max, info.st_gid)
    }

    /// Under the target's writer lock (no factpipe load writes to it meanwhile): gives the new file the
    /// replaced database's owner, group and permissions, removes that database's `-wal` and `-shm` (they belong to the
    /// old file and would be replayed into the new one), then runs `rename`.
    static func createdMeanwhile(_ target: String) -> SnapshotError {
        SnapshotError(
            .targetExists, path: target,
            "was created while the restore ran; it is left as it is and nothing was restored (restore to another "
                + "path, or give --force to replace it)")
    }

    func replaceTarget(
        with temporary: String, _ rename: () throws(SnapshotError) -> Void
    ) throws(SnapshotError) {
        let lock = try storeCall { () throws(StoreError) in
            try WriterLock(
                databasePath: options.targetPath, timeoutSeconds: 10, description: "restore of \(options.archivePath)")
        }
        defer { withExtendedLifetime(lock) {} }
        // Without --force nothing was at the target when the restore began. A database made there since (a
        // load that created it, another restore) is left as it is: looked at again under its writer lock,
        // which such a load holds while it runs, and the rename itself does not replace one.
        var info = stat()
        if lstat(options.targetPath, &info) == 0 {
            guard options.force else { throw Self.createdMeanwhile(options.targetPath) }
            // Looked at again: a file made there since the start is replaced only if --force would have
            // replaced it then (a factpipe database or an empty file).
            if let problem = Self.replacementProblem(options.targetPath) {
                throw SnapshotError(.targetNotADatabase, path: options.targetPath, problem)
            }
            placedOverAFile.value.store(true, ordering: .relaxed)
        }
        try copyOwner(to: temporary)
        let mode =
            AtomicFileOutput.permissions(of: options.targetPath)
            ?? AtomicFileOutput.permissions(of: options.archivePath).map { $0 & 0o666 } ?? 0o644
        guard chmod(temporary, mode) == 0 else {
            throw SnapshotError(
                .io, path: options.targetPath, "cannot set the restored database's permissions: \(systemError())")
        }
        // A rollback journal left by a program that crashed while writing the replaced database would be
        // played back into the restored one by the first program to open it (old pages, old page size).
        // Moved aside, not removed, until the new file is in place: a rename that failed (an immutable file, a
        // database bind-mounted into a container) left the old database without its log, the transactions
        // committed there lost, and the restore said the target was left as it was. Moved and replaced as one
        // against an interrupt: between the two, the old database is without its log.
        try TemporaryFiles.puttingInPlace { () throws(SnapshotError) in
            var aside = SetAside()
            for suffix in ["-wal", "-shm", "-journal"] {
                try aside.move(options.targetPath + suffix, what: "the replaced database's \(suffix) file")
            }
            do throws(SnapshotError) {
                try rename()
            } catch {
                // Only beside the old database: after the new one is in place, the old log would be replayed into it.
                if access(temporary, F_OK) == 0 { aside.putBack() } else { aside.discard() }
                throw error
            }
            aside.discard()
        }
    }
}
