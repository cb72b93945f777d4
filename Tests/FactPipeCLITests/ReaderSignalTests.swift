import Foundation
import Testing

/// A command that only reads, stopped by a signal, ends through its own end: exit 128 + the signal, an
/// `interrupted` object under `--json`, and no `-wal` or `-shm` left beside the database (killed by the
/// signal, it printed nothing and left both, which later readers then kept).
@Suite struct ReaderSignalTests {
    @Test func statsStoppedByASignalSaysSoAndLeavesNoSideFiles() throws {
        let work = try Self.bigDatabase()
        let stats = try BackgroundProcess(BinaryLocator.factpipe, ["stats", "--db", work.database, "--json"])
        // Signalled once it has the database open (its -shm is there) and while it counts.
        try #require(poll(timeout: 30) { FileManager.default.fileExists(atPath: work.database + "-shm") })
        kill(stats.process.processIdentifier, SIGTERM)
        let run = try stats.wait()
        #expect(run.status == 143, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "interrupted" && json["exit_code"] as? Int == 143, "\(json)")
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
        #expect(try SQLiteFile.strings(work.database, "PRAGMA quick_check") == ["ok"])
    }

    /// A backup ends by its signal handler, which removes its temporary files; it ended with the database
    /// open, and left its `-wal` and `-shm` beside it. Its connections are interrupted and closed first now.
    @Test func backupStoppedByASignalLeavesNoSideFiles() throws {
        let work = try Self.bigDatabase()
        let folder = work.path("backups")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let backup = try BackgroundProcess(BinaryLocator.factpipe, ["backup", "--db", work.database, "--to", folder])
        // Signalled while it copies the database (its -shm is there).
        try #require(poll(timeout: 30) { FileManager.default.fileExists(atPath: work.database + "-shm") })
        kill(backup.process.processIdentifier, SIGINT)
        let run = try backup.wait()
        #expect(run.status == 130, "\(run.stderr)")
        #expect(try work.contents("backups").isEmpty)
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
    }

    /// A database of over a million facts, grown by SQL (a load of that many takes the test's debug build
    /// long): `stats` takes a second or so to count it, a backup as long to copy and check it, so a signal
    /// comes while they work.
    private static func bigDatabase() throws -> CLIWorkspace {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "40000", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        do {
            let database = try RawDatabase(work.database)
            for round in 0..<5 {
                try database.execute("""
                    INSERT INTO facts(statement, predicate, subject, object, args, arity, confidence, source, context,
                    fact_metadata, created_at, load_id) SELECT 'R\(round)' || statement, predicate, subject, object,
                    args, arity, confidence, source, context, fact_metadata, created_at, load_id FROM facts
                    """)
            }
        }  // closed: its -wal and -shm go with it
        for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: work.database + suffix)) }
        return work
    }
}
