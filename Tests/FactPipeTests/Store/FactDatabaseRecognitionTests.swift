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
