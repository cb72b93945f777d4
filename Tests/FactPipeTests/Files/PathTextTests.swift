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

    /// Paths are bytes: a `/` followed by a combining mark is one character to Swift, and `é` composed and
    /// decomposed are equal text; to the file system they are a separator and two names.
    @Test func pathsAreSplitAndComparedAsBytes() {
        let parts = PathText.split("a/\u{301}x.sqlite")
        #expect(PathText.same(parts.folder, "a") && PathText.same(parts.name, "\u{301}x.sqlite"))
        #expect("caf\u{E9}/kb.sqlite" == "cafe\u{301}/kb.sqlite")  // as Swift compares text
        #expect(!PathText.same("caf\u{E9}/kb.sqlite", "cafe\u{301}/kb.sqlite"))
        let retention = BackupRetention(directory: "b", databaseName: "caf\u{E9}", sourceDatabase: "/x/caf\u{E9}.sqlite")
        #expect(retention.matchesPattern("caf\u{E9}-20260101T000000.000Z.db.zst"))
        #expect(!retention.matchesPattern("cafe\u{301}-20260101T000000.000Z.db.zst"))
        // U+0600 joins the `-` after it into one character: the text does not end in `-wal`, the bytes do.
        #expect(!"k\u{600}-wal".hasSuffix("-wal"))
        #expect(ArchiveRestorer.targetNameProblem("data/k\u{600}-wal")?.contains("k\u{600}'s write-ahead log") == true)
        #expect(ArchiveRestorer.targetNameProblem("data/k\u{600}-wal.db") == nil)
        #expect(PathText.stem("a/k\u{600}.sqlite") == "k\u{600}" && PathText.stem("a/.hidden") == ".hidden")
    }
}
