import Foundation
import Testing

@testable import FactPipe

/// A version-1 database, as the previous canonical form wrote it, brought to version 2 when a writer
/// opens it: statements rewritten, look-alike rows merged into the earliest one, nothing lost.
@Suite struct CanonicalFormMigrationTests {
    /// Builds a version-1 database: the schema made by the library, rows written with plain SQL in the
    /// forms the previous canonical form stored, `user_version` set back to 1.
    static func versionOneDatabase(_ work: LoadWorkspace) throws -> RawDatabase {
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        let db = try work.database()
        func row(
            _ id: Int, _ statement: String, _ predicate: String, _ args: [String], load: Int,
            metadata: String = "{}", context: String = "{}", source: String = "NULL"
        ) -> String {
            let object = args.count > 1 ? "'\(args[1])'" : "NULL"
            return """
                INSERT INTO facts(id, statement, predicate, subject, object, args, arity, confidence, source, context,
                    fact_metadata, created_at, load_id)
                VALUES (\(id), \(statement), \(predicate), '\(args[0])', \(object),
                    '\(JSONText.array(args).replacingOccurrences(of: "'", with: "''"))', \(args.count), 0.5, \(source),
                    '\(context)', '\(metadata)', '2025-01-0\(load)T00:00:00Z', \(load));
                """
        }
        try db.execute("""
            INSERT INTO factpipe_loads(id, source, conflict_policy, started_at, status)
                VALUES (1, 'one.txt', 'ignore', '2025-01-01T00:00:00Z', 'done'),
                       (2, 'two.txt', 'ignore', '2025-01-02T00:00:00Z', 'done');
            """)
        try db.execute(
            row(1, "'P(a b).'", "'P'", ["a b"], load: 1, metadata: "{\"merged_rows\":\"mine\"}")
                + row(2, "'P(a  b).'", "'P'", ["a  b"], load: 2, metadata: "{\"k\":2}", context: "{\"tags\":[\"t\"]}",
                      source: "'second'")
                + row(3, "'P(a' || char(9) || 'b).'", "'P'", ["a\tb"], load: 2)
                + row(4, "'Says(Bob, \"hi \"\"you\"\"\").'", "'Says'", ["Bob", "\"hi \"\"you\"\"\""], load: 1)
                + row(5, "'Says(Bob, \"hi \\\"you\\\"\").'", "'Says'", ["Bob", "\"hi \\\"you\\\"\""], load: 2)
                + row(6, "'La\u{0308}uftAuf(Server, Linux).'", "'La\u{0308}uftAuf'", ["Server", "Linux"], load: 1)
                + row(7, "'LäuftAuf(Server, Linux).'", "'LäuftAuf'", ["Server", "Linux"], load: 2)
                + row(8, "char(65279) || 'IsA(Dog, Animal).'", "char(65279) || 'IsA'", ["Dog", "Animal"], load: 2)
                + row(9, "'IsA(Z' || char(27) || 'c, Y).'", "'IsA'", ["Zc", "Y"], load: 2)
                + row(10, "'Q(x' || char(8203) || 'y).'", "'Q'", ["xy"], load: 2))
        try db.execute("""
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
                confidence, source, context, fact_metadata, created_at)
            VALUES (2, 9, 100, 'P(c  d).', 'P', 'c  d', NULL, '["c  d"]', 1, 1.0, NULL, '{}', '{}', 'now');
            PRAGMA user_version = 1;
            """)
        return db
    }

    @Test func aFactMergedFromTwoLoadsStaysWhileEitherLoadIsLive() throws {
        // Rows 1 (load 1) and 2 (load 2) become one fact, kept as row 1: load 2 asserts it too.
        let work = try LoadWorkspace()
        let db = try Self.versionOneDatabase(work)
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement = 'P(a b).'") == 1)
        try db.execute("DELETE FROM factpipe_staging")  // the fixture's row staged by an interrupted load 2
        _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement = 'P(a b).'") == 0)
    }

    @Test func aWriterMigratesAVersionOneDatabaseMergingLookAlikesIntoTheEarliestRow() throws {
        let work = try LoadWorkspace()
        let db = try Self.versionOneDatabase(work)
        let result = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try result.scalarInt("PRAGMA user_version") == FactSchema.version)
        #expect(try db.int("PRAGMA user_version") == FactSchema.version)
        #expect(try db.rows("SELECT id, statement, predicate, subject, object, args, arity FROM facts ORDER BY id") == [
            ["1", "P(a b).", "P", "a b", nil, "[\"a b\"]", "1"],
            ["4", "Says(Bob, \"hi \\\"you\\\"\").", "Says", "Bob", "\"hi \\\"you\\\"\"",
             "[\"Bob\",\"\\\"hi \\\\\\\"you\\\\\\\"\\\"\"]", "2"],
            ["6", "LäuftAuf(Server, Linux).", "LäuftAuf", "Server", "Linux", "[\"Server\",\"Linux\"]", "2"],
            ["8", "IsA(Dog, Animal).", "IsA", "Dog", "Animal", "[\"Dog\",\"Animal\"]", "2"],
            // Statements the new rule refuses are kept exactly as stored.
            ["9", "IsA(Z\u{1B}c, Y).", "IsA", "Zc", "Y", "[\"Zc\",\"Y\"]", "2"],
            ["10", "Q(x\u{200B}y).", "Q", "xy", nil, "[\"xy\"]", "1"],
        ])
        // NFC in bytes (SQLite compares bytes; `String` equality would hold NFD equal too).
        #expect(try db.int("SELECT count(*) FROM facts WHERE statement = 'L\u{E4}uftAuf(Server, Linux).' "
            + "AND predicate = 'L\u{E4}uftAuf' AND id = 6") == 1)
        // What the merged rows carried is in the kept row's fact_metadata; its own metadata stays.
        let metadata = try jsonObject(try db.column("SELECT fact_metadata FROM facts WHERE id = 1").first ?? nil)
        #expect(metadata["merged_rows"] as? String == "mine")
        let merged = try #require(metadata["merged_rows_2"] as? [[String: Any]])
        try #require(merged.count == 2)
        #expect(merged.compactMap { $0["id"] as? Int } == [2, 3])
        #expect(merged.compactMap { $0["statement"] as? String } == ["P(a  b).", "P(a\tb)."])
        #expect(merged.compactMap { $0["load_id"] as? Int } == [2, 2])
        #expect(merged[0]["source"] as? String == "second")
        #expect(merged[0]["confidence"] as? Double == 0.5)
        #expect((merged[0]["fact_metadata"] as? [String: Any])?["k"] as? Int == 2)
        #expect(((merged[0]["context"] as? [String: Any])?["tags"] as? [String]) == ["t"])
        #expect(merged[0]["created_at"] as? String == "2025-01-02T00:00:00Z")
        let says = try jsonObject(try db.column("SELECT fact_metadata FROM facts WHERE id = 4").first ?? nil)
        #expect((says["merged_rows"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [5])
        let läuft = try jsonObject(try db.column("SELECT fact_metadata FROM facts WHERE id = 6").first ?? nil)
        #expect((läuft["merged_rows"] as? [[String: Any]])?.first?["load_id"] as? Int == 2)
        // The kept rows keep their own columns.
        #expect(try db.column("SELECT load_id FROM facts WHERE id IN (1, 4, 6) ORDER BY id") == ["1", "1", "1"])
        // Staged rows of an interrupted load get the new form too.
        #expect(try db.column("SELECT statement FROM factpipe_staging") == ["P(c d)."])
        // Opening again changes nothing.
        let before = try db.rows("SELECT * FROM facts ORDER BY id")
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try db.rows("SELECT * FROM facts ORDER BY id") == before)
    }

    @Test func readersReadAVersionOneDatabaseAsItIsAndALoadMigratesIt() throws {
        let work = try LoadWorkspace()
        let db = try Self.versionOneDatabase(work)
        try db.execute("DELETE FROM factpipe_staging")
        var found: [Int64] = []
        try FactQuery(predicate: "P").run(databasePath: work.databasePath) { found.append($0.id ?? 0) }
        #expect(found.sorted() == [1, 2, 3])
        #expect(try db.int("PRAGMA user_version") == 1)
        let input = try work.write("more.txt", "P(a \t b).\nSays(Bob, \"hi \"\"you\"\"\").\nP(new).\n")
        let summary = work.load(input)
        #expect(summary.status == .done)
        #expect((summary.inserted, summary.duplicates) == (1, 2))
        #expect(try db.int("PRAGMA user_version") == FactSchema.version)
        #expect(try db.int("SELECT count(*) FROM facts") == 7)
    }
}
