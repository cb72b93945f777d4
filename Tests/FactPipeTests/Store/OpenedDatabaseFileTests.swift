import Foundation
import Testing

@testable import FactPipe

#if canImport(Glibc)
import Glibc
#endif

/// `WriterConnection.commit` (every load's and undo's) refuses to commit into a file its path no longer
/// names, and leaves the file now at the path as it was.
@Suite struct OpenedDatabaseFileTests {
    @Test func aCommitIntoAFileMovedOverFailsAndTheLogIsEmptied() throws {
        let work = try LoadWorkspace()
        let other = work.path("other.sqlite")
        do {
            let seed = try FactDatabase.openForWriting(path: other)
            try seed.execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) "
                + "VALUES ('Kept(x).', 'Kept', 'x', '[\"x\"]', 1, '2025-01-01T00:00:00Z')")
        }
        let connection = try FactDatabase.openForWriting(path: work.databasePath)
        let database = WriterConnection(connection: connection, settings: .init(), isAtomic: false)
        try database.begin()
        try connection.execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) "
            + "VALUES ('Lost(y).', 'Lost', 'y', '[\"y\"]', 1, '2025-01-01T00:00:00Z')")
        #expect(rename(other, work.databasePath) == 0)
        do {
            try database.commit()
            Issue.record("committed into a file that lost its name")
        } catch {
            #expect(error.kind == .replaced, "\(error)")
        }
        #expect(!connection.isInTransaction)
        let log = work.databasePath + "-wal"
        let logSize = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
        #expect(logSize == 0)
        let db = try RawDatabase(work.databasePath, readOnly: true)
        #expect(try db.int("SELECT count(*) FROM facts") == 1)
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement = 'Kept(x).'") == 1)
    }

    @Test func aCommitIntoTheSameFileGoesThrough() throws {
        let work = try LoadWorkspace()
        let connection = try FactDatabase.openForWriting(path: work.databasePath)
        let database = WriterConnection(connection: connection, settings: .init(), isAtomic: false)
        try database.begin()
        try connection.execute("INSERT INTO facts(statement, predicate, subject, args, arity, created_at) "
            + "VALUES ('Stays(z).', 'Stays', 'z', '[\"z\"]', 1, '2025-01-01T00:00:00Z')")
        try database.commit()
        #expect(try RawDatabase(work.databasePath, readOnly: true).int("SELECT count(*) FROM facts") == 1)
    }
}
