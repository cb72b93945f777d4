import Foundation
import Testing

@testable import FactPipe

/// factpipe's databases are recognised by their tables and columns; `user_version` alone proves nothing.
@Suite struct FactDatabaseRecognitionTests {
    @Test func userVersion1WithoutFactpipesTablesIsForeignAndLeftByteForByte() throws {
        let work = try LoadWorkspace()
        try RawDatabase(work.databasePath, create: true).execute("""
            PRAGMA user_version = 1;
            CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
            INSERT INTO notes(body) VALUES ('keep me');
            """)
        let before = try Data(contentsOf: URL(fileURLWithPath: work.databasePath))
        do throws(StoreError) {
            _ = try FactDatabase.openForWriting(path: work.databasePath)
            Issue.record("opened another program's database for writing")
        } catch {
            #expect(error.kind == .foreignDatabase)
            #expect(error.message.contains("user_version 1, tables: notes"), "\(error)")
        }
        #expect(throws: StoreError.self) { try FactDatabase.openForReading(path: work.databasePath) }
        #expect(throws: StoreError.self) { try FactDatabase.checkWritable(path: work.databasePath, mustExist: true) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: work.databasePath)) == before)
    }

    @Test func factpipesTablesWithoutTheirColumnsAreForeign() throws {
        let work = try LoadWorkspace()
        try RawDatabase(work.databasePath, create: true).execute("""
            PRAGMA user_version = 1;
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT);
            CREATE TABLE factpipe_loads(id INTEGER PRIMARY KEY);
            """)
        let connection = try SQLiteConnection(path: work.databasePath, readOnly: true)
        guard case .foreign(let reason) = try FactDatabase.content(of: connection) else {
            Issue.record("taken for factpipe's")
            return
        }
        #expect(reason.contains("facts table has no predicate"), "\(reason)")
    }

    @Test func aDatabaseFactpipeMadeIsRecognised() throws {
        let work = try LoadWorkspace()
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        let connection = try SQLiteConnection(path: work.databasePath, readOnly: true)
        #expect(try FactDatabase.content(of: connection) == .factpipe(version: FactSchema.version))
    }
}

/// A database reached through a symlink is the real file: its log is found beside the real file.
@Suite struct SymlinkedDatabaseTests {
    @Test func aReaderThroughASymlinkSeesWhatIsInTheLog() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        #expect(work.load(input).status == .done)
        let link = work.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: work.databasePath)
        // Another connection keeps a committed row in the log, not yet in the database file.
        let writer = try RawDatabase(work.databasePath)
        try writer.execute("""
            PRAGMA wal_autocheckpoint = 0;
            INSERT INTO factpipe_loads(source, conflict_policy, started_at, status)
            VALUES ('x', 'ignore', 'now', 'done');
            """)
        #expect(FileManager.default.fileExists(atPath: work.databasePath + "-wal"))
        #expect(try LoadRecord.all(databasePath: link).map(\.source).last == "x")
        #expect(FileSize.database(link).wal > 0)
        withExtendedLifetime(writer) {}
    }
}
