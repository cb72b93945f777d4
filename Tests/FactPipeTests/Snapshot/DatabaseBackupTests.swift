import Foundation
import Synchronization
import Testing

@testable import FactPipe

@Suite struct DatabaseBackupTests {
    private func backup(_ work: LoadWorkspace, to folder: String = "backups", keep: Int? = nil) throws -> ArchiveResult
    {
        try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: true)
        var options = BackupOptions(databasePath: work.databasePath, directory: work.path(folder))
        options.keep = keep
        return try DatabaseBackup(options: options).run()
    }

    @Test func aBackupIsTheWholeDatabaseCompressedWithItsManifestAndChecksumFile() throws {
        let work = try loadedWorkspace()
        let result = try backup(work)
        let name = try #require(result.path.split(separator: "/").last.map(String.init))
        #expect(name.hasPrefix("facts-") && name.hasSuffix("Z.db.zst"))
        #expect(BackupRetention(directory: "", databaseName: "facts", sourceDatabase: "").matchesPattern(name))
        #expect(try folderContents(work.path("backups")) == [name, name + ".sha256"])
        #expect(result.manifest.kind == .backup && result.manifest.format == .sqlite)
        #expect(result.manifest.factCount == Int64(roundTripFixtureFacts))
        #expect(result.manifest.integrityCheck == "ok")
        #expect(result.manifest.sourceDatabase == absolutePath(work.databasePath))
        #expect(
            try String(contentsOfFile: result.path + ".sha256", encoding: .utf8)
                == "\(try sha256sum(result.path))  \(name)\n")
        // `zstd -d` gives the database itself, with every fact.
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", result.path, "-o", unpacked])
        #expect(try storedFacts(unpacked) == (try storedFacts(work.databasePath)))
        #expect(try RawDatabase(unpacked).rows("PRAGMA integrity_check") == [["ok"]])
        #expect(Int64(try bytes(unpacked).count) == result.manifest.contentBytes)
        #expect(ArchiveVerifier(path: result.path, databaseCheck: .full).run().isValid)
    }

    @Test func aBackupIsNoMoreReadableThanItsDatabase() throws {
        let work = try loadedWorkspace()
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: work.databasePath)
        let result = try backup(work)
        for path in [result.path, result.path + ".sha256"] {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        }
    }

    @Test func aBackupSeesOneMomentWhileAnotherConnectionWrites() throws {
        let work = try loadedWorkspace()
        let writer = try RawDatabase(work.databasePath)
        try writer.execute("BEGIN IMMEDIATE")
        try writer.execute(
            """
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
            VALUES ('Pending(x).', 'Pending', 'x', '["x"]', 1, '2025-01-01T00:00:00Z')
            """)
        // The write transaction is open: the backup copies the last committed state.
        let result = try backup(work)
        try writer.execute("COMMIT")
        #expect(result.manifest.factCount == Int64(roundTripFixtureFacts))
        #expect(try work.database().int("SELECT count(*) FROM facts") == roundTripFixtureFacts + 1)
    }

    /// The copy goes a few pages at a time so that a signal can stop it between steps (one step of a large
    /// database could not be stopped), inside one read transaction: another connection's commit between two
    /// steps is not in the copy, which is the database at the moment the copy began.
    @Test func aCopyInStepsIsOneMomentAndStopsWhenAsked() throws {
        let work = try loadedWorkspace()
        let writer = try RawDatabase(work.databasePath)
        var asked = 0
        let copy = work.path("copy.sqlite")
        let pages = try SQLiteBackup.copy(from: work.databasePath, to: copy, stepPages: 1, isCancelled: {
            asked += 1
            if asked == 2 {
                try? writer.execute("""
                    INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
                    VALUES ('Later(x).', 'Later', 'x', '["x"]', 1, '2025-01-01T00:00:00Z')
                    """)
            }
            return false
        })
        #expect(pages > 2 && asked >= pages, "pages \(pages), asked \(asked)")
        #expect(try RawDatabase(copy).int("SELECT count(*) FROM facts") == roundTripFixtureFacts)
        #expect(try RawDatabase(copy).column("PRAGMA integrity_check") == ["ok"])
        #expect(try work.database().int("SELECT count(*) FROM facts") == roundTripFixtureFacts + 1)

        var steps = 0
        #expect(throws: StoreError.self) {
            try SQLiteBackup.copy(from: work.databasePath, to: work.path("stopped.sqlite"), stepPages: 1, isCancelled: {
                steps += 1
                return steps > 1
            })
        }
    }

    @Test func aBackupOfAMissingOrForeignDatabaseFailsAndLeavesTheFolderEmpty() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        var options = BackupOptions(databasePath: work.path("nothing.sqlite"), directory: work.path("backups"))
        #expect(snapshotError { try DatabaseBackup(options: options).run() }?.kind == .database)
        let db = try RawDatabase(work.path("foreign.sqlite"), create: true)
        try db.execute("CREATE TABLE facts(statement TEXT PRIMARY KEY)")
        options.databasePath = work.path("foreign.sqlite")
        #expect(
            snapshotError { try DatabaseBackup(options: options).run() }?.message.contains("not a factpipe database")
                == true)
        #expect(try folderContents(work.path("backups")).isEmpty)
        options.directory = work.path("no-such-folder")
        #expect(snapshotError { try DatabaseBackup(options: options).run() }?.kind == .io)
    }

    @Test func keepDeletesOnlyTheOldestBackupsOfThisDatabase() throws {
        let work = try loadedWorkspace()
        let other = try loadedWorkspace()
        let folder = work.path("backups")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Another database of the same name, backed up into the same folder.
        var otherOptions = BackupOptions(databasePath: other.databasePath, directory: folder)
        otherOptions.keep = 1
        let foreign = try DatabaseBackup(options: otherOptions).run()
        // Unrelated files, one shaped like a backup of this database but holding something else.
        try work.write("backups/notes.txt", "keep me")
        try work.write("backups/facts-20000101T000000.000Z.db.zst", "not a backup at all")
        try work.write("backups/facts-old.db.zst", "odd name")
        var made: [String] = []
        for _ in 0..<5 { made.append(try backup(work, keep: 3).path) }
        let remaining = try folderContents(folder)
        let expected =
            (made.suffix(3) + [foreign.path]).flatMap { [$0, $0 + ".sha256"] }
            .map { String($0.split(separator: "/").last ?? "") }
            + ["facts-20000101T000000.000Z.db.zst", "facts-old.db.zst", "notes.txt"]
        #expect(remaining == expected.sorted())
        #expect(try String(contentsOfFile: work.path("backups/notes.txt"), encoding: .utf8) == "keep me")
    }

    /// Files holding a manifest that names this database but not the content it describes — a manifest
    /// frame alone, a frame of another size, one frame without its size whose hash is not the manifest's —
    /// named as this database's newest backups: `--keep 3` deleted both real backups in their place. They
    /// are not backups: left alone, and not counted. A backup written as one frame without its size (as
    /// earlier versions wrote them) still counts, by its frames' hash.
    @Test func keepCountsOnlyFilesThatHoldTheContentTheirManifestDescribes() throws {
        let work = try loadedWorkspace()
        let folder = work.path("backups")
        let first = try backup(work).path
        let second = try backup(work).path
        let manifest = try ArchiveReader(path: second).manifest.get()
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", second, "-o", unpacked])
        let streamed = work.path("streamed.zst")
        try runTool("/bin/sh", ["-c", "/usr/bin/zstd -3 -q -c < '\(unpacked)' > '\(streamed)'"])
        try work.write("small.txt", "a few bytes that are not the database")
        let small = work.path("small.zst")
        try runTool("/usr/bin/zstd", ["-q", work.path("small.txt"), "-o", small])

        var legacyManifest = manifest
        legacyManifest.compressedSHA256 = try sha256sum(streamed)
        let legacy = PathText.joined(folder, "facts-20000101T000000.000Z.db.zst")
        try write(try bytes(streamed) + SkippableFrame.encode(manifestJSON: legacyManifest.json), to: legacy)
        var junk: [String] = []
        for frames in [[], try bytes(small), try bytes(streamed)] {
            // Named after the real backups, before the next one.
            let path = BackupRetention.newBackupPath(directory: folder, databaseName: "facts")
            try write(frames + SkippableFrame.encode(manifestJSON: manifest.json), to: path)
            junk.append(path)
        }

        let result = try backup(work, keep: 3)
        #expect(result.removed == [legacy])
        for path in [first, second, result.path] + junk { #expect(FileManager.default.fileExists(atPath: path)) }
    }

    /// Two `backup --keep 1` at once: the slow one, started first, finished last and deleted the other's,
    /// newer backup (it holds the facts loaded in between), keeping its own older one. A backup started
    /// after the one just written, and named no later than now, is kept; older ones go as before.
    @Test func keepSparesABackupStartedAfterTheOneJustWritten() throws {
        let work = try loadedWorkspace()
        let older = try backup(work).path
        let earlier = work.path("backups/facts-20000101T000000.000Z.db.zst")
        try FileManager.default.copyItem(atPath: older, toPath: earlier)
        let newer = try backup(work)
        let retention = BackupRetention(
            directory: work.path("backups"), databaseName: "facts", sourceDatabase: work.databasePath,
            databaseID: newer.manifest.databaseID)
        // As the slow run ends: `older` is the one it wrote.
        let removed = try retention.prune(keeping: 1, written: older)
        #expect(removed == [earlier])
        #expect(FileManager.default.fileExists(atPath: newer.path))
        #expect(FileManager.default.fileExists(atPath: older))
    }

    /// Two backups started in the same millisecond are named alike: the one that finishes second takes the
    /// next name instead of replacing the first one's backup and checksum.
    @Test func aBackupWhoseNameWasTakenMeanwhileTakesTheNextOne() throws {
        let directory = try TemporaryDirectory()
        let taken = directory.url.path + "/kb-20260101T000000.000Z.db.zst"
        let next = directory.url.path + "/kb-20260101T000000.001Z.db.zst"
        let output = try AtomicFileOutput(path: taken)
        try output.write(Array("ours".utf8))
        let hash = try output.finishWriting()
        try directory.write("kb-20260101T000000.000Z.db.zst", "theirs")
        try directory.write("kb-20260101T000000.000Z.db.zst.sha256", "their checksum")
        var asked = 0
        let written = try DatabaseBackup.putInPlace(output, fileHash: hash, named: taken) {
            asked += 1
            return next
        }
        #expect(written == next && asked == 1)
        #expect(try String(contentsOfFile: taken, encoding: .utf8) == "theirs")
        #expect(try String(contentsOfFile: taken + ".sha256", encoding: .utf8) == "their checksum")
        #expect(try String(contentsOfFile: next, encoding: .utf8) == "ours")
        #expect(try bytes(next + ".sha256") == checksumLine(hash, next))
        #expect(try folderContents(directory.url.path).count == 4)
    }

    /// Backups of two databases of one name into one folder, two at a time: each is kept, whole, beside its
    /// own checksum. (Named alike, one replaced the other and both said done.)
    @Test func backupsRunningSideBySideIntoOneFolderAreAllKept() throws {
        let first = try loadedWorkspace()
        let second = try loadedWorkspace(text: #"{"statement": "P(a)."}"# + "\n")
        #expect(PathText.stem(first.databasePath) == PathText.stem(second.databasePath))
        let folder = try TemporaryDirectory()
        let databases = [first.databasePath, second.databasePath]
        let directory = folder.url.path
        let rounds = 8
        let results = Mutex<[Result<ArchiveResult, SnapshotError>]>([])
        for _ in 0..<rounds {
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let options = BackupOptions(databasePath: databases[index], directory: directory)
                let result = Result { () throws(SnapshotError) in try DatabaseBackup(options: options).run() }
                results.withLock { $0.append(result) }
            }
        }
        let written = try results.withLock { try $0.map { try $0.get() } }
        #expect(Set(written.map(\.path)).count == 2 * rounds)
        #expect(try folderContents(folder.url.path).count == 4 * rounds)
        for result in written {
            let report = ArchiveVerifier(path: result.path, databaseCheck: .quick).run()
            #expect(report.isValid, "\(result.path)")
            #expect(report.manifest?.sourceDatabase == result.manifest.sourceDatabase)
        }
        let sources = written.map(\.manifest.sourceDatabase)
        #expect(sources.filter { $0 == absolutePath(first.databasePath) }.count == rounds)
    }

    @Test func newBackupNamesFollowThePatternSortByTimeAndNeverRepeat() throws {
        let directory = try TemporaryDirectory()
        var names: [String] = []
        for _ in 0..<5 {
            let path = BackupRetention.newBackupPath(directory: directory.url.path, databaseName: "kb")
            try directory.write(String(path.split(separator: "/").last ?? ""), "")
            names.append(path)
        }
        #expect(Set(names).count == names.count)
        #expect(names == names.sorted())
        let retention = BackupRetention(
            directory: directory.url.path, databaseName: "kb", sourceDatabase: "/x/kb.sqlite")
        for name in names { #expect(retention.matchesPattern(String(name.split(separator: "/").last ?? ""))) }
        #expect(!retention.matchesPattern("kb-2-20250101T000000.000Z.db.zst"))
        #expect(!retention.matchesPattern("kb-20250101T000000Z.db.zst"))
        #expect(BackupRetention.databaseName("/x/kb.sqlite") == "kb")
        #expect(BackupRetention.databaseName("/x/archive.v2.db") == "archive.v2")
        #expect(BackupRetention.databaseName(".hidden") == ".hidden")
    }
}
