import Foundation
import Testing

/// `stats` and `query` on PostgreSQL against a real server, next to what they say of a SQLite database
/// loaded from the same input.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLStatsQueryTests {
    /// The input loaded into both stores.
    private func load(_ database: PostgreSQLTestDatabase, _ work: CLIWorkspace) throws {
        let input = try work.write("facts.ndjson", PostgreSQLExportTests.fixture)
        let server = try Factpipe.run(["import", input, "--db", database.url, "-q"])
        #expect(server.status == 0, "\(server.stderr)")
        let file = try Factpipe.run(["import", input, "--db", work.database, "-q"])
        #expect(file.status == 0, "\(file.stderr)")
    }

    @Test func statsCountsWhatTheSQLiteStoreCountsAndSizesTheTables() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try load(database, work)
        let server = try Factpipe.run(["stats", "--db", database.url, "--json"])
        #expect(server.status == 0, "\(server.stderr)")
        let file = try Factpipe.run(["stats", "--db", work.database, "--json"])
        let serverJSON = try server.json(), fileJSON = try file.json()
        #expect(serverJSON["store"] as? String == "postgresql" && fileJSON["store"] as? String == "sqlite")
        #expect((serverJSON["database"] as? String)?.hasSuffix("/" + database.name) == true, "\(serverJSON)")
        #expect(int(serverJSON, "facts") == 4 && int(serverJSON, "schema_version") == 2, "\(serverJSON)")
        for key in ["facts", "distinct_predicates", "distinct_subjects", "top_predicates", "arity", "sources"] {
            let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
            let a = try JSONSerialization.data(withJSONObject: serverJSON[key] ?? NSNull(), options: options)
            let b = try JSONSerialization.data(withJSONObject: fileJSON[key] ?? NSNull(), options: options)
            #expect(a == b, "\(key): \(String(decoding: a, as: UTF8.self)) vs \(String(decoding: b, as: UTF8.self))")
        }
        let relationBytes = try database.int("""
            SELECT sum(pg_total_relation_size(c))::bigint FROM unnest(ARRAY['facts', 'factpipe_loads',
            'factpipe_assertions', 'factpipe_meta']::regclass[]) AS c
            """)
        #expect(int(serverJSON, "file_bytes") == relationBytes && relationBytes > 0, "\(serverJSON)")
        let indexes = try #require(serverJSON["indexes"] as? [[String: Any]])
        let statementIndex = try #require(indexes.first { $0["name"] as? String == "facts_statement" })
        #expect(statementIndex["columns"] as? [String] == ["factpipe_statement_key(statement)"])
        #expect(statementIndex["unique"] as? Bool == true)
        let loads = try #require(serverJSON["recent_loads"] as? [[String: Any]])
        #expect(loads.count == 1 && loads[0]["status"] as? String == "done" && int(loads[0], "inserted") == 4)

        let human = try Factpipe.run(["stats", "--db", database.url])
        #expect(human.status == 0 && human.stdoutText.contains("factpipe on PostgreSQL"), "\(human.stdoutText)")
    }

    /// NDJSON lines with their JSON written with sorted keys (jsonb keeps its own order and spacing).
    private func normalized(_ text: String) throws -> [String] {
        try text.split(separator: "\n").map { line in
            let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
            let sorted = try JSONSerialization.data(withJSONObject: value, options: .sortedKeys)
            return String(decoding: sorted, as: UTF8.self)
        }.sorted()
    }

    @Test func queryFindsWhatTheSQLiteStoreFindsAndTakesHostileValuesAsData() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try load(database, work)
        let queries: [(criteria: [String], facts: Int)] = [
            ([], 4), (["--predicate", "HasPart"], 2), (["--predicate", "HasPart", "--subject", "Computer"], 2),
            (["--subject", "Zürich"], 1), (["--object", "RAM"], 1), (["--statement", "HasPart( Computer ,CPU )"], 1),
            (["--limit", "2"], 2), (["--subject", "x'); DROP TABLE facts; --"], 0), (["--statement", "Nope(a)."], 0),
        ]
        for (criteria, facts) in queries {
            let server = try Factpipe.run(["query", "--db", database.url, "--format", "ndjson"] + criteria)
            let file = try Factpipe.run(["query", "--db", work.database, "--format", "ndjson"] + criteria)
            #expect(server.status == 0 && file.status == 0, "\(criteria): \(server.stderr) \(file.stderr)")
            #expect(server.stdoutText.split(separator: "\n").count == facts, "\(criteria): \(server.stdoutText)")
            if criteria == ["--limit", "2"] { continue }
            #expect(try normalized(server.stdoutText) == normalized(file.stdoutText), "\(criteria)")
        }
        #expect(try database.int("SELECT count(*) FROM facts") == 4)

        let csv = try Factpipe.run(["query", "--db", database.url, "--format", "csv", "--predicate", "HasPart"])
        #expect(csv.stdoutText.split(separator: "\n").count == 3, "\(csv.stdoutText)")
        let table = try Factpipe.run(["query", "--db", database.url, "--subject", "Nobody"])
        #expect(table.status == 0 && table.stderr.contains("no facts matched"), "\(table.stderr)")
    }

    /// `double precision` holds Infinity, which SQL may write and no import reads: NDJSON refuses it.
    @Test func queryRefusesToPrintAnInfiniteConfidenceAsNDJSON() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a, b).\nP(c, d).\n")
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        try database.sql("UPDATE facts SET confidence = 'Infinity' WHERE statement = 'P(a, b).'")
        let run = try Factpipe.run(["query", "--db", database.url, "--format", "ndjson"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("P(a, b).: its confidence is inf, not a finite number"), "\(run.stderr)")
    }

    @Test func statsAndQueryOfADatabaseWithoutFactpipeTablesFailInOneLine() throws {
        let database = try PostgreSQLTestDatabase()
        for arguments in [["stats", "--db", database.url], ["query", "--db", database.url]] {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("not a factpipe database") && run.stderr.contains(database.name),
                    "\(run.stderr)")
        }
    }
}
