import Foundation
import Testing

@testable import FactPipe

/// Opening other programs' databases: read-only, no side files, not a byte changed.
@Suite struct ReadOnlyDatabaseTests {
    @Test func theKnowledgeBaseOpensReadOnlyWithoutSideFilesAndStaysByteForByteTheSame() throws {
        let work = try LoadWorkspace()
        let path = try copyOfHexagonalKB(in: work)
        let before = try fileContents(path)
        do {
            let database = try ReadableFactDatabase(path: path)
            #expect(database.kind == .foreign)
            #expect(
                database.columns == [
                    "statement", "context", "fact_metadata", "predicate", "subject", "object", "statement_hash",
                    "confidence", "source",
                ])
            #expect(try database.connection.scalarInt("SELECT count(*) FROM facts") == 4_244)
            // Read-only: a write is refused by SQLite itself.
            #expect(throws: StoreError.self) { try database.connection.execute("DELETE FROM facts") }
            #expect(try folderListing(work.path("hexagonal")) == ["hexagonal_kb.db"])
        }
        #expect(try fileContents(path) == before)
        #expect(try folderListing(work.path("hexagonal")) == ["hexagonal_kb.db"])
    }

    @Test func aWALDatabaseWithoutALogIsOpenedImmutableAndGetsNoSideFiles() throws {
        let work = try LoadWorkspace()
        let path = work.path("other.db")
        do {
            let raw = try RawDatabase(path, create: true)
            try raw.execute(
                """
                PRAGMA journal_mode=WAL;
                CREATE TABLE facts(statement TEXT PRIMARY KEY, confidence REAL);
                INSERT INTO facts VALUES ('IsA(Socrates, Human).', 0.9), ('HasPart(Computer, CPU).', 1.0);
                """)
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "closing the last connection removes the log")
        let header = Array(try fileContents(path).prefix(100))
        #expect(ReadOnlyDatabase.isWALHeader(header))
        let before = try fileContents(path)
        var seen: [StoredFact] = []
        try FactQuery(subject: "Socrates").run(databasePath: path) { seen.append($0) }
        #expect(seen.map(\.statement) == ["IsA(Socrates, Human)."])
        #expect(seen.first?.confidence == 0.9)
        #expect(try folderListing(work.directory.url.path).filter { $0.hasPrefix("other.db") } == ["other.db"])
        #expect(try fileContents(path) == before)
    }

    @Test func theURIKeepsQuestionMarksHashesAndPercentsInTheFileName() throws {
        let uri = ReadOnlyDatabase.uri(for: "/tmp/a b?c#d%e.db", mode: .immutable)
        #expect(uri == "file:/tmp/a%20b%3Fc%23d%25e.db?immutable=1")
        let work = try LoadWorkspace()
        let path = work.path("odd ?#% name.db")
        try copyKnowledgeBaseDatabase(to: path)
        let stats = try DatabaseStats.collect(path: path)
        #expect(stats.facts == 4_244)
    }

    @Test func aMissingFileIsNamedAndNotCreated() throws {
        let work = try LoadWorkspace()
        let path = work.path("missing.db")
        #expect {
            try DatabaseStats.collect(path: path)
        } throws: { error in
            "\(error)".contains("missing.db") && "\(error)".contains("no such file")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aDatabaseWithoutAFactsTableIsRefusedWithItsTables() throws {
        let work = try LoadWorkspace()
        let path = work.path("notes.db")
        try RawDatabase(path, create: true).execute("CREATE TABLE notes(text TEXT)")
        #expect {
            try DatabaseStats.collect(path: path)
        } throws: { error in
            "\(error)".contains("has no facts table") && "\(error)".contains("notes")
        }
    }
}
