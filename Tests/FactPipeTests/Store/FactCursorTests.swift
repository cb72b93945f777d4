import Foundation
import Testing

@testable import FactPipe

@Suite struct FactCursorTests {
    private func insert(_ db: RawDatabase, _ statement: String) throws {
        try db.execute(
            """
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
            VALUES ('\(statement)', 'W', 'x', '["x"]', 1, '2025-01-01T00:00:00Z')
            """)
    }

    @Test func aCursorSeesTheDatabaseAsItWasWhenItStarted() throws {
        let work = try loadedWorkspace()
        let cursor = try FactCursor(databasePath: work.databasePath, filter: FactFilter())
        // Commits from another connection after the cursor started, before and after its first row.
        let writer = try work.database()
        try insert(writer, "W(before_first_row).")
        var seen: [String] = []
        while try cursor.next() {
            if seen.isEmpty { try insert(writer, "W(after_first_row).") }
            seen.append(String(decoding: try #require(cursor.text(.statement)), as: UTF8.self))
        }
        try cursor.finish()
        #expect(seen.count == roundTripFixtureFacts)
        #expect(!seen.contains { $0.hasPrefix("W(") })
        #expect(try writer.int("SELECT count(*) FROM facts") == roundTripFixtureFacts + 2)
    }

    @Test func rowsComeInIdOrder() throws {
        let work = try loadedWorkspace()
        let cursor = try FactCursor(databasePath: work.databasePath, filter: FactFilter())
        var ids: [Int64] = []
        while try cursor.next() { ids.append(cursor.id) }
        #expect(ids == (1...Int64(roundTripFixtureFacts)).map { $0 })
        #expect(cursor.schemaVersion == FactSchema.version)
    }
}
