import Foundation
import Testing

@testable import FactPipe

/// `SnapshotRetention`: which old snapshots of a pipeline go, judged by their manifests alone.
@Suite struct SnapshotRetentionTests {
    /// A real snapshot's manifest, to copy with other dates, databases or kinds.
    private func manifest(_ work: LoadWorkspace) throws -> SnapshotManifest {
        try export(work, to: "real.ndjson.zst").manifest
    }

    /// Writes a compressed snapshot at `path` whose manifest frame is intact and whose data frames are
    /// `body` after the zstd magic (garbage unless told otherwise).
    private func writeArchive(_ path: String, body: [UInt8], manifest: SnapshotManifest) throws {
        let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        try writeArchive(path, frames: magic + body, manifest: manifest)
    }

    private func writeArchive(_ path: String, frames: [UInt8], manifest: SnapshotManifest) throws {
        try write(frames + SkippableFrame.encode(manifestJSON: manifest.json), to: path)
    }

    private func dated(_ manifest: SnapshotManifest, _ createdAt: String) -> SnapshotManifest {
        var copy = manifest
        copy.createdAt = createdAt
        return copy
    }

    /// Bytes this thread has read through read(2) and pread(2) so far (`rchar` in /proc/thread-self/io).
    private func bytesReadByThisThread() throws -> Int {
        try bytesRead("/proc/thread-self/io")
    }

    /// Bytes the whole process has read so far (other tests' reads included).
    private func bytesReadByThisProcess() throws -> Int {
        try bytesRead("/proc/self/io")
    }

    private func bytesRead(_ accounting: String) throws -> Int {
        let text = try String(contentsOfFile: accounting, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces)))
    }

    @Test func keepsTheNewestByManifestDateAndNeverTheOneJustWritten() throws {
        let work = try loadedWorkspace()
        let real = try manifest(work)
        let garbage = [UInt8](repeating: 0x41, count: 64)
        let pattern = work.path("snap-{date}.ndjson.zst")
        // Names sort in another order than the dates the manifests record.
        for (name, date) in [("2023-01-01", "2024-03-01"), ("2023-03-01", "2024-01-01"), ("2023-02-01", "2024-02-01")] {
            try writeArchive(work.path("snap-\(name).ndjson.zst"), body: garbage, manifest: dated(real, "\(date)T00:00:00Z"))
        }
        try write(Array("hash\n".utf8), to: work.path("snap-2023-03-01.ndjson.zst.sha256"))
        // Not this database's snapshots: another database's, a backup of this one, a stray file.
        var other = dated(real, "2020-01-01T00:00:00Z")
        other.sourceDatabase = "/elsewhere/kb.sqlite"
        try writeArchive(work.path("snap-2023-04-01.ndjson.zst"), body: garbage, manifest: other)
        var backup = dated(real, "2020-01-01T00:00:00Z")
        backup.kind = .backup
        try writeArchive(work.path("snap-2023-05-01.ndjson.zst"), body: garbage, manifest: backup)
        try write(Array("not an archive".utf8), to: work.path("snap-2023-06-01.ndjson.zst"))
        // Another pipeline's snapshots of the same database, named by another pattern that the glob of
        // this one also matches (`snap-*`): never this pipeline's to delete, however old.
        try writeArchive(work.path("snap-weekly-2023-01-01.ndjson.zst"), body: garbage,
                         manifest: dated(real, "1999-01-01T00:00:00Z"))
        try writeArchive(work.path("snap-2023-1-1.ndjson.zst"), body: garbage,
                         manifest: dated(real, "1999-01-01T00:00:00Z"))
        // The one just written records the oldest date of all; it stays all the same.
        let justWritten = work.path("snap-2023-07-01.ndjson.zst")
        try writeArchive(justWritten, body: garbage, manifest: dated(real, "2000-01-01T00:00:00Z"))

        let retention = SnapshotRetention(
            pattern: pattern, sourceDatabase: real.sourceDatabase, databaseID: real.databaseID)
        let removed = try retention.prune(keeping: 2, justWritten: justWritten)
        #expect(removed == [work.path("snap-2023-03-01.ndjson.zst"), work.path("snap-2023-02-01.ndjson.zst")])
        let left = try folderContents(work.path(".")).filter { $0.hasPrefix("snap-") }.sorted()
        #expect(left == [
            "snap-2023-01-01.ndjson.zst", "snap-2023-04-01.ndjson.zst", "snap-2023-05-01.ndjson.zst",
            "snap-2023-06-01.ndjson.zst", "snap-2023-07-01.ndjson.zst", "snap-2023-1-1.ndjson.zst",
            "snap-weekly-2023-01-01.ndjson.zst",
        ])
        // Keeping one leaves only the one just written of this database's snapshots.
        #expect(try retention.prune(keeping: 1, justWritten: justWritten) == [work.path("snap-2023-01-01.ndjson.zst")])
        #expect(FileManager.default.fileExists(atPath: justWritten))
    }

    /// A filtered export of the database (`export --predicate`) named like the pipeline's snapshots holds part
    /// of it: counted among the kept, it pushed a whole snapshot out. It is neither kept nor deleted.
    @Test func aFilteredExportNamedLikeTheSnapshotsIsNeitherCountedNorDeleted() throws {
        let work = try loadedWorkspace()
        let real = try manifest(work)
        let garbage = [UInt8](repeating: 0x41, count: 64)
        try writeArchive(work.path("snap-2023-01-01.ndjson.zst"), body: garbage, manifest: dated(real, "2024-01-01T00:00:00Z"))
        var part = dated(real, "2024-02-01T00:00:00Z")
        part.filter = try #require(FactFilter(predicates: ["IsA"], since: nil))
        try writeArchive(work.path("snap-2023-02-01.ndjson.zst"), body: garbage, manifest: part)
        var recent = dated(real, "2024-02-15T00:00:00Z")
        recent.filter = try #require(FactFilter(predicates: [], since: "2024-02-01T00:00:00Z"))
        try writeArchive(work.path("snap-2023-02-15.ndjson.zst"), body: garbage, manifest: recent)
        let justWritten = work.path("snap-2023-03-01.ndjson.zst")
        try writeArchive(justWritten, body: garbage, manifest: dated(real, "2024-03-01T00:00:00Z"))
        let retention = SnapshotRetention(
            pattern: work.path("snap-{date}.ndjson.zst"), sourceDatabase: real.sourceDatabase,
            databaseID: real.databaseID)
        #expect(try retention.prune(keeping: 2, justWritten: justWritten).isEmpty)
        #expect(try retention.prune(keeping: 1, justWritten: justWritten) == [work.path("snap-2023-01-01.ndjson.zst")])
        #expect(FileManager.default.fileExists(atPath: work.path("snap-2023-02-01.ndjson.zst")))
        #expect(FileManager.default.fileExists(atPath: work.path("snap-2023-02-15.ndjson.zst")))
    }

    /// The snapshot path is a name with `{date}` in it, not a pattern: in a folder `s[1]` (or `s*`) the old
    /// snapshots were matched as `s1/…` and none was ever pruned.
    @Test func aFolderWithWildcardCharactersIsTakenAsItIsWritten() throws {
        let work = try loadedWorkspace()
        let real = try manifest(work)
        let garbage = [UInt8](repeating: 0x41, count: 64)
        for folder in ["s[1]", "s1", "s*"] {
            try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: false)
        }
        for (folder, date) in [("s[1]", "2023-01-01"), ("s[1]", "2023-02-01"), ("s1", "2022-01-01"), ("s*", "2021-01-01")] {
            try writeArchive(work.path("\(folder)/kb-\(date).ndjson.zst"), body: garbage,
                             manifest: dated(real, "\(date)T00:00:00Z"))
        }
        let pattern = work.path("s[1]/kb-{date}.ndjson.zst")
        let retention = SnapshotRetention(
            pattern: pattern, sourceDatabase: real.sourceDatabase, databaseID: real.databaseID)
        #expect(retention.candidates() == ["2023-01-01", "2023-02-01"].map { work.path("s[1]/kb-\($0).ndjson.zst") })
        let removed = try retention.prune(keeping: 1, justWritten: work.path("s[1]/kb-2023-02-01.ndjson.zst"))
        #expect(removed == [work.path("s[1]/kb-2023-01-01.ndjson.zst")])
        #expect(FileManager.default.fileExists(atPath: work.path("s1/kb-2022-01-01.ndjson.zst")))
        #expect(FileManager.default.fileExists(atPath: work.path("s*/kb-2021-01-01.ndjson.zst")))
    }

    /// An old snapshot whose data frames are damaged but whose manifest is intact is counted and deleted
    /// by its age, and pruning reads a few kilobytes of it, not its content: it is not decompressed.
    @Test func judgesOldSnapshotsByTheirManifestWithoutReadingTheirContent() throws {
        let work = try loadedWorkspace()
        let real = try manifest(work)
        // 8 MiB of zstd frames (random bytes, so they stay that size) with a byte damaged near their end.
        var random = SystemRandomNumberGenerator()
        let content = (0..<(1 << 20)).flatMap { _ in withUnsafeBytes(of: random.next() as UInt64) { Array($0) } }
        try write(content, to: work.path("content"))
        try runTool("/usr/bin/zstd", ["-q", "-f", "--no-check", work.path("content"), "-o", work.path("content.zst")])
        var frames = try bytes(work.path("content.zst"))
        let size = frames.count
        try #require(size >= 8 << 20)
        frames[size - size / 16] ^= 0xFF
        let old = work.path("snap-2024-01-01.ndjson.zst")
        // Its manifest gives the content's size: `verify` stops decoding where the manifest says it ends.
        var oldManifest = dated(real, "2024-01-01T00:00:00Z")
        oldManifest.contentBytes = Int64(content.count)
        try writeArchive(old, frames: frames, manifest: oldManifest)
        let justWritten = work.path("snap-2026-01-01.ndjson.zst")
        try writeArchive(justWritten, body: [0x41], manifest: dated(real, "2026-01-01T00:00:00Z"))
        let retention = SnapshotRetention(
            pattern: work.path("snap-{date}.ndjson.zst"), sourceDatabase: real.sourceDatabase,
            databaseID: real.databaseID)

        // The measure sees a full read: verifying the old snapshot (on any thread) reads its content.
        var before = try bytesReadByThisProcess()
        _ = ArchiveVerifier(path: old).run()
        #expect(try bytesReadByThisProcess() - before >= size / 2, "verification reads the archive's content")

        // Kept (it is among the newest two): counted from its manifest.
        before = try bytesReadByThisThread()
        #expect(try retention.prune(keeping: 2, justWritten: justWritten).isEmpty)
        let readToKeep = try bytesReadByThisThread() - before
        #expect(readToKeep < 256 << 10, "pruning read \(readToKeep) bytes")

        // Deleted by age, again from its manifest.
        before = try bytesReadByThisThread()
        #expect(try retention.prune(keeping: 1, justWritten: justWritten) == [old])
        let readToDelete = try bytesReadByThisThread() - before
        #expect(readToDelete < 256 << 10, "pruning read \(readToDelete) bytes")
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: justWritten))
    }
}
