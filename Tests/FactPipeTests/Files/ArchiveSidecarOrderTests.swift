import FactPipeTestSupport
import Foundation
import Testing

@testable import FactPipe

/// An archive and the files beside it (`.sha256`, `.manifest.json`) are replaced and deleted in an order
/// that a kill between two steps cannot turn into a sound archive that `verify` refuses, or a checksum
/// file that nothing ever removes.
@Suite struct ArchiveSidecarOrderTests {
    /// Killed between the new archive's rename and its checksum's, the export left the new archive beside
    /// the old `.sha256` (and a plain snapshot beside the old manifest): `verify` and `restore` refused it.
    @Test func stoppedBetweenTheFileAndItsSidecarsTheOldOnesAreGone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("kb.ndjson")
        try directory.write("kb.ndjson", "old snapshot\n")
        try directory.write("kb.ndjson.sha256", "old checksum\n")
        try directory.write("kb.ndjson.manifest.json", "{\"old\":true}\n")
        let output = try AtomicFileOutput(path: path)
        try output.write(Array("new snapshot\n".utf8))
        _ = try output.finishWriting()
        output.afterOutputInPlace = { () throws(SnapshotError) in
            throw SnapshotError(.io, path: path, "stopped here, as a kill would")
        }
        #expect(throws: SnapshotError.self) {
            try output.commit(sidecars: [(".sha256", Array("new checksum\n".utf8)), (".manifest.json", Array("{}\n".utf8))])
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new snapshot\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".sha256"))
        #expect(!FileManager.default.fileExists(atPath: path + ".manifest.json"))
    }

    /// Killed between deleting an old backup and its `.sha256`, pruning left the checksum file, which no later
    /// pruning removes (it is no backup). The checksum goes first; the archive left is pruned the next time.
    @Test func stoppedBetweenASidecarAndItsArchiveNoOrphanIsLeft() throws {
        let directory = try TemporaryDirectory()
        let archive = directory.path("kb-20250101T000000.000Z.db.zst")
        try directory.write("kb-20250101T000000.000Z.db.zst", "archive")
        try directory.write("kb-20250101T000000.000Z.db.zst.sha256", "checksum")
        #expect(throws: SnapshotError.self) {
            try ArchiveRetention.delete([archive], sideFileSuffixes: [".sha256"], kind: "backup") { path throws(SnapshotError) in
                throw SnapshotError(.io, path: path, "stopped here, as a kill would")
            }
        }
        #expect(FileManager.default.fileExists(atPath: archive))
        #expect(!FileManager.default.fileExists(atPath: archive + ".sha256"))
        try ArchiveRetention.delete([archive], sideFileSuffixes: [".sha256"], kind: "backup")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
    /// Two overlapping `--keep` runs may both prune the same oldest backup: the second found it gone and
    /// failed (after its checksum file was deleted). Gone already is deleted.
    @Test func anArchiveAnotherPruneDeletedIsNoError() throws {
        let directory = try TemporaryDirectory()
        let archive = directory.path("kb-20250101T000000.000Z.db.zst")
        try directory.write("kb-20250101T000000.000Z.db.zst.sha256", "checksum")
        try ArchiveRetention.delete([archive], sideFileSuffixes: [".sha256"], kind: "backup")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
