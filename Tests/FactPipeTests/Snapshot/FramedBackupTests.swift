import Foundation
import Testing

@testable import FactPipe

/// Backups written as frames of a fixed content size, each recording it, and their restore in
/// parallel; backups written as one frame, as earlier versions did, still restore in order.
@Suite struct FramedBackupTests {
    /// Content per frame in these tests: many frames for the small test database, and frame edges
    /// that fall inside 4 KiB blocks and database pages.
    private static let frameBytes: Int64 = 5000

    private func backup(_ work: LoadWorkspace, frameBytes: Int64 = FramedBackupTests.frameBytes) throws -> ArchiveResult
    {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        var options = BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        options.frameContentBytes = frameBytes
        return try DatabaseBackup(options: options).run()
    }

    private func restore(_ archive: String, to target: String, force: Bool = false) throws -> RestoreResult {
        var options = RestoreOptions(archivePath: archive, targetPath: target)
        options.force = force
        return try ArchiveRestorer(options: options).run()
    }

    /// Where the manifest frame starts, i.e. where the content's frames end.
    private func framesEnd(_ path: String) throws -> Int64 {
        guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: path)) else {
            throw SnapshotError(.missingManifest, path: path, "no manifest")
        }
        return offset
    }

    private func layout(_ path: String) throws -> ZstdFrameLayout? {
        try ZstdFrameLayout.scan(ArchiveInput(path: path), end: try framesEnd(path))
    }

    @Test func aBackupIsFramesOfTheGivenSizeEachRecordingItAndZstdStillGivesTheDatabase() throws {
        let work = try loadedWorkspace()
        let result = try backup(work)
        let manifest = result.manifest
        let frames = try #require(try layout(result.path)).frames
        let expected = (manifest.contentBytes + Self.frameBytes - 1) / Self.frameBytes
        #expect(frames.count == Int(expected) && frames.count > 10)
        #expect(frames.dropLast().allSatisfy { $0.contentBytes == Self.frameBytes })
        #expect(frames.map(\.contentBytes).reduce(0, +) == manifest.contentBytes)
        #expect(frames.first?.fileOffset == 0)
        for (frame, next) in zip(frames, frames.dropFirst()) {
            #expect(next.fileOffset == frame.fileOffset + frame.compressedBytes)
            #expect(next.contentOffset == frame.contentOffset + frame.contentBytes)
        }
        #expect(frames.last.map { $0.fileOffset + $0.compressedBytes } == (try framesEnd(result.path)))

        // Concatenated frames are one zstd stream: `zstd -d` gives the database the manifest describes.
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", result.path, "-o", unpacked])
        #expect(try sha256sum(unpacked) == manifest.contentSHA256)
        #expect(try storedFacts(unpacked) == (try storedFacts(work.databasePath)))
        #expect(
            try String(contentsOfFile: result.path + ".sha256", encoding: .utf8).hasPrefix(try sha256sum(result.path)))
        let report = ArchiveVerifier(path: result.path, databaseCheck: .full).run()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.checkedChecksumFile)
    }

    @Test func aBackupOfManyFramesRestoresByteForByte() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work).path
        let target = try databaseCopy(work, "restored.sqlite")
        try work.write("restored.sqlite-wal", "stale write-ahead log")
        let result = try restore(archive, to: target, force: true)
        #expect(result.parallelFrames == (try layout(archive)?.frames.count) && result.parallelFrames > 10)
        #expect(result.factCount == Int64(roundTripFixtureFacts))
        #expect(result.databaseCheck == .quick)
        #expect(result.replacedExisting)
        #expect(!FileManager.default.fileExists(atPath: target + "-wal"))
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", archive, "-o", unpacked])
        #expect(try bytes(target) == (try bytes(unpacked)))
        #expect(
            try folderContents(work.directory.url.path).filter { $0.hasPrefix("restored") || $0.hasPrefix(".restored") }
                == ["restored.sqlite", "restored.sqlite-factpipe.lock"])
    }

    @Test(arguments: [1, 2, 3, 7])
    func theFrameDecoderWritesEachFrameInItsPlaceWhateverTheThreads(threads: Int) throws {
        let work = try loadedWorkspace()
        let archive = try backup(work).path
        let layout = try #require(try layout(archive))
        let input = try ArchiveInput(path: archive)
        let output = try AtomicFileOutput(path: work.path("decoded.sqlite"), hashes: false, sparse: true)
        defer { output.abandon() }
        let writer = try #require(output.positionedWriter)
        let decoder = ParallelFrameDecoder(
            layout: layout, archive: input.descriptor, archiveName: archive, output: writer, threads: threads)
        decoder.start()
        try decoder.wait()
        try output.finishWriting(size: layout.contentBytes, syncing: false)
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", archive, "-o", unpacked])
        #expect(try bytes(try #require(output.temporaryPath)) == (try bytes(unpacked)))
    }

    @Test func aBackupWrittenAsOneStreamedFrameStillRestores() throws {
        // As earlier versions wrote it: one frame that does not record its size, then the manifest.
        let work = try loadedWorkspace()
        let (old, unpacked) = try streamedBackup(of: try backup(work), in: work, named: "old.db.zst")
        #expect(try layout(old) == nil)

        let result = try restore(old, to: work.path("restored.sqlite"))
        #expect(result.parallelFrames == 0)
        #expect(result.factCount == Int64(roundTripFixtureFacts))
        #expect(try bytes(work.path("restored.sqlite")) == (try bytes(unpacked)))
        #expect(ArchiveVerifier(path: old).run().isValid)
    }

    /// Frames decoded in parallel were proven by the compressed frames' SHA-256 alone: a backup whose
    /// manifest gave a wrong `content_sha256` was restored, though `verify` refused it. Both refuse it.
    @Test func aBackupWhoseContentHashIsWrongIsNotRestoredInParallel() throws {
        let work = try loadedWorkspace()
        let current = try backup(work)
        let end = try framesEnd(current.path)
        var manifest = current.manifest
        manifest.contentSHA256 = String(repeating: "0", count: 64)
        let lying = work.path("lying.db.zst")
        try write(
            Array(try bytes(current.path).prefix(Int(end))) + SkippableFrame.encode(manifestJSON: manifest.json),
            to: lying)
        #expect(try (layout(lying)?.frames.count ?? 0) > 1)
        #expect(ArchiveVerifier(path: lying).run().problems.map(\.kind) == [.hashMismatch])
        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        let error = snapshotError { try restore(lying, to: target, force: true) }
        #expect(error?.kind == .hashMismatch, "\(String(describing: error))")
        #expect(error?.message.contains("content hash differs") == true)
        #expect(try bytes(target) == precious)
    }

    /// One frame without its size holding 64 MiB more than the manifest says: the restore decoded it all
    /// beside the target before it compared the sizes. It stops as soon as the content runs past them.
    @Test func aRestoreInOrderStopsWhereTheManifestSaysTheContentEnds() throws {
        let work = try loadedWorkspace()
        let bomb = try streamedBackup(of: try backup(work), padding: 64 << 20, in: work, named: "bomb.db.zst").path
        #expect(try layout(bomb) == nil)

        let error = snapshotError { try restore(bomb, to: work.path("restored.sqlite")) }
        #expect(error?.kind == .sizeMismatch, "\(String(describing: error))")
        #expect(error?.message.contains("decoding stopped") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: work.path("restored.sqlite")))
    }

    @Test func aDamagedFrameChangesNothing() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work).path
        let frames = try #require(try layout(archive)).frames
        let middle = frames[frames.count / 2]
        let start = Int(middle.fileOffset)
        let size = Int(middle.compressedBytes)
        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        let before = try folderContents(work.directory.url.path)
        // The frame's header (its content size: refused before anything is written), its first
        // block's header, a byte of its data, its checksum.
        for offset in [start + 4, start + 6, start + size / 2, start + size - 2] {
            let damaged = work.path("damaged.db.zst")
            try copyFlippingByte(archive, to: damaged, at: offset)
            let error = snapshotError { try restore(damaged, to: target, force: true) }
            #expect(
                error.map { [.corruptFrame, .truncated, .hashMismatch, .sizeMismatch].contains($0.kind) } == true,
                "byte \(offset): \(String(describing: error))")
            #expect(try bytes(target) == precious)
            #expect(!ArchiveVerifier(path: damaged).run().isValid, "byte \(offset)")
            try FileManager.default.removeItem(atPath: damaged)
        }
        #expect(try folderContents(work.directory.url.path).filter { !$0.hasPrefix("target.sqlite-") } == before)
    }

    @Test func aManyFrameBackupWithFramesMissingOrCutIsRefused() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work).path
        let whole = try bytes(archive)
        let end = Int(try framesEnd(archive))
        let frames = try #require(try layout(archive)).frames
        let middle = frames[frames.count / 2]
        let manifestFrame = Array(whole[end...])
        let cases: [(String, [UInt8], Set<SnapshotError.Kind>)] = [
            ("half.db.zst", Array(whole.prefix(whole.count / 2)), [.missingManifest, .truncated]),
            // The last frame gone, the manifest kept: fewer bytes than the manifest says.
            (
                "short.db.zst", Array(whole[..<Int(frames[frames.count - 1].fileOffset)]) + manifestFrame,
                [.sizeMismatch]
            ),
            // A middle frame cut in two, the rest kept.
            (
                "cut.db.zst",
                Array(whole[..<Int(middle.fileOffset + middle.compressedBytes / 2)])
                    + Array(whole[Int(middle.fileOffset + middle.compressedBytes)...]),
                [.truncated, .corruptFrame, .hashMismatch, .sizeMismatch]
            ),
            // A middle frame left out.
            (
                "gap.db.zst",
                Array(whole[..<Int(middle.fileOffset)])
                    + Array(whole[Int(middle.fileOffset + middle.compressedBytes)...]),
                [.sizeMismatch]
            ),
        ]
        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        for (name, content, kinds) in cases {
            try write(content, to: work.path(name))
            let error = snapshotError { try restore(work.path(name), to: target, force: true) }
            #expect(error.map { kinds.contains($0.kind) } == true, "\(name): \(String(describing: error))")
            #expect(try bytes(target) == precious, "\(name)")
        }
        #expect(try folderContents(work.directory.url.path).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aDatabaseThatFailsItsCheckOnceItsHashesMatchChangesNothing() throws {
        let work = try loadedWorkspace()
        let current = try backup(work)
        let whole = try bytes(current.path)
        let end = Int(try framesEnd(current.path))
        let pageSize = try RawDatabase(work.databasePath).int("PRAGMA page_size")
        let root = try RawDatabase(work.databasePath).int("SELECT rootpage FROM sqlite_master WHERE name = 'facts'")

        // Sound frames, with a manifest that counts one fact more; in frames and as one streamed frame.
        var manifest = current.manifest
        manifest.factCount += 1
        try write(
            Array(whole[..<end]) + SkippableFrame.encode(manifestJSON: manifest.json), to: work.path("count.db.zst"))
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", current.path, "-o", unpacked])
        let streamed = work.path("streamed.zst")
        try runTool("/bin/sh", ["-c", "/usr/bin/zstd -3 -q -c < '\(unpacked)' > '\(streamed)'"])
        manifest.compressedSHA256 = try sha256sum(streamed)
        try write(try bytes(streamed) + SkippableFrame.encode(manifestJSON: manifest.json), to: work.path("old.db.zst"))

        // A database whose facts table's root page is not a b-tree page, in two frames that record
        // their sizes, with a manifest that has the right hashes.
        var damaged = try bytes(unpacked)
        damaged[(root - 1) * pageSize] = 0
        let half = damaged.count / 2
        try write(Array(damaged[..<half]), to: work.path("first"))
        try write(Array(damaged[half...]), to: work.path("second"))
        try zstdCLI(work.path("first"), work.path("first.zst"))
        try zstdCLI(work.path("second"), work.path("second.zst"))
        let frames = try bytes(work.path("first.zst")) + (try bytes(work.path("second.zst")))
        try write(frames, to: work.path("frames.zst"))
        try write(damaged, to: work.path("damaged.sqlite"))
        manifest = current.manifest
        manifest.contentSHA256 = try sha256sum(work.path("damaged.sqlite"))
        manifest.compressedSHA256 = try sha256sum(work.path("frames.zst"))
        try write(frames + SkippableFrame.encode(manifestJSON: manifest.json), to: work.path("damaged.db.zst"))
        #expect(try layout(work.path("damaged.db.zst"))?.frames.count == 2)

        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        let cases: [(String, SnapshotError.Kind)] = [
            ("count.db.zst", .countMismatch), ("old.db.zst", .countMismatch), ("damaged.db.zst", .databaseDamaged),
        ]
        for (name, kind) in cases {
            let error = snapshotError { try restore(work.path(name), to: target, force: true) }
            #expect(error?.kind == kind, "\(name): \(String(describing: error))")
            #expect(try bytes(target) == precious, "\(name)")
        }
        #expect(try folderContents(work.directory.url.path).filter { $0.hasPrefix(".") }.isEmpty)
    }
}
