import Foundation
import Testing

@testable import FactPipe

/// An export killed between renaming its archive into place and renaming the checksum and manifest
/// beside it left them under hidden names: the archive was sound, `verify` and `restore` refused it
/// (`missing_manifest`), and the next command writing into the folder removed them as litter.
@Suite struct SidecarRollForwardTests {
    /// What a kill between the renames leaves: the new archive in place, its sidecars under the hidden
    /// names of a writer that is gone.
    private func exportKilledBetweenItsRenames(_ name: String = "s.ndjson") throws -> (LoadWorkspace, [String]) {
        let work = try loadedWorkspace()
        try export(work, to: name)
        let me = TemporaryName.currentOwner
        let gone = TemporaryName.Owner(pid: me.pid, start: me.start + 1, place: .current)
        var hidden: [String] = []
        for (number, suffix) in SidecarRollForward.suffixes.enumerated() {
            let final = work.path(name + suffix)
            let temporary = TemporaryName.name(for: final, owner: gone, number: number)
            try FileManager.default.moveItem(atPath: final, toPath: temporary)
            hidden.append(temporary)
        }
        return (work, hidden)
    }

    @Test func verifyPutsTheKilledExportsSidecarsInPlaceAndPasses() throws {
        let (work, hidden) = try exportKilledBetweenItsRenames()
        let report = ArchiveVerifier(path: work.path("s.ndjson")).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.checkedChecksumFile)
        #expect(report.countedFacts == Int64(roundTripFixtureFacts))
        // Said, as the folder changed.
        #expect(Set(report.sidecarsPutInPlace) == Set(SidecarRollForward.suffixes.map { work.path("s.ndjson" + $0) }))
        #expect(report.json.contains(#""sidecars_put_in_place":["#))
        #expect(ArchiveVerifier(path: work.path("s.ndjson")).run().sidecarsPutInPlace.isEmpty)
        for suffix in SidecarRollForward.suffixes {
            #expect(FileManager.default.fileExists(atPath: work.path("s.ndjson" + suffix)))
        }
        #expect(hidden.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    @Test func restoreOfTheKilledExportsArchiveRestoresEveryFact() throws {
        let (work, _) = try exportKilledBetweenItsRenames()
        let restored = work.path("restored.sqlite")
        let result = try ArchiveRestorer(
            options: RestoreOptions(archivePath: work.path("s.ndjson"), targetPath: restored)).run()
        #expect(try storedFacts(restored) == storedFacts(work.databasePath))
        #expect(Set(result.sidecarsPutInPlace) == Set(SidecarRollForward.suffixes.map { work.path("s.ndjson" + $0) }))
    }

    /// The next command writing into the folder sweeps its litter: the sidecars are put in place, not removed.
    @Test func theSweepPutsThemInPlaceInsteadOfRemovingThem() throws {
        let (work, hidden) = try exportKilledBetweenItsRenames()
        let removed = StaleTemporaries.sweep(folder: work.directory.url.path)
        #expect(removed.isEmpty, "\(removed)")
        #expect(hidden.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(ArchiveVerifier(path: work.path("s.ndjson")).run().problems.isEmpty)
    }

    /// Sidecars of another content (the export was killed before its archive's rename, so the old archive
    /// is still there) describe no file at that path: they stay out and the sweep removes them.
    @Test func sidecarsThatDoNotDescribeTheArchiveAreNotPutInPlace() throws {
        let (work, hidden) = try exportKilledBetweenItsRenames()
        let archive = work.path("s.ndjson")
        try Data("{\"statement\":\"Other(a, b).\"}\n".utf8).write(to: URL(fileURLWithPath: archive))
        #expect(ArchiveVerifier(path: archive).run().problems.map(\.kind) == [.missingManifest])
        #expect(!FileManager.default.fileExists(atPath: archive + ".sha256"))
        #expect(Set(StaleTemporaries.sweep(folder: work.directory.url.path)) == Set(hidden))
        #expect(!FileManager.default.fileExists(atPath: archive + ".manifest.json"))
    }

    /// An export over an archive, killed in its commit, leaves the old sidecars moved aside and its own hidden:
    /// before its archive's rename the old ones go back beside the old archive; after it, its own beside the
    /// new one, also when the two archives hold the same bytes (the newest manifest wins).
    @Test func theOldSidecarsMovedAsideAndTheNewOnesAreToldApart() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson")
        let old = try String(contentsOfFile: work.path("s.ndjson.manifest.json"), encoding: .utf8)
        let oldChecksum = try String(contentsOfFile: work.path("s.ndjson.sha256"), encoding: .utf8)
        try export(work, to: "s.ndjson")  // the same facts: the same bytes, a later manifest
        let new = try String(contentsOfFile: work.path("s.ndjson.manifest.json"), encoding: .utf8)
        try #require(old != new)
        let me = TemporaryName.currentOwner
        let gone = TemporaryName.Owner(pid: me.pid, start: me.start + 1, place: .current)
        func hide(_ text: String, _ suffix: String, _ number: Int) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: TemporaryName.name(
                for: work.path("s.ndjson" + suffix), owner: gone, number: number)))
        }
        for (number, text) in [(1, new), (7, old)] { try hide(text, ".manifest.json", number) }
        try FileManager.default.removeItem(atPath: work.path("s.ndjson.manifest.json"))
        #expect(ArchiveVerifier(path: work.path("s.ndjson")).run().problems.isEmpty)
        #expect(try String(contentsOfFile: work.path("s.ndjson.manifest.json"), encoding: .utf8) == new)

        // Killed before the archive's rename: the old archive, its sidecars aside, the new export's hidden.
        _ = work.load([try work.write("more.txt", "Extra(fact, here).\n")])
        let archive = try Data(contentsOf: URL(fileURLWithPath: work.path("s.ndjson")))
        try export(work, to: "s.ndjson")
        let newer = try String(contentsOfFile: work.path("s.ndjson.manifest.json"), encoding: .utf8)
        try hide(newer, ".manifest.json", 2)
        try hide(try String(contentsOfFile: work.path("s.ndjson.sha256"), encoding: .utf8), ".sha256", 3)
        try hide(new, ".manifest.json", 8)
        try hide(oldChecksum, ".sha256", 9)
        for suffix in SidecarRollForward.suffixes { try FileManager.default.removeItem(atPath: work.path("s.ndjson" + suffix)) }
        try archive.write(to: URL(fileURLWithPath: work.path("s.ndjson")))
        #expect(ArchiveVerifier(path: work.path("s.ndjson")).run().problems.isEmpty)
        #expect(try String(contentsOfFile: work.path("s.ndjson.manifest.json"), encoding: .utf8) == new)
        #expect(try String(contentsOfFile: work.path("s.ndjson.sha256"), encoding: .utf8) == oldChecksum)
        StaleTemporaries.sweep(folder: work.directory.url.path)
        #expect(try folderContents(work.path(".")).filter { $0.hasPrefix(".") }.isEmpty)
    }

    /// A writer still at work (another process, or this one) renames its own sidecars: they are never taken from it.
    @Test func theSidecarsOfALiveWriterAreLeftToIt() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sleep")
        writer.arguments = ["30"]
        try writer.run()
        defer { writer.terminate() }
        let pid = writer.processIdentifier
        let running = TemporaryName.Owner(
            pid: pid, start: try #require(TemporaryName.Owner.startTime(of: pid)), place: .current)
        let theirs = TemporaryName.name(for: work.path("s.ndjson.manifest.json"), owner: running, number: 1)
        let mine = TemporaryName.make(for: work.path("s.ndjson.sha256"))
        try FileManager.default.moveItem(atPath: work.path("s.ndjson.manifest.json"), toPath: theirs)
        try FileManager.default.moveItem(atPath: work.path("s.ndjson.sha256"), toPath: mine)
        #expect(SidecarRollForward.complete(work.path("s.ndjson")).isEmpty)
        #expect(FileManager.default.fileExists(atPath: theirs))
        #expect(FileManager.default.fileExists(atPath: mine))
    }

    /// A name too long to be kept whole in the temporary name is found by its shortened form.
    @Test func aLongArchiveNameIsFoundThroughItsShortenedTemporaryName() throws {
        let name = String(repeating: "k", count: 200) + ".ndjson"
        let work = try loadedWorkspace()
        try export(work, to: name)
        let me = TemporaryName.currentOwner
        let gone = TemporaryName.Owner(pid: me.pid, start: me.start + 1, place: .current)
        let hidden = TemporaryName.name(for: work.path(name + ".sha256"), owner: gone, number: 12)
        #expect(!hidden.contains(name))
        try FileManager.default.moveItem(atPath: work.path(name + ".sha256"), toPath: hidden)
        // The sweep finds it too, and puts it in place rather than removing it.
        #expect(StaleTemporaries.sweep(folder: work.directory.url.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: work.path(name + ".sha256")))
        #expect(ArchiveVerifier(path: work.path(name)).run().checkedChecksumFile)
    }
}

/// An export over an archive whose rename fails (an old archive or sidecar made immutable, `chattr +i`)
/// removed the old checksum and manifest first: the old archive was left without them (`verify` and
/// `restore` refused it), or the new one beside yesterday's manifest, and the export said it failed.
@Suite struct FailedArchiveReplacementTests {
    private func chattr(_ flag: String, _ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "chattr \(flag) \(path) failed")
    }

    @Test(arguments: ["s.ndjson", "s.ndjson.manifest.json", "s.ndjson.sha256"])
    func aFailedReplacementLeavesTheOldArchiveWithItsFiles(immutable: String) throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson")
        let files = ["s.ndjson", "s.ndjson.sha256", "s.ndjson.manifest.json"].map(work.path)
        let before = try files.map { try sha256sum($0) }
        _ = work.load([try work.write("more.txt", "Extra(fact, here).\n")])
        try chattr("+i", work.path(immutable))
        defer { try? chattr("-i", work.path(immutable)) }
        #expect(throws: SnapshotError.self) { try export(work, to: "s.ndjson") }
        try chattr("-i", work.path(immutable))
        #expect(try files.map { try sha256sum($0) } == before)
        #expect(ArchiveVerifier(path: work.path("s.ndjson")).run().problems.isEmpty)
        #expect(try folderContents(work.path(".")).filter { $0.hasPrefix(".") }.isEmpty)
    }
}
