import Foundation
import Testing

@testable import FactPipe

/// `DatabaseIdentity`: every database carries one, its archives record it, and retention deletes only the
/// archives of the database whose identity they record, whatever path another database shares with it.
@Suite struct DatabaseIdentityTests {
    private func identity(_ work: LoadWorkspace) throws -> String? {
        try work.database().rows("SELECT seq FROM factpipe_sequence WHERE name = 'database_id'").first?.first
            .flatMap { $0 }.flatMap { Int64($0) }.map(DatabaseIdentity.text)
    }

    private func backup(_ work: LoadWorkspace, keep: Int? = nil) throws -> ArchiveResult {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        var options = BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        options.keep = keep
        return try DatabaseBackup(options: options).run()
    }

    /// Another database at the same path: the first one is moved aside (with its log) and a new one made
    /// in its place, as a container on another host has its own `/data/kb.sqlite`.
    private func replaceWithAnotherDatabase(_ work: LoadWorkspace) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: work.databasePath + suffix) {
            try FileManager.default.moveItem(
                atPath: work.databasePath + suffix, toPath: work.path("moved.sqlite" + suffix))
        }
        let summary = work.load(try work.write("other.ndjson", #"{"statement": "Other(a, b)."}"# + "\n"))
        try #require(summary.status == .done, "\(summary.message ?? "")")
    }

    @Test func aDatabaseKeepsOneIdentityThatItsArchivesRecord() throws {
        let work = try loadedWorkspace()
        let first = try #require(try identity(work))
        #expect(first.count == 16 && first.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(work.load(try work.write("more.ndjson", #"{"statement": "More(a, b)."}"# + "\n")).status == .done)
        #expect(try identity(work) == first)
        #expect(try backup(work).manifest.databaseID == first)
        let snapshot = try export(work, to: "kb.ndjson.zst")
        #expect(snapshot.manifest.databaseID == first)
        #expect(snapshot.manifest.json.contains(#""database_id":"\#(first)""#))
        #expect(ArchiveVerifier(path: snapshot.path, databaseCheck: .quick).run().manifest?.databaseID == first)
        let other = try loadedWorkspace()
        #expect(try identity(other) != first)
    }

    /// A database made by an earlier build has no identity: its archives record none, and it prunes them by
    /// their path, as before. Its next load gives it one; from then on those archives prove nothing (they may
    /// be another host's database's, at the same path): `--keep` leaves them and names them.
    @Test func aDatabaseWithoutAnIdentityIsGivenOneByItsNextLoad() throws {
        let work = try loadedWorkspace()
        try work.database().execute("DELETE FROM factpipe_sequence WHERE name = 'database_id'")
        let snapshot = try export(work, to: "kb.ndjson.zst")
        #expect(snapshot.manifest.databaseID == nil)
        #expect(!snapshot.manifest.json.contains("database_id"))
        let first = try backup(work)
        #expect(first.manifest.databaseID == nil)
        let second = try backup(work, keep: 1)
        #expect(second.removed == [first.path])
        #expect(second.unrecordedLeft.isEmpty)
        #expect(work.load(try work.write("more.ndjson", #"{"statement": "More(a, b)."}"# + "\n")).status == .done)
        let given = try #require(try identity(work))
        #expect(try export(work, to: "again.ndjson.zst").manifest.databaseID == given)
        let third = try backup(work, keep: 1)
        #expect(third.manifest.databaseID == given)
        #expect(third.removed.isEmpty)
        #expect(third.unrecordedLeft == [second.path])
        #expect(FileManager.default.fileExists(atPath: second.path) && FileManager.default.fileExists(atPath: second.path + ".sha256"))
        #expect(try backup(work, keep: 1).removed == [third.path])
    }

    /// `backup --keep 1` of another database at the same path (another host's, into one shared folder)
    /// deleted the first one's backups as the oldest of its own. They are left; its own are pruned as before.
    /// A backup that records no identity (an earlier build's: this database's or another host's) was pruned
    /// by its path; it is left too, and named apart.
    @Test func keepLeavesTheBackupsOfAnotherDatabaseAtTheSamePath() throws {
        let work = try loadedWorkspace()
        let theirs = [try backup(work).path, try backup(work).path]
        try replaceWithAnotherDatabase(work)
        // A backup of it as an earlier build wrote it: the same frames, a manifest without the identity.
        let legacy = try backup(work)
        var manifest = legacy.manifest
        manifest.databaseID = nil
        let unrecorded = work.path("backups/facts-20000101T000000.000Z.db.zst")
        let frames = try bytes(legacy.path).dropLast(SkippableFrame.encode(manifestJSON: legacy.manifest.json).count)
        try write(Array(frames) + SkippableFrame.encode(manifestJSON: manifest.json), to: unrecorded)
        let ours = try backup(work, keep: 1)
        #expect(ours.removed == [legacy.path])
        #expect(ours.otherDatabasesLeft == theirs)
        #expect(ours.unrecordedLeft == [unrecorded])
        #expect(FileManager.default.fileExists(atPath: unrecorded))
        for path in theirs + [ours.path] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
            #expect(FileManager.default.fileExists(atPath: path + ".sha256"), "\(path)")
        }
    }

    /// A database restored from its backup is the database the backup was made of: its later backups prune
    /// the earlier ones.
    @Test func aRestoredDatabaseIsTheOneItsBackupsWereOf() throws {
        let work = try loadedWorkspace()
        let before = try #require(try identity(work))
        let earlier = try backup(work).path
        var options = RestoreOptions(archivePath: earlier, targetPath: work.databasePath)
        options.force = true
        _ = try ArchiveRestorer(options: options).run()
        #expect(try identity(work) == before)
        let later = try backup(work, keep: 1)
        #expect(later.removed == [earlier])
    }

    /// `keep_snapshots`: another database's snapshots at the same path are neither counted nor deleted, nor
    /// is one that records no identity (an earlier build's); each is named in its own list.
    @Test func snapshotRetentionLeavesAnotherDatabasesSnapshotsAtTheSamePath() throws {
        let work = try loadedWorkspace()
        let real = try export(work, to: "real.ndjson.zst").manifest
        let frames: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD] + [UInt8](repeating: 0x41, count: 64)
        var theirs = real
        theirs.databaseID = "0123456789abcdef"
        theirs.createdAt = "2020-01-01T00:00:00Z"
        var unrecorded = real
        unrecorded.databaseID = nil
        unrecorded.createdAt = "2020-01-02T00:00:00Z"
        var ours = real
        ours.createdAt = "2020-01-03T00:00:00Z"
        for (name, manifest) in [("2023-01-01", theirs), ("2023-01-02", unrecorded), ("2023-01-03", ours)] {
            let path = work.path("snap-\(name).ndjson.zst")
            try write(frames + SkippableFrame.encode(manifestJSON: manifest.json), to: path)
        }
        let justWritten = work.path("snap-2023-01-04.ndjson.zst")
        try write(frames + SkippableFrame.encode(manifestJSON: real.json), to: justWritten)
        let retention = SnapshotRetention(
            pattern: work.path("snap-{date}.ndjson.zst"), sourceDatabase: real.sourceDatabase,
            databaseID: real.databaseID)
        let outcome = try retention.pruneAndFindOthers(keeping: 1, justWritten: justWritten)
        #expect(outcome.removed == [work.path("snap-2023-01-03.ndjson.zst")])
        #expect(FileManager.default.fileExists(atPath: work.path("snap-2023-01-01.ndjson.zst")))
        #expect(FileManager.default.fileExists(atPath: work.path("snap-2023-01-02.ndjson.zst")))
        #expect(outcome.otherDatabasesLeft == [work.path("snap-2023-01-01.ndjson.zst")])
        #expect(outcome.unrecordedLeft == [work.path("snap-2023-01-02.ndjson.zst")])
        let withoutIdentity = SnapshotRetention(
            pattern: work.path("snap-{date}.ndjson.zst"), sourceDatabase: real.sourceDatabase, databaseID: nil)
        let byPath = try withoutIdentity.pruneAndFindOthers(keeping: 1, justWritten: justWritten)
        #expect(byPath.removed == [work.path("snap-2023-01-02.ndjson.zst")])
        #expect(byPath.otherDatabasesLeft == [work.path("snap-2023-01-01.ndjson.zst")])
    }

    @Test func aManifestWhoseIdentityIsNotTextIsDamaged() throws {
        let work = try loadedWorkspace()
        let json = try export(work, to: "kb.ndjson.zst").manifest.json
        let damaged = json.replacing(#/"database_id":"[0-9a-f]+"/#, with: #""database_id":7"#)
        #expect(damaged != json)
        #expect(throws: SnapshotError.self) { try SnapshotManifest.decode(damaged, path: "kb.ndjson.zst") }
        #expect(try SnapshotManifest.decode(json, path: "kb.ndjson.zst").databaseID != nil)
    }
}
