import Dispatch

/// The restore of a backup: its database decoded into a temporary file, verified, renamed into place.
extension ArchiveRestorer {
    /// Decodes the backup into a temporary file, checks it, and renames it over the target: in
    /// parallel when its frames record their content sizes (backups are written so), else in order.
    /// Returns the fact count and the number of frames decoded in parallel (0 when in order).
    func restoreBackup(
        _ reader: ArchiveReader, _ manifest: SnapshotManifest, check: IntegrityCheck
    ) throws(SnapshotError) -> (facts: Int64, parallelFrames: Int) {
        guard manifest.format == .sqlite else {
            throw SnapshotError(.manifestDamaged, path: reader.path, "a backup's manifest must say format sqlite")
        }
        // The database to be replaced keeps its bytes until the rename, but its cached pages are dropped
        // now, on another thread, so that the new file is written into the memory they free: on the
        // virtual machine of docs/speed.md's figures, writing 500 MB into memory that had been free for a
        // while made the decoding 4-5 times slower (0.65-0.75 s instead of 0.15 s). The rename then
        // has no pages to drop either. Done before the file is checked.
        let target = options.targetPath
        let dropping = BackgroundResult { () throws(SnapshotError) -> Bool in
            AtomicFileOutput.dropCachedPages(of: target)
            return true
        }
        defer { _ = try? dropping.wait() }
        // Decoding in parallel leaves the content unhashed: the compressed frames' SHA-256 must vouch for it.
        if manifest.compressedSHA256 != nil, let layout = try reader.frameLayout(), layout.frames.count > 1 {
            return (
                try restoreBackupInParallel(reader, manifest, layout, check: check, droppingCache: dropping),
                layout.frames.count
            )
        }
        return (try restoreBackupInOrder(reader, manifest, check: check, droppingCache: dropping), 0)
    }

    /// Decodes the frames on one thread a core, each into its place in the temporary file; then
    /// SQLite checks the file while this thread hashes the compressed frames and the file goes to disk.
    ///
    /// ```
    /// frames ─▶ N decoding threads ─▶ file ─┬─▶ SQLite: quick_check, count, schema version ─┐
    ///                                        ├─▶ fsync                                       ├─▶ rename
    ///                                        └─▶ compressed frames' SHA-256 (and the file's) ─┘
    /// ```
    /// SQLite reads bytes not yet proven to be the backup's, but nothing is replaced until all three
    /// have succeeded, and a hash that differs is reported before whatever SQLite found. The file
    /// written is hashed as well, on this thread, against the manifest's `content_sha256`.
    /// `droppingCache` (the replaced database's pages) is waited for once the frames are written.
    private func restoreBackupInParallel(
        _ reader: ArchiveReader, _ manifest: SnapshotManifest, _ layout: ZstdFrameLayout, check: IntegrityCheck,
        droppingCache: BackgroundResult<Bool>
    ) throws(SnapshotError) -> Int64 {
        // Frames of another total size cannot hold the backed-up database: refused before any byte is written.
        var sizes = VerificationReport(path: reader.path, manifest: manifest)
        sizes.contentBytes = layout.contentBytes
        if let first = ArchiveVerifier.compare(manifest, sizes, path: reader.path).first { throw first }

        // Private until `replaceTarget` gives it the target's permissions as it renames it.
        let output = try AtomicFileOutput(
            path: options.targetPath, hashes: false, sparse: true, mode: AtomicFileOutput.privateMode)
        defer { output.abandon() }
        guard let writer = output.positionedWriter, let temporary = output.temporaryPath else {
            throw SnapshotError(.io, path: options.targetPath, "the target must be a regular file")
        }
        let decoder = ParallelFrameDecoder(
            layout: layout, archive: reader.descriptor, archiveName: reader.path, output: writer,
            threads: ParallelFrameDecoder.threads(for: layout))
        decoder.start()
        try decoder.wait()
        _ = try droppingCache.wait()
        try output.finishWriting(size: layout.contentBytes, syncing: false)
        return try checkAndReplace(output, temporary, manifest, check: check) { () throws(SnapshotError) in
            // The written file is hashed too, while SQLite checks it: the compressed frames' SHA-256 proves the
            // frames, not the manifest's `content_sha256`, and a backup whose `content_sha256` was wrong was
            // restored although `verify` refused it. (The file was just written: it is read from memory.)
            let written = try ArchiveInput(path: temporary)
            let content = ArchiveReader.Content(
                bytes: layout.contentBytes, sha256: try written.finishFileHash() ?? "",
                compressedSHA256: try reader.hashCompressedFrames())
            try verifyChecksums(reader, manifest, content: content, counted: nil)
        }
    }

    /// Decodes the frames in order on this thread while another writes the file (a backup written as
    /// one streamed frame, whose size is not in its header), then checks and renames the file.
    /// `droppingCache` (the replaced database's pages) is waited for once the content is written.
    private func restoreBackupInOrder(
        _ reader: ArchiveReader, _ manifest: SnapshotManifest, check: IntegrityCheck,
        droppingCache: BackgroundResult<Bool>
    ) throws(SnapshotError) -> Int64 {
        // Free pages stay holes, as with `zstd -d`; this thread decodes while another writes. When the
        // manifest has the compressed frames' SHA-256, the bytes read are checked against it (decoding
        // is deterministic, so they decode to the content the backup hashed); otherwise the writer
        // thread hashes the content.
        let hashesContent = manifest.compressedSHA256 == nil
        // Private until `replaceTarget` gives it the target's permissions as it renames it.
        let output = try AtomicFileOutput(
            path: options.targetPath, hashes: hashesContent, sparse: true, mode: AtomicFileOutput.privateMode)
        // Removed here on every failure: the writer thread's last reference may outlive this call.
        defer { output.abandon() }
        let writer = BackgroundWriter(sink: output)
        var content: ArchiveReader.Content
        do throws(SnapshotError) {
            content = try reader.readContent(hashing: false, limit: manifest.contentBytes) {
                piece throws(SnapshotError) in try writer.write(piece)
            }
            try writer.finish()
        } catch {
            writer.stop()
            throw error
        }
        _ = try droppingCache.wait()
        // The output hashed what it wrote, on the writer's thread: that is the content's SHA-256.
        content.sha256 = try output.finishWriting(syncing: false)
        try verifyChecksums(reader, manifest, content: content, counted: nil)
        guard let temporary = output.temporaryPath else {
            throw SnapshotError(.io, path: options.targetPath, "the target must be a regular file")
        }
        return try checkAndReplace(output, temporary, manifest, check: check) {}
    }

    /// Lets SQLite check the written file on another thread while the file goes to disk and this
    /// thread runs `verify`; once all three have succeeded, renames the file over the target.
    /// Returns the fact count.
    private func checkAndReplace(
        _ output: AtomicFileOutput, _ temporary: String, _ manifest: SnapshotManifest, check: IntegrityCheck,
        verify: () throws(SnapshotError) -> Void
    ) throws(SnapshotError) -> Int64 {
        let sync = BackgroundResult(label: "factpipe.sync") { () throws(SnapshotError) in try syncFile(temporary) }
        let inspection = BackgroundResult { () throws(SnapshotError) -> Int64 in
            try checkDatabase(temporary, manifest, check: check)
        }
        // Each is waited for once, whatever fails; a hash that differs is reported first.
        var verified = Result<Void, SnapshotError>.success(())
        do throws(SnapshotError) {
            try verify()
        } catch {
            verified = .failure(error)
        }
        let facts = Result { () throws(SnapshotError) -> Int64 in try inspection.wait() }
        let synced = Result { () throws(SnapshotError) in try sync.wait() }
        try verified.get()
        let count = try facts.get()
        try synced.get()
        try replaceTarget(with: temporary) { () throws(SnapshotError) in
            do throws(SnapshotError) {
                try output.commit(replacing: options.force)
            } catch where error.kind == .targetExists {
                throw Self.createdMeanwhile(options.targetPath)
            }
        }
        return count
    }
}
