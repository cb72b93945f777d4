import Foundation
import Testing

@testable import FactPipe

/// A backup holds whatever database its frames decode to: one another program wrote (or a factpipe
/// database with a view, a trigger, a collation or an index factpipe never makes) verified "ok" and
/// was restored over a database, and a `facts` view ran its query inside `verify`. Such a database is
/// judged by its schema, before any of its tables is read, and refused.
@Suite struct ForeignBackupTests {
    /// How each database is made from a fresh copy of a factpipe database at the path given.
    static let cases: [(name: String, make: @Sendable (String) throws -> Void)] = [
        ("another program's facts table", { path in
            try FileManager.default.removeItem(atPath: path)
            try RawDatabase(path, create: true).execute(
                "CREATE TABLE facts(x); INSERT INTO facts VALUES (1), (2), (3); PRAGMA user_version = 3")
        }),
        ("a trigger on facts", { path in
            try RawDatabase(path).execute(
                "CREATE TRIGGER wipe AFTER INSERT ON facts BEGIN DELETE FROM facts; END")
        }),
        ("statements collated without case", { path in
            try FileManager.default.removeItem(atPath: path)
            let schema = FactSchema.createTables.replacingOccurrences(
                of: "statement TEXT NOT NULL,", with: "statement TEXT NOT NULL COLLATE NOCASE,")
            try RawDatabase(path, create: true).execute(
                schema + ";" + FactSchema.uniqueIndex.sql + """
                ; INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
                VALUES ('A(b).', 'A', 'b', '["b"]', 1, '2025-01-01T00:00:00Z'); PRAGMA user_version = 3
                """)
        }),
        ("facts a view", { path in
            try RawDatabase(path).execute(
                "ALTER TABLE facts RENAME TO stored_facts; CREATE VIEW facts AS SELECT * FROM stored_facts")
        }),
        ("an unknown schema version", { path in
            try RawDatabase(path).execute("PRAGMA user_version = 999")
        }),
        ("an index on an expression", { path in
            try RawDatabase(path).execute(
                """
                CREATE TABLE notes(n TEXT); INSERT INTO notes VALUES ('a');
                CREATE INDEX notes_upper ON notes(upper(n))
                """)
        }),
    ]

    /// A backup archive of the database file at `database`, built as factpipe builds one: frames that
    /// record their content size, then the manifest in its frame, with the file's own count and version.
    private func writeBackup(of database: String, to path: String) throws {
        let raw = try RawDatabase(database, readOnly: true)
        let version = Int64(try raw.int("PRAGMA user_version"))
        let isView = try raw.int("SELECT count(*) FROM sqlite_schema WHERE name = 'facts' AND type = 'view'") == 1
        let count = Int64(try raw.int("SELECT count(*) FROM \(isView ? "stored_facts" : "facts")"))
        let frames = path + ".frames"
        try runTool("/usr/bin/zstd", ["-q", "-f", "-3", database, "-o", frames])
        let manifest = SnapshotManifest(
            kind: .backup, format: .sqlite, compression: "zstd", schemaVersion: version, factCount: count,
            contentBytes: Int64(try bytes(database).count), contentSHA256: try sha256sum(database),
            createdAt: "2026-01-01T00:00:00Z", sourceDatabase: database, integrityCheck: "ok",
            compressedSHA256: try sha256sum(frames))
        try write(try bytes(frames) + SkippableFrame.encode(manifestJSON: manifest.json), to: path)
        try FileManager.default.removeItem(atPath: frames)
    }

    @Test(arguments: 0..<ForeignBackupTests.cases.count)
    func aBackupOfADatabaseFactpipeDoesNotMakeIsNeitherVerifiedNorRestored(index: Int) throws {
        let (name, make) = Self.cases[index]
        let work = try loadedWorkspace()
        let hostile = try databaseCopy(work, "hostile.sqlite")
        try make(hostile)
        let archive = work.path("hostile.db.zst")
        try writeBackup(of: hostile, to: archive)

        for check in [IntegrityCheck.quick, .full] {
            let report = ArchiveVerifier(path: archive, databaseCheck: check).run()
            #expect(report.problems.map(\.kind) == [.notAFactpipeDatabase], "\(name): \(report.problems)")
            #expect(report.countedFacts == nil, "\(name)")
        }
        let target = try databaseCopy(work, "target.sqlite")
        let precious = try bytes(target)
        let error = snapshotError {
            var options = RestoreOptions(archivePath: archive, targetPath: target)
            options.force = true
            return try ArchiveRestorer(options: options).run()
        }
        #expect(error?.kind == .notAFactpipeDatabase, "\(name): \(String(describing: error))")
        #expect(error?.path == archive)
        #expect(error?.message.contains("not a factpipe database") == true, "\(name)")
        #expect(try bytes(target) == precious, "\(name)")
    }

    /// `restore` would refuse it, so a backup of a database holding a trigger is not kept: the backup
    /// fails at once, naming what is wrong, instead of a restore failing when it is needed.
    @Test func aDatabaseWithATriggerIsNotBackedUp() throws {
        let work = try loadedWorkspace()
        try work.database().execute("CREATE TRIGGER wipe AFTER INSERT ON facts BEGIN DELETE FROM facts; END")
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let error = snapshotError {
            try DatabaseBackup(options: BackupOptions(databasePath: work.databasePath, directory: work.path("backups")))
                .run()
        }
        #expect(error?.kind == .notAFactpipeDatabase, "\(String(describing: error))")
        #expect(error?.message.contains("trigger, wipe on facts") == true, "\(String(describing: error))")
        #expect(try folderContents(work.path("backups")).isEmpty)
    }
}
