import FactPipeTestSupport
import Foundation
import Testing

/// Reading a factpipe database (a WAL database) makes SQLite create its `-wal` and `-shm`; the commands
/// that only read must not leave them behind, nor take them from a connection that still uses them.
@Suite struct ReaderSideFileTests {
    private func readers(_ work: CLIWorkspace) throws -> [[String]] {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        return [
            ["stats", "--db", work.database],
            ["query", "--db", work.database, "--predicate", "HasPart"],
            ["export", "--db", work.database, "-o", work.path("s.ndjson.zst")],
            ["backup", "--db", work.database, "--to", work.path("backups")],
        ]
    }

    @Test func aCommandThatOnlyReadsLeavesNoLogBesideTheDatabase() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let sideFiles = [work.database + "-wal", work.database + "-shm"]
        #expect(sideFiles.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        let facts = try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")
        for arguments in try readers(work) {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect(
                sideFiles.filter { FileManager.default.fileExists(atPath: $0) } == [], "after \(arguments[0])")
        }
        // Nothing was written: the facts and the ledger are those of the load.
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == facts)
        #expect(try SQLiteFile.ledger(work.database).count == 1)
    }

    @Test func aReaderBesideAnotherConnectionLeavesItsLogInPlace() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let other = try RawDatabase(work.database)
        try other.execute("BEGIN")
        let facts = try other.int("SELECT count(*) FROM facts")
        for arguments in try readers(work) {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: work.database + "-wal"), "after \(arguments[0])")
            #expect(FileManager.default.fileExists(atPath: work.database + "-shm"), "after \(arguments[0])")
        }
        // The other connection's snapshot still reads, and a load after it writes through the same log.
        #expect(try other.int("SELECT count(*) FROM facts") == facts)
        try other.execute("COMMIT")
        let load = try Factpipe.run(["import", try work.write("more.txt", "ReaderTest(a, b).\n"), "--db", work.database])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try other.int("SELECT count(*) FROM facts") == facts + 1)
        #expect(try other.column("PRAGMA quick_check") == ["ok"])
    }

    /// A log a killed writer left holds committed transactions a close would fold into the file: readers
    /// read it as it is and change no byte of the database or its log, nor does a look at a file the user
    /// may not write (root may write any; `0444` says not to).
    @Test func aReaderLeavesAKilledWritersLogAndAReadOnlyFileByteForByte() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA wal_autocheckpoint=0")
            c.execute("DELETE FROM facts WHERE id <= 3")
            os._exit(0)
            """
        _ = try Factpipe.tool("/usr/bin/python3", ["-c", script, work.database])
        let log = work.database + "-wal"
        #expect(try work.size(log) > 0)
        let before = (try sha256sum(work.database), try sha256sum(log))
        _ = try work.write("p.toml", "name = \"p\"\ndatabase = \"kb.sqlite\"\n[sources]\npaths = [\"*.txt\"]\n")
        for arguments in try readers(work) + [["loads", "--db", work.database], ["run", work.path("p.toml"), "--dry-run"]] {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect((try sha256sum(work.database), try sha256sum(log)) == before, "after \(arguments[0])")
        }
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == snapshotFixtureFacts - 3)

        let other = try CLIWorkspace()
        try other.loadFacts()
        #expect(chmod(other.database, 0o444) == 0)
        let untouched = try sha256sum(other.database)
        for arguments in try readers(other) {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect(try sha256sum(other.database) == untouched, "after \(arguments[0])")
        }
    }

    /// A reader running as another user leaves a `-wal` and `-shm` it owns, which the owner's writes cannot
    /// use: SQLite said "attempt to write a readonly database (in: BEGIN IMMEDIATE)". The writer now names
    /// the file, its owner and the remedy, and loads once they are gone.
    @Test func aWriterNamesSideFilesItMayNotWrite() throws {
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "P(a, b).\n")
        let second = try work.write("b.txt", "P(c, d).\n")
        try openToEveryone(work)
        let loaded = try runFactpipeUnprivileged(["import", first, "--db", work.database, "-q"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        // As a reader of another user leaves them: files the writer may not write.
        let shm = try work.write("kb.sqlite-shm", Data(count: 32_768))
        let wal = try work.write("kb.sqlite-wal", "")
        #expect(chmod(shm, 0o444) == 0 && chmod(wal, 0o444) == 0)
        let refused = try runFactpipeUnprivileged(["import", second, "--db", work.database])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("kb.sqlite-shm belongs to "), "\(refused.stderr)")
        #expect(refused.stderr.contains("this user may not write it"), "\(refused.stderr)")
        #expect(refused.stderr.contains("remove "), "\(refused.stderr)")
        try FileManager.default.removeItem(atPath: shm)
        try FileManager.default.removeItem(atPath: wal)
        #expect(try runFactpipeUnprivileged(["import", second, "--db", work.database, "-q"]).status == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    /// A database file its user may not write (0444), or in a folder they may not write: the load failed on
    /// its first write ("attempt to write a readonly database", naming a DROP INDEX) and left a `-wal` and a
    /// `-shm` of the file's mode, which refused the owner's every load once the file was writable again.
    /// Refused before SQLite opens it now, saying why, with nothing left beside it.
    @Test func aDatabaseThisUserMayNotWriteIsRefusedLeavingNothing() throws {
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "P(a, b).\n")
        let second = try work.write("b.txt", "P(c, d).\n")
        try FileManager.default.createDirectory(atPath: work.path("db"), withIntermediateDirectories: false)
        try openToEveryone(work)
        let database = work.path("db/kb.sqlite")
        #expect(try runFactpipeUnprivileged(["import", first, "--db", database, "-q"]).status == 0)
        #expect(chmod(database, 0o444) == 0)
        let readOnly = try runFactpipeUnprivileged(["import", second, "--db", database])
        #expect(readOnly.status == 1)
        #expect(readOnly.stderr.contains("this user may not write the file (mode 444"), "\(readOnly.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("db")).sorted()
            == ["kb.sqlite", "kb.sqlite-factpipe.lock"])
        #expect(chmod(database, 0o666) == 0)
        #expect(chmod(work.path("db"), 0o555) == 0)
        defer { _ = chmod(work.path("db"), 0o777) }
        let folder = try runFactpipeUnprivileged(["import", second, "--db", database])
        #expect(folder.status == 1)
        #expect(folder.stderr.contains("this user may not write its folder \(work.path("db"))"), "\(folder.stderr)")
        // A -wal without its -shm: SQLite must still make one there.
        let wal = try work.write("db/kb.sqlite-wal", "")
        #expect(chmod(wal, 0o666) == 0)
        let walOnly = try runFactpipeUnprivileged(["import", second, "--db", database])
        #expect(walOnly.stderr.contains("this user may not write its folder"), "\(walOnly.stderr)")
        // Another program's database, loaded with --into-existing, is looked at alike.
        let existing = try runFactpipeUnprivileged(["import", second, "--db", database, "--into-existing"])
        #expect(existing.status == 1)
        #expect(existing.stderr.contains("this user may not write its folder"), "\(existing.stderr)")
        #expect(chmod(work.path("db"), 0o777) == 0)
        try FileManager.default.removeItem(atPath: wal)
        #expect(try runFactpipeUnprivileged(["import", second, "--db", database, "-q"]).status == 0)
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == 2)
    }

    /// Another user's database in their own folder: a reader must make the `-shm` of a WAL database beside
    /// it. export, stats, query and backup failed with "attempt to write a readonly database (in: PRAGMA
    /// cache_size…)", as if a write were asked; they say what SQLite needs now.
    @Test func aReaderThatMayNotWriteTheFolderSaysWhySQLiteCannotReadIt() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", "P(a, b).\n")
        try FileManager.default.createDirectory(atPath: work.path("theirs"), withIntermediateDirectories: false)
        let database = work.path("theirs/kb.sqlite")
        #expect(try Factpipe.run(["import", input, "--db", database, "-q"]).status == 0)
        try openToEveryone(work)
        #expect(chmod(work.path("theirs"), 0o755) == 0 && chmod(database, 0o644) == 0)
        for command in [["stats"], ["query", "--predicate", "P"], ["export", "-o", work.path("out.ndjson")]] {
            let run = try runFactpipeUnprivileged(command + ["--db", database])
            #expect(run.status == 1, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("cannot read it: SQLite makes \(database)-shm beside a database in WAL mode"),
                    "\(command): \(run.stderr)")
        }
    }
}
