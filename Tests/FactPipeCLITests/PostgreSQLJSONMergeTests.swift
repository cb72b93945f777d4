import Foundation
import Testing

/// `--on-conflict update` merges `context` and `fact_metadata` as RFC 7396 says, in PostgreSQL as in
/// SQLite (`json_patch`): nested objects key by key, a `null` deletes the key, arrays are replaced.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLJSONMergeTests {
    /// P(a) twice in one batch, then again in a second load; Q(b) across the loads.
    private static let first = """
        {"statement": "P(a).", "context": {"a": {"b": 1, "c": 2}, "d": 1, "l": [1, 2]}, \
        "fact_metadata": {"m": {"n": 1, "o": {"p": 1}}, "k": "v"}}
        {"statement": "P(a).", "context": {"a": {"b": null, "e": 3}, "d": null}, \
        "fact_metadata": {"m": {"o": {"p": null, "q": 2}}}}
        {"statement": "Q(b).", "context": {"x": {"y": 1, "z": {"w": 0}}}}

        """
    private static let second = """
        {"statement": "P(a).", "context": {"l": [null, {"z": null}], "a": "flat"}, \
        "fact_metadata": {"k": null, "new": {"deep": null, "kept": true}}}
        {"statement": "Q(b).", "context": {"x": {"y": null, "z": {"v": {"u": null}}}}}

        """

    private static let merged = [
        ["P(a).", #"{"a": "flat", "l": [null, {"z": null}]}"#,
         #"{"m": {"n": 1, "o": {"q": 2}}, "new": {"kept": true}}"#],
        ["Q(b).", #"{"x": {"z": {"v": {}, "w": 0}}}"#, "{}"],
    ]

    private func load(_ inputs: [String], into url: String) throws {
        for input in inputs {
            let run = try Factpipe.run(["import", input, "--db", url, "--on-conflict", "update", "--batch-size", "2",
                                        "--json", "-q"])
            #expect(run.status == 0, "\(run.stderr)")
            let updated = input.hasSuffix("first.ndjson") ? 1 : 2
            #expect(int(try run.json(), "updated") == updated, "\(run.stdoutText)")
        }
    }

    private func postgresFacts(_ database: PostgreSQLTestDatabase) throws -> [[String]] {
        try database.sql("SELECT statement, context::text, fact_metadata::text FROM facts ORDER BY statement")
    }

    @Test func updateMergesNestedObjectsAndDeletesNullKeysAsSQLiteDoes() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let inputs = [try work.write("first.ndjson", Self.first), try work.write("second.ndjson", Self.second)]
        try load(inputs, into: database.url)
        let sqlite = work.path("kb.sqlite")
        try load(inputs, into: sqlite)
        let fromSQLite = try SQLiteFile.rows(sqlite, "SELECT statement, context, fact_metadata FROM facts ORDER BY 1")
            .map { row in
                try ["statement", "context", "fact_metadata"].map { key in
                    let text = (row[key] as? String ?? "").replacingOccurrences(of: "'", with: "''")
                    return key == "statement" ? text : try database.sql("SELECT '\(text)'::jsonb::text")[0][0]
                }
            }
        #expect(fromSQLite == Self.merged)
        #expect(try postgresFacts(database) == Self.merged)
    }

    /// A stored `context` or `fact_metadata` that is no object (another program's, or a hand's) stays as it is
    /// when the record gives none, as in SQLite: the merge patch turned each into `{}`.
    @Test func updateKeepsAStoredValueThatIsNoObjectWhenTheRecordGivesNone() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let first = try work.write("j1.ndjson", (1...3).map {
            #"{"statement":"J\#($0)(x).","context":{"a":1},"fact_metadata":{"m":1}}"# }.joined(separator: "\n") + "\n")
        let later = try work.write("j3.ndjson", (1...4).map {
            $0 == 4 ? #"{"statement":"J1(x).","context":{"n":2}}"# : #"{"statement":"J\#($0)(x).","confidence":0.3}"#
        }.joined(separator: "\n") + "\n")
        #expect(try Factpipe.run(["import", first, "--db", database.url, "-q"]).status == 0)
        try database.sql("""
            UPDATE facts SET context = '[1]', fact_metadata = '[2]' WHERE statement = 'J1(x).';
            UPDATE facts SET context = '"str"', fact_metadata = '7' WHERE statement = 'J2(x).';
            UPDATE facts SET context = 'null', fact_metadata = 'true' WHERE statement = 'J3(x).'
            """)
        let run = try Factpipe.run(["import", later, "--db", database.url, "--on-conflict", "update", "--json", "-q"])
        let updated = int(try run.json(), "updated")
        #expect(run.status == 0 && updated == 4, "\(run.stdoutText) \(run.stderr)")
        // J1's later record gives a context: it replaces the array, as a merge patch does in SQLite too.
        #expect(try postgresFacts(database) == [
            ["J1(x).", #"{"n": 2}"#, "[2]"], ["J2(x).", #""str""#, "7"], ["J3(x).", "null", "true"],
        ])
    }

    /// A database of schema version 1 (before `factpipe_json_patch`) is read as it is, and the next load
    /// brings it to this version in place.
    @Test func aVersionOneDatabaseIsReadAndMigratedInPlace() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let seed = try database.seed("Seed(0).\n", in: work)
        try database.makeSchemaVersionOne()
        let stats = try Factpipe.run(["stats", "--db", database.url, "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(int(try stats.json(), "schema_version") == 1, "\(stats.stdoutText)")

        let inputs = [try work.write("first.ndjson", Self.first), try work.write("second.ndjson", Self.second)]
        try load(inputs, into: database.url)
        #expect(try database.sql("SELECT value FROM factpipe_meta WHERE key = 'schema_version'") == [["2"]])
        #expect(try postgresFacts(database) == Self.merged + [["Seed(0).", "{}", "{}"]])
        #expect(try database.int("SELECT count(*) FROM facts") == 3)
        // Version 1's SQL key function got its PL/pgSQL body; the unique index still finds every statement.
        #expect(try database.functionLanguages()
                == ["factpipe_json_patch": "plpgsql", "factpipe_statement_key": "plpgsql"])
        let again = try Factpipe.run(["import", seed, "--db", database.url, "--force", "--json", "-q"])
        #expect(int(try again.json(), "duplicates") == 1, "\(again.stdoutText)")
        #expect(try database.int("SELECT count(*) FROM facts") == 3)
    }
}

extension PostgreSQLTestDatabase {
    /// Turns a factpipe database of this version back into what version 1 made: no
    /// `factpipe_json_patch`, the key function in SQL.
    func makeSchemaVersionOne() throws {
        try sql("""
            DROP FUNCTION factpipe_json_patch(jsonb, jsonb);
            CREATE OR REPLACE FUNCTION factpipe_statement_key(text) RETURNS bytea
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT sha256(convert_to($1, 'UTF8')) $$;
            UPDATE factpipe_meta SET value = '1' WHERE key = 'schema_version'
            """)
    }

    /// The language of each of factpipe's functions, by name.
    func functionLanguages() throws -> [String: String] {
        let rows = try sql("""
            SELECT p.proname, l.lanname FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
            WHERE p.proname LIKE 'factpipe%'
            """)
        return Dictionary(rows.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
    }
}
