import Foundation
import Testing

@testable import FactPipe

/// `PathText.eventual`: where a path will be once a run makes its folders, compared as text.
@Suite struct PathTextTests {
    @Test func aPathInFoldersStillToBeMadeIsResolvedAsFarAsItExists() throws {
        let work = try LoadWorkspace()
        let base = try #require(PathText.real(work.path(".")))
        #expect(PathText.eventual(work.path("new/a.ndjson")) == base + "/new/a.ndjson")
        #expect(PathText.eventual(work.path("new/./deeper/../a.ndjson")) == base + "/new/a.ndjson")
        #expect(PathText.eventual(work.path("new/more/")) == base + "/new/more")
        // Through a symlinked folder that exists, to the same place.
        try FileManager.default.createDirectory(atPath: work.path("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.path("link"), withDestinationPath: work.path("real"))
        #expect(PathText.eventual(work.path("link/new/x")) == PathText.eventual(work.path("real/new/x")))
        #expect(PathText.eventual(work.path("link/new/x")) == base + "/real/new/x")
        #expect(PathText.eventual("/") == "/")
    }

    /// One `/` between a folder and a name: `backup --to backups/` named `backups//kb-….db.zst`.
    @Test func aNameJoinsItsFolderWithOneSlash() {
        #expect(PathText.joined("backups", "kb.db.zst") == "backups/kb.db.zst")
        #expect(PathText.joined("backups//", "kb.db.zst") == "backups/kb.db.zst")
        #expect(PathText.joined("/", "kb.db.zst") == "/kb.db.zst")
        #expect(PathText.joined("//", "kb.db.zst") == "/kb.db.zst")
        #expect(PathText.joined("", "kb.db.zst") == "kb.db.zst")
        #expect(PathText.resolved("../b", ofLink: "x/link") == "x/../b")
        #expect(PathText.resolved("/abs/b", ofLink: "x/link") == "/abs/b")
        #expect(PathText.resolved("b", ofLink: "/link") == "/b")
        #expect(BackupRetention.newBackupPath(directory: "/nonexistent-factpipe-dir/", databaseName: "kb")
            .hasPrefix("/nonexistent-factpipe-dir/kb-"))
    }
}
