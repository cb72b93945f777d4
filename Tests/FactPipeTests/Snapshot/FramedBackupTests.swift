import Foundation
import Testing

@testable import FactPipe

/// Backups written as frames of a fixed content size, each recording it.
@Suite struct FramedBackupTests {
    /// Content per frame in these tests: many frames for the small test database, and frame edges
    /// that fall inside 4 KiB blocks and database pages.
    private static let frameBytes: Int64 = 5000

    private func backup(_ work: LoadWorkspace, frameBytes: Int64 = FramedBackupTests.frameBytes) throws -> ArchiveResult {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        var options = BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        options.frameContentBytes = frameBytes
        return try DatabaseBackup(options: options).run()
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
        #expect(try fileSHA256(unpacked) == manifest.contentSHA256)
        #expect(try storedFacts(unpacked) == (try storedFacts(work.databasePath)))
        #expect(try String(contentsOfFile: result.path + ".sha256", encoding: .utf8).hasPrefix(try fileSHA256(result.path)))
        let report = ArchiveVerifier(path: result.path, databaseCheck: .full).run()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.checkedChecksumFile)
    }
}
