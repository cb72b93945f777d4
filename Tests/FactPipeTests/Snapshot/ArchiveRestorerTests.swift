import Foundation
import Testing

@testable import FactPipe

@Suite struct ArchiveRestorerTests {
    private func restore(_ archive: String, to target: String, force: Bool = false) throws -> RestoreResult {
        var options = RestoreOptions(archivePath: archive, targetPath: target)
        options.force = force
        return try ArchiveRestorer(options: options).run()
    }

    private func backup(_ work: LoadWorkspace) throws -> String {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        return try DatabaseBackup(
            options: BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        )
        .run().path
    }

    /// A snapshot of an older release's database goes into this release's schema: it was refused, the
    /// manifest's version (the exported database's) compared with the new database's.
    @Test func aSnapshotOfAVersionTwoDatabaseRestoresIntoTheCurrentSchema() throws {
        let work = try SubjectIndexMigrationTests.versionTwoDatabase()
        let archive = try export(work, to: "v2.ndjson.zst")
        #expect(archive.manifest.schemaVersion == 2)
        let restored = work.path("restored.sqlite")
        let result = try restore(archive.path, to: restored)
        #expect(result.factCount == archive.manifest.factCount)
        #expect(try RawDatabase(restored).int("PRAGMA user_version") == Int(FactSchema.version))
        #expect(try storedFacts(restored) == (try storedFacts(work.databasePath)))
    }

    /// A version-1 database's statement with a control or an invisible character is kept as stored when a
    /// writer migrates it. The snapshot of the migrated database verified, and its restore refused that
    /// fact ("invisible_character"), so the archive never restored.
    @Test(arguments: ["kept.ndjson.zst", "kept.csv"])
    func aStatementTheMigrationKeptAsStoredComesBackFromItsSnapshot(name: String) throws {
        let work = try LoadWorkspace()
        let db = try CanonicalFormMigrationTests.versionOneDatabase(work)
        // Two more the migration keeps as stored, which the current form would make one fact: their spaces stay.
        try db.execute("""
            INSERT INTO facts(id, statement, predicate, subject, args, arity, confidence, context, fact_metadata,
                created_at, load_id)
            VALUES (11, 'Q(x  y' || char(8203) || ').', 'Q', 'x', '["x"]', 1, 0.25, '{}', '{}', '2025-01-03T00:00:00Z', 2),
                   (12, 'Q(x y' || char(8203) || ').', 'Q', 'x', '["x"]', 1, 0.75, '{}', '{}', '2025-01-03T00:00:00Z', 2);
            """)
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        let kept = ["IsA(Z\u{1B}c, Y).", "Q(x\u{200B}y).", "Q(x  y\u{200B}).", "Q(x y\u{200B})."]
        for statement in kept {
            #expect(try db.int("SELECT count(*) FROM facts WHERE statement = '\(statement)'") == 1)
        }
        let archive = try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        let restored = work.path("restored.sqlite")
        let result = try restore(archive.path, to: restored)
        #expect(result.factCount == archive.manifest.factCount)
        for statement in kept {
            #expect(try RawDatabase(restored).int("SELECT count(*) FROM facts WHERE statement = '\(statement)'") == 1)
        }
        // Every fact's data as the migrated database holds it (the fixture wrote the kept rows' argument
        // columns without their control and invisible characters, so those are left out).
        let data = "SELECT statement, printf('%.17g', confidence), source, context, fact_metadata, created_at FROM facts "
            + "ORDER BY statement"
        #expect(try RawDatabase(restored).rows(data) == (try db.rows(data)))
        // A load still refuses such a statement: only a restore gives back what was stored.
        #expect(throws: StatementSyntaxError.self) { try StatementParser.parse("Q(x\u{200B}y).") }
    }

    /// A snapshot an earlier release wrote of a version-1 database holds its statements in the canonical
    /// form of then: `P(a b).`, `P(a  b).` and `P(a<TAB>b).` are three facts there and one now. Its restore
    /// failed ("6 inserted, 4 duplicates"), and an import kept one of each group, the others' columns lost.
    /// The restore now gives what migrating that database gives: the earliest row, the later ones kept in its
    /// `fact_metadata` under `merged_rows`.
    /// The export of a version-1 database refused its look-alikes ("delete one of them"); it writes them now.
    @Test(arguments: ["v1.ndjson", "v1.csv", "v1.ndjson.zst"])
    func aSnapshotOfAVersionOneDatabaseRestoresAsItsMigrationWould(name: String) throws {
        let work = try LoadWorkspace()
        let db = try CanonicalFormMigrationTests.versionOneDatabase(work)
        try db.execute("DELETE FROM factpipe_staging")
        try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        // What migrating the database gives.
        _ = try FactDatabase.openForWriting(path: work.databasePath)

        let restored = work.path("restored.sqlite")
        let result = try restore(work.path(name), to: restored)
        #expect(result.manifest.schemaVersion == 1 && result.manifest.factCount == 10)
        #expect(result.factCount == 6 && result.mergedRows == 4)
        #expect(try RawDatabase(restored).int("PRAGMA user_version") == FactSchema.version)
        // The ledger counts the snapshot's 10 rows, and says where 4 went.
        #expect(try RawDatabase(restored).rows("SELECT inserted, message FROM factpipe_loads") == [[
            "10", "a snapshot of a version-1 database: 4 of its rows merged into facts of the same statement, as "
                + "migrating that database merges them (kept under merged_rows in their fact_metadata)",
        ]])
        // Every column but the ids and loads that each merged row records (the restore's are new).
        let columns = "SELECT statement, predicate, subject, args, printf('%.17g', confidence), source, context, "
            + "fact_metadata, created_at FROM facts WHERE id NOT IN (9, 10) ORDER BY statement"
        func withoutIDs(_ rows: [[String?]]) throws -> [[String?]] {
            let ids = try NSRegularExpression(pattern: #""(id|load_id|updated_load_id)":(\d+|null)"#)
            return rows.map { row in
                row.map { value in
                    value.map { ids.stringByReplacingMatches(in: $0, range: NSRange($0.startIndex..., in: $0), withTemplate: "") }
                }
            }
        }
        let migrated = try withoutIDs(try db.rows(columns))
        #expect(migrated.count == 4)
        #expect(try withoutIDs(try RawDatabase(restored).rows(columns)) == migrated)
        // The two statements the migration keeps as stored come back as stored.
        let kept = "SELECT statement, printf('%.17g', confidence), source, context, fact_metadata, created_at FROM facts "
            + "WHERE id IN (9, 10) ORDER BY statement"
        #expect(try RawDatabase(restored).rows(kept) == (try db.rows(kept)))
    }

    @Test func aRestoredBackupIsTheBackedUpDatabaseByteForByte() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work)
        let result = try restore(archive, to: work.path("restored.sqlite"))
        #expect(result.factCount == Int64(roundTripFixtureFacts))
        #expect(result.databaseCheck == .quick)
        #expect(!result.replacedExisting)
        let unpacked = work.path("unpacked.sqlite")
        try runTool("/usr/bin/zstd", ["-d", "-q", archive, "-o", unpacked])
        #expect(try bytes(work.path("restored.sqlite")) == (try bytes(unpacked)))
        #expect(try storedFacts(work.path("restored.sqlite")) == (try storedFacts(work.databasePath)))
        // Only the database and its lock file appear beside it: no temporary file is left.
        #expect(
            try folderContents(work.directory.url.path).filter { $0.hasPrefix("restored") || $0.hasPrefix(".restored") }
                == ["restored.sqlite", "restored.sqlite-factpipe.lock"])

        var options = RestoreOptions(archivePath: archive, targetPath: work.path("full.sqlite"))
        options.fullCheck = true
        #expect(try ArchiveRestorer(options: options).run().databaseCheck == .full)
    }

    @Test(arguments: ["s.ndjson.zst", "s.csv", "s.csv.zst", "s.ndjson"])
    func aRestoredSnapshotHoldsTheSameFacts(name: String) throws {
        let work = try loadedWorkspace()
        try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        let result = try restore(work.path(name), to: work.path("restored.sqlite"))
        #expect(result.databaseCheck == .full)
        #expect(result.factCount == Int64(roundTripFixtureFacts))
        #expect(try storedFacts(work.path("restored.sqlite")) == (try storedFacts(work.databasePath)))
        #expect(try RawDatabase(work.path("restored.sqlite")).int("PRAGMA user_version") == FactSchema.version)
        #expect(try folderContents(work.directory.url.path).filter { $0.hasPrefix(".restored") }.isEmpty)
    }

    /// An earlier release stored an object that gives a name twice as written, and export writes what is
    /// stored: import now refuses such a record, but its restore gives it back (it failed, "0 rejected").
    @Test(arguments: ["s.ndjson.zst", "s.csv.zst"])
    func aSnapshotHoldingAnObjectThatGivesANameTwiceIsRestored(name: String) throws {
        let work = try loadedWorkspace(text: #"{"statement":"P(a, b)."}"# + "\n" + #"{"statement":"P(c, d)."}"# + "\n")
        try RawDatabase(work.databasePath).execute("""
            UPDATE facts SET context = '{"k":1,"k":2}', fact_metadata = '{"m":{"x":1,"x":2}}' WHERE statement = 'P(a, b).'
            """)
        try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        let result = try restore(work.path(name), to: work.path("restored.sqlite"))
        #expect(result.factCount == 2)
        #expect(try storedFacts(work.path("restored.sqlite")) == (try storedFacts(work.databasePath)))
        // A load of the same snapshot refuses the record: PostgreSQL's jsonb would keep one of the values.
        var options = ImportOptions(inputs: [work.path(name)], databasePath: work.path("imported.sqlite"))
        options.format = name.contains("csv") ? .csv : .ndjson
        let imported = ImportPipeline(options: options).run()
        #expect(imported.inserted == 1 && imported.rejected == 1, "\(imported.sampleDiagnostics)")
    }

    @Test func anExistingTargetIsReplacedOnlyWithForce() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work)
        let notes = try work.write("notes.sqlite", "precious")
        let error = snapshotError { try restore(archive, to: notes) }
        #expect(error?.kind == .targetExists)
        #expect(error?.message.contains("--force") == true)
        // Not even --force replaces what is not a factpipe database.
        #expect(snapshotError { try restore(archive, to: notes, force: true) }?.kind == .targetNotADatabase)
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "precious")

        let target = try databaseCopy(work, "target.sqlite")

        // A stale WAL of the replaced database must not be replayed into the restored one.
        try work.write("target.sqlite-wal", "stale write-ahead log")
        try work.write("target.sqlite-shm", "stale index")
        let result = try restore(archive, to: target, force: true)
        #expect(result.replacedExisting)
        #expect(!FileManager.default.fileExists(atPath: target + "-wal"))
        #expect(try storedFacts(target) == (try storedFacts(work.databasePath)))
    }

    /// A target that is a symlink to the database is restored through it: the real file gets the
    /// restored database (and loses its old log), the link stays a link.
    @Test func aSymlinkedTargetIsRestoredThroughTheLink() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work)
        try FileManager.default.createDirectory(atPath: work.path("data"), withIntermediateDirectories: true)
        let real = work.path("data/real.sqlite")
        #expect(work.load(try work.write("other.txt", "Other(1).\n")) { $0.databasePath = real }.inserted == 1)
        try work.write("data/real.sqlite-wal", "stale write-ahead log")
        let link = work.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "data/real.sqlite")

        let result = try restore(archive, to: link, force: true)
        #expect(result.targetPath == link && result.replacedExisting)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "data/real.sqlite")
        #expect(try storedFacts(real) == (try storedFacts(work.databasePath)))
        #expect(!FileManager.default.fileExists(atPath: real + "-wal"))
        #expect(try folderContents(work.path("data")).filter { $0.hasPrefix(".") }.isEmpty, "no temporary left")
    }

    @Test func aDamagedArchiveChangesNothing() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work)
        let snapshot = work.path("s.ndjson.zst")
        try export(work, to: "s.ndjson.zst")
        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        let before = try folderContents(work.directory.url.path)

        let whole = try bytes(archive)
        try write(Array(whole.prefix(whole.count / 2)), to: work.path("cut.db.zst"))
        try copyFlippingByte(archive, to: work.path("flip.db.zst"), at: whole.count / 3)
        try copyFlippingByte(snapshot, to: work.path("flip.ndjson.zst"), at: 40)
        let cases: [(String, Set<SnapshotError.Kind>)] = [
            ("cut.db.zst", [.missingManifest, .truncated]),
            ("flip.db.zst", [.corruptFrame, .hashMismatch]),
            ("flip.ndjson.zst", [.corruptFrame, .hashMismatch]),
            ("facts.sqlite", [.notAnArchive]),
        ]
        for (name, kinds) in cases {
            let error = snapshotError { try restore(work.path(name), to: target, force: true) }
            #expect(error.map { kinds.contains($0.kind) } == true, "\(name): \(String(describing: error))")
            #expect(try bytes(target) == precious, "\(name)")
        }
        #expect(
            try folderContents(work.directory.url.path).filter { !$0.hasPrefix("target.sqlite-") }
                == (before + ["cut.db.zst", "flip.db.zst", "flip.ndjson.zst"]).sorted())
    }

    @Test func aSnapshotWhoseManifestCountIsWrongIsNotRestored() throws {
        let work = try loadedWorkspace()
        var manifest = try export(work, to: "s.ndjson").manifest
        manifest.factCount -= 1
        try (manifest.json + "\n").write(toFile: work.path("s.ndjson.manifest.json"), atomically: true, encoding: .utf8)
        let error = snapshotError { try restore(work.path("s.ndjson"), to: work.path("restored.sqlite")) }
        #expect(error?.kind == .countMismatch)
        #expect(!FileManager.default.fileExists(atPath: work.path("restored.sqlite")))
    }

    /// A snapshot's records are read without the limits of a load, but not without bound: one record
    /// padded with 1.5 GB of the spaces JSON allows took 3.1 GB of memory to restore, one statement of 25
    /// million arguments 907 MB. A record past 64 MiB, or a statement of more than 100,000 arguments, is
    /// refused, naming the record, and nothing is restored.
    @Test func aSnapshotRecordPastTheRestoresBoundsIsRefused() throws {
        let work = try loadedWorkspace()
        let manifest = try export(work, to: "s.ndjson").manifest
        let lines = try String(contentsOfFile: work.path("s.ndjson"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let arguments = (0..<100_001).map { "a\($0)" }.joined(separator: ", ")
        let cases = [
            (
                "padded", [String(lines[0].dropLast()) + String(repeating: " ", count: 65 << 20) + "}"],
                "record_too_long"
            ),
            ("arguments", [#"{"statement":"Many(\#(arguments))."}"#], "limit_exceeded"),
        ]
        for (name, records, reason) in cases {
            let content = (records + lines.dropFirst()).joined(separator: "\n") + "\n"
            try content.write(toFile: work.path("\(name).ndjson"), atomically: true, encoding: .utf8)
            var changed = manifest
            changed.factCount = Int64(lines.count - 1 + records.count)
            changed.contentBytes = Int64(content.utf8.count)
            changed.contentSHA256 = try sha256sum(work.path("\(name).ndjson"))
            try (changed.json + "\n").write(
                toFile: work.path("\(name).ndjson.manifest.json"), atomically: true, encoding: .utf8)
            #expect(ArchiveVerifier(path: work.path("\(name).ndjson")).run().isValid, "\(name)")
            let error = snapshotError { try restore(work.path("\(name).ndjson"), to: work.path("\(name).sqlite")) }
            #expect(error?.kind == .countMismatch, "\(name): \(String(describing: error))")
            #expect(error?.message.contains("\(name).ndjson:1: \(reason)") == true, "\(name)")
            #expect(!FileManager.default.fileExists(atPath: work.path("\(name).sqlite")), "\(name)")
        }
    }

    @Test func theArchiveItselfIsNeverTheTargetAndPermissionsFollowTheReplacedDatabase() throws {
        let work = try loadedWorkspace()
        let archive = try backup(work)
        let before = try bytes(archive)
        #expect(
            snapshotError { try restore(archive, to: archive, force: true) }?.message.contains("the archive itself")
                == true)
        #expect(try bytes(archive) == before)

        let target = try databaseCopy(work, "private.sqlite")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        _ = try restore(archive, to: target, force: true)
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func framesThatAreNotTheOnesTheManifestDescribesAreRefused() throws {
        // Sound frames of one backup with the manifest of another of the same size and count.
        let work = try loadedWorkspace()
        let first = try backup(work)
        let writer = try work.database()
        try writer.execute("UPDATE facts SET confidence = 0.5 WHERE statement = 'HasPart(Computer, CPU).'")
        let second = try backup(work)
        let framesEnd = { (path: String) throws -> Int in
            guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: path)) else {
                throw SnapshotError(.missingManifest, path: path, "no manifest")
            }
            return Int(offset)
        }
        let spliced =
            Array(try bytes(second).prefix(try framesEnd(second)))
            + Array(try bytes(first).dropFirst(try framesEnd(first)))
        try write(spliced, to: work.path("spliced.db.zst"))
        let error = snapshotError { try restore(work.path("spliced.db.zst"), to: work.path("restored.sqlite")) }
        #expect(error?.kind == .hashMismatch, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: work.path("restored.sqlite")))
        #expect(ArchiveVerifier(path: work.path("spliced.db.zst")).run().problems.map(\.kind).contains(.hashMismatch))
    }

    /// `restore --force` removed the replaced database's `-wal` before renaming the new file over it: when the
    /// rename failed (an immutable file, a database bind-mounted into a container), the transactions committed
    /// in the log were gone, and the restore said the target was left as it was. The log is moved aside and put
    /// back; once the new file is in place, it is removed.
    @Test func aFailedReplacementLeavesTheOldDatabaseItsLog() throws {
        let directory = try TemporaryDirectory()
        let target = try directory.write("kb.sqlite", "")
        let log = try directory.write("kb.sqlite-wal", "committed transactions")
        let journal = try directory.write("kb.sqlite-journal", "a crashed writer's journal")
        let temporary = try directory.write(".restored.sqlite", "the restored database")
        var options = RestoreOptions(archivePath: directory.path("kb.ndjson.zst"), targetPath: target)
        options.force = true
        let restorer = ArchiveRestorer(options: options)
        #expect(throws: SnapshotError.self) {
            try restorer.replaceTarget(with: temporary) { () throws(SnapshotError) in
                throw SnapshotError(.io, path: target, "cannot rename the restored database into place: EBUSY")
            }
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "committed transactions")
        #expect(try String(contentsOfFile: journal, encoding: .utf8) == "a crashed writer's journal")
        // The writer lock the replacement is made under stays beside the database, as a load's does.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.url.path))
            == ["kb.sqlite", "kb.sqlite-wal", "kb.sqlite-journal", ".restored.sqlite", "kb.sqlite-factpipe.lock"])

        // A failure after the new file is in place (the folder's sync) never puts the old log back beside it,
        // where it would be replayed into the new database; nor leaves it hidden.
        let failing = try directory.write(".failing.sqlite", "")
        try directory.write("kb.sqlite-wal", "the old database's log")
        #expect(throws: SnapshotError.self) {
            try restorer.replaceTarget(with: failing) { () throws(SnapshotError) in
                #expect(rename(failing, target) == 0)
                throw SnapshotError(.io, path: target, "cannot sync the folder")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: log))
        #expect(!FileManager.default.fileExists(atPath: journal))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.url.path))
            == ["kb.sqlite", ".restored.sqlite", "kb.sqlite-factpipe.lock"])

        try restorer.replaceTarget(with: temporary) { () throws(SnapshotError) in
            #expect(rename(temporary, target) == 0)
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "the restored database")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.url.path))
            == ["kb.sqlite", "kb.sqlite-factpipe.lock"])
    }
}
