import Foundation
import Testing

@testable import FactPipe

/// `verify` and `restore` of an archive whose export was killed between its renames put the hidden checksum and
/// manifest in place, and say so: the folder changed under the user's eyes (`SidecarRollForward`).
@Suite struct SidecarNoteTests {
    /// A plain snapshot whose sidecars are under the hidden names of a writer that is gone.
    private func snapshotOfAKilledExport(_ work: CLIWorkspace) throws -> String {
        try work.loadFacts()
        let archive = work.path("kb.ndjson")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
        let me = TemporaryName.currentOwner
        let gone = TemporaryName.Owner(pid: me.pid, start: me.start + 1, place: .current)
        for (number, suffix) in SidecarRollForward.suffixes.enumerated() {
            try FileManager.default.moveItem(
                atPath: archive + suffix, toPath: TemporaryName.name(for: archive + suffix, owner: gone, number: number))
        }
        return archive
    }

    @Test(arguments: ["verify", "restore"])
    func theCommandSaysItPutTheSidecarsInPlace(command: String) throws {
        let work = try CLIWorkspace()
        let archive = try snapshotOfAKilledExport(work)
        let arguments = command == "verify" ? ["verify", archive] : ["restore", archive, "--to", work.path("r.sqlite")]
        let run = try Factpipe.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("factpipe \(command): put \(archive).sha256 and \(archive).manifest.json in place: "
            + "an export killed between renaming the archive and renaming them left them hidden"), "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: archive + ".sha256"))
        let again = try Factpipe.run(["verify", archive])
        #expect(again.status == 0 && !again.stderr.contains("in place"), "\(again.stderr)")
    }
}
