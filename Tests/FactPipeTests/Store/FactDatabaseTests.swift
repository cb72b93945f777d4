import Foundation
import Testing
import CSQLite

@testable import FactPipe

/// Opens `path` for writing and returns the error it throws, if any.
private func openingError(_ path: String) -> StoreError? {
    do throws(StoreError) {
        _ = try FactDatabase.openForWriting(path: path)
        return nil
    } catch {
        return error
    }
}

private func fileBytes(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

@Suite struct FactDatabaseTests {
    @Test func openingANewFileCreatesTheSchemaAndSetsTheUserVersion() throws {
        let work = try LoadWorkspace()
        do {
            let connection = try FactDatabase.openForWriting(path: work.databasePath)
            #expect(try connection.scalarInt("PRAGMA user_version") == FactSchema.version)
            #expect(try connection.scalarText("PRAGMA journal_mode") == "wal")
            #expect(try connection.scalarInt("PRAGMA synchronous") == 1)
        }
        let db = try work.database()
        #expect(try db.int("PRAGMA user_version") == FactSchema.version)
        #expect(try db.column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") == [
            "factpipe_assertions", "factpipe_loads", "factpipe_sequence", "factpipe_staging", "facts",
        ])
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try db.column("SELECT name FROM pragma_table_info('facts') ORDER BY cid") == [
            "id", "statement", "predicate", "subject", "object", "args", "arity", "confidence", "source", "context",
            "fact_metadata", "created_at", "load_id", "updated_load_id",
        ])
        #expect(try db.column("SELECT name FROM pragma_index_info('facts_subject_predicate')") == ["subject", "predicate"])
        // statement is the unique key.
        try db.execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) VALUES ('P(a).', 'P', 'a', '[\"a\"]', 1, 'now')")
        #expect(throws: SQLiteTestError.self) {
            try db.execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) VALUES ('P(a).', 'P', 'a', '[\"a\"]', 1, 'now')")
        }
        #expect(try db.rows("SELECT confidence, context, fact_metadata FROM facts") == [["1.0", "{}", "{}"]])
    }

    @Test func reopeningAFactpipeDatabaseKeepsItsData() throws {
        let work = try LoadWorkspace()
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        try work.database().execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) VALUES ('P(a).', 'P', 'a', '[\"a\"]', 1, 'now')")
        let again = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try again.scalarInt("SELECT count(*) FROM facts") == 1)
        #expect(try FactDatabase.openForReading(path: work.databasePath).scalarInt("SELECT count(*) FROM facts") == 1)
    }

    @Test func anEmptyExistingFileGetsTheSchema() throws {
        let work = try LoadWorkspace()
        try work.write("facts.sqlite", "")
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try work.database().int("PRAGMA user_version") == FactSchema.version)
    }

    @Test func anUnknownSchemaVersionIsRefusedWithAClearMessage() throws {
        let work = try LoadWorkspace()
        try RawDatabase(work.databasePath, create: true).execute("""
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT);
            CREATE TABLE factpipe_loads(id INTEGER PRIMARY KEY);
            PRAGMA user_version = 99;
            """)
        let error = try #require(openingError(work.databasePath))
        #expect(error.kind == .unsupportedSchema)
        #expect(error.path == work.databasePath)
        #expect(error.message.contains("schema version 99 is not supported"))
        #expect(error.message.contains("it knows version \(FactSchema.version)"))
        #expect(error.description.hasPrefix("\(work.databasePath): "))
        #expect(try work.database().int("PRAGMA user_version") == 99)
        #expect(throws: StoreError.self) { try FactDatabase.openForReading(path: work.databasePath) }
    }

    @Test func aDatabaseWithOtherTablesIsRefusedAndItsSchemaAndDataAreLeftAlone() throws {
        let work = try LoadWorkspace()
        let schema = """
            CREATE TABLE facts(statement TEXT PRIMARY KEY, context TEXT DEFAULT '{}', fact_metadata TEXT DEFAULT '{}', \
            predicate TEXT, subject TEXT, object TEXT, statement_hash TEXT, confidence REAL DEFAULT 1.0, source TEXT DEFAULT 'system');
            CREATE INDEX idx_predicate ON facts(predicate);
            CREATE TABLE audit_log(id INTEGER PRIMARY KEY, what TEXT);
            CREATE TRIGGER facts_audit AFTER INSERT ON facts BEGIN INSERT INTO audit_log(what) VALUES (new.statement); END;
            INSERT INTO facts(statement) VALUES ('HasPart(Computer, CPU).');
            """
        try RawDatabase(work.databasePath, create: true).execute(schema)
        let before = try work.database().rows("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name")
        let error = try #require(openingError(work.databasePath))
        #expect(error.kind == .foreignDatabase)
        #expect(error.message.contains("not a factpipe database"))
        #expect(error.message.contains("tables: audit_log, facts"))
        #expect(error.message.contains("never alters a database it did not create"))
        let db = try work.database()
        #expect(try db.rows("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name") == before)
        #expect(try db.int("PRAGMA user_version") == 0)
        #expect(try db.column("SELECT statement FROM facts") == ["HasPart(Computer, CPU).", ])
        #expect(try db.int("SELECT count(*) FROM audit_log") == 1)
    }

    /// DESIGN 1.4: a database factpipe did not create is never altered. Switching it to WAL changes its
    /// file header (and every later reader's locking), so the refused file must stay byte for byte the same.
    @Test func aRefusedDatabaseKeepsItsJournalModeAndBytes() throws {
        let work = try LoadWorkspace()
        try RawDatabase(work.databasePath, create: true).execute("CREATE TABLE notes(x); INSERT INTO notes VALUES (1);")
        let before = try fileBytes(work.databasePath)
        #expect(try work.database().column("PRAGMA journal_mode") == ["delete"])
        #expect(openingError(work.databasePath)?.kind == .foreignDatabase)
        #expect(try fileBytes(work.databasePath) == before, "the refused database file was changed")
        #expect(try work.database().column("PRAGMA journal_mode") == ["delete"])
    }

    @Test func openingForReadingRefusesADatabaseFactpipeDidNotCreate() throws {
        let work = try LoadWorkspace()
        try RawDatabase(work.databasePath, create: true).execute("CREATE TABLE notes(x);")
        do throws(StoreError) {
            _ = try FactDatabase.openForReading(path: work.databasePath)
            Issue.record("opened a foreign database for reading")
        } catch {
            #expect(error.kind == .foreignDatabase)
        }
    }

    @Test func aPathInAMissingFolderIsRefusedBeforeSQLiteIsAsked() throws {
        let error = try #require(openingError("/nonexistent-factpipe-dir/facts.sqlite"))
        // factpipe found it itself: its own kind, not a result code SQLite never returned.
        #expect(error.kind == .unusablePath)
        #expect(error.sqliteCode == nil)
        #expect(error.message.hasPrefix("cannot open database"))
        #expect(error.message.contains("its folder /nonexistent-factpipe-dir does not exist"), "\(error.message)")
    }

    /// `kb.sqlite/` names a folder; with `kb.sqlite` a file, its folder is there but is not a folder.
    @Test func aPathUnderAFileSaysItsFolderIsNotAFolder() throws {
        let work = try LoadWorkspace()
        let file = try work.write("kb.sqlite", "")
        let error = try #require(openingError(file + "/"))
        #expect(error.kind == .unusablePath)
        #expect(error.message == "cannot open database: its folder \(file) is not a folder", "\(error.message)")
        let deeper = try #require(openingError(file + "/sub/kb.sqlite"))
        #expect(deeper.message == "cannot open database: its folder \(file)/sub is not a folder", "\(deeper.message)")
    }

    /// A link into a missing folder: the message names that folder, not the link's own (`.`).
    @Test func aLinkIntoAMissingFolderNamesThatFolder() throws {
        let work = try LoadWorkspace()
        let link = work.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "missing-dir/facts.sqlite")
        let error = try #require(openingError(link))
        #expect(error.kind == .unusablePath)
        #expect(error.message.contains("it is a link to missing-dir/facts.sqlite, whose folder "
            + "\(work.path("missing-dir")) does not exist"), "\(error.message)")
        #expect(FileManager.default.fileExists(atPath: work.path("missing-dir")) == false)
    }
}

/// SQLite's soft heap limit is the process's: a writer sets factpipe's while it is open and gives the
/// program's own back as it closes. Set by a pragma and kept, it bounded an embedding program's own SQLite
/// connections by factpipe's 56 MiB from the first load on. (Other tests' loads may hold the limit
/// meanwhile: the program's limit is set, and read back, only while none does.)
@Test func aWritersSoftHeapLimitIsGivenBackAsItCloses() throws {
    let programsOwn: Int64 = 7_777_777
    func whenNoWriterHoldsIt(_ body: () -> Void) throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !SQLiteSoftHeapLimit.whileNoneHeld(body) {
            try #require(ContinuousClock.now < deadline, "writers held the limit for a minute")
            usleep(2_000)
        }
    }
    try whenNoWriterHoldsIt { _ = sqlite3_soft_heap_limit64(programsOwn) }
    let work = try LoadWorkspace()
    do {
        let connection = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(sqlite3_soft_heap_limit64(-1) == Int64(DatabaseSettings().softHeapLimitBytes))
        withExtendedLifetime(connection) {}
    }
    var after: Int64 = 0
    try whenNoWriterHoldsIt { after = sqlite3_soft_heap_limit64(-1) }
    #expect(after == programsOwn)
    try whenNoWriterHoldsIt { _ = sqlite3_soft_heap_limit64(0) }
}
