import Foundation
import Testing

/// `export` from PostgreSQL against a real server: the snapshot `verify` accepts, and the migration back
/// to SQLite giving the facts the SQLite store gets from the same input, column for column but the ids.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLExportTests {
    /// Every record carries its `created_at`, so both stores keep the same times.
    static let fixture = """
        {"statement": "HasPart(Computer, CPU).", "confidence": 0.9, "source": "manual", "tags": ["hw"], "created_at": "2025-08-20T10:00:00.123456Z"}
        {"statement": "HasPart(Computer, RAM).", "confidence": 0.1, "note": {"z": 1, "a": [true, null]}, "created_at": "2025-08-21T10:00:00Z"}
        {"statement": "Einwohner(Berlin, 3669491).", "confidence": 0.30000000000000004, "created_at": "2025-08-20T10:00:00+02:00"}
        {"statement": "Name(Zürich, \\"Grüezi, \\\\\\"Welt\\\\\\"\\").", "source": "a\\tb|c", "created_at": "2024-02-29T23:59:59.5Z"}
        {"statement": "HasPart( Computer ,CPU )", "created_at": "2025-01-01T00:00:00Z"}

        """

    /// The facts of a SQLite database, ids aside, in id order; JSON columns parsed and written with sorted
    /// keys (PostgreSQL's jsonb keeps its own key order and spacing).
    private func facts(_ database: String) throws -> [String] {
        try SQLiteFile.rows(database, """
            SELECT statement, printf('%.17g', confidence) AS confidence, coalesce(source, '<null>') AS source,
            context, fact_metadata, args, predicate, subject, coalesce(object, '<null>') AS object, arity,
            created_at FROM facts ORDER BY id
            """).map { row in
            try ["statement", "confidence", "source", "context", "fact_metadata", "args", "predicate", "subject",
                 "object", "arity", "created_at"].map { key -> String in
                let value = row[key].map { "\($0)" } ?? ""
                guard ["context", "fact_metadata", "args"].contains(key) else { return value }
                let parsed = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
                return String(decoding: try JSONSerialization.data(withJSONObject: parsed, options: .sortedKeys),
                              as: UTF8.self)
            }.joined(separator: "\u{1F}")
        }
    }

    @Test(arguments: ["kb.ndjson.zst", "kb.csv", "kb.ndjson"])
    func exportFromPostgreSQLVerifiesAndImportsIntoSQLiteAsTheSameFacts(name: String) throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.fixture)
        let load = try Factpipe.run(["import", input, "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        let direct = try Factpipe.run(["import", input, "--db", work.path("direct.sqlite"), "-q"])
        #expect(direct.status == 0, "\(direct.stderr)")

        let snapshot = work.path(name)
        let export = try Factpipe.run(["export", "--db", database.url, "-o", snapshot, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let json = try export.json()
        #expect(int(json, "facts") == 4, "\(json)")
        #expect(FileManager.default.fileExists(atPath: snapshot + ".sha256"))
        let verify = try Factpipe.run(["verify", snapshot, "--quiet"])
        #expect(verify.status == 0, "\(verify.stderr)")

        let back = try Factpipe.run(["import", snapshot, "--db", work.path("back.sqlite"), "-q"])
        #expect(back.status == 0, "\(back.stderr)")
        let expected = try facts(work.path("direct.sqlite"))
        #expect(expected.count == 4)
        #expect(try facts(work.path("back.sqlite")) == expected)
        // Restored too: the manifest carries PostgreSQL's schema version, not the new database's.
        let restore = try Factpipe.run(["restore", snapshot, "--to", work.path("restored.sqlite")])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try facts(work.path("restored.sqlite")) == expected)
    }

    /// A server's database has an identity that its snapshots record (`DatabaseIdentity`), so that snapshot
    /// retention tells it from another database of the same address; one made by an earlier build is given one
    /// by its next load.
    @Test func aServerDatabaseHasAnIdentityItsSnapshotsRecord() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.fixture)
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        let identity = { () throws -> String? in
            try database.sql("SELECT value FROM factpipe_meta WHERE key = 'database_id'").first?.first
        }
        let recorded = { (name: String) throws -> String? in
            let export = try Factpipe.run(["export", "--db", database.url, "-o", work.path(name), "-q"])
            #expect(export.status == 0, "\(export.stderr)")
            let verify = try Factpipe.run(["verify", work.path(name), "--json"]).json()
            return (verify["manifest"] as? [String: Any])?["database_id"] as? String
        }
        let first = try #require(try identity())
        #expect(first.count == 16 && first.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(try recorded("first.ndjson.zst") == first)
        try database.sql("DELETE FROM factpipe_meta WHERE key = 'database_id'")
        #expect(try recorded("none.ndjson.zst") == nil)
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        let given = try #require(try identity())
        #expect(given != first)
        #expect(try recorded("given.ndjson.zst") == given)
    }

    @Test func textExportIsTheSQLiteStoreOneAndFiltersWork() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.fixture)
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let bound = "2025-08-20T08:00:00.1234561Z"
        for arguments in [[String](), ["--predicate", "HasPart"], ["--since", bound]] {
            let text = ["-o", "-", "--format", "text"] + arguments
            let fromServer = try Factpipe.run(["export", "--db", database.url] + text)
            let fromFile = try Factpipe.run(["export", "--db", work.database] + text)
            #expect(fromServer.status == 0 && fromFile.status == 0, "\(fromServer.stderr) \(fromFile.stderr)")
            #expect(fromServer.stdoutText == fromFile.stdoutText && !fromServer.stdoutText.isEmpty, "\(arguments)")
        }
        let since = try Factpipe.run(["export", "--db", database.url, "-o", "-", "--since", bound])
        // Berlin is 08:00:00Z, just before the bound: the server narrows to the second, the exact check drops it.
        #expect(since.stdoutText.split(separator: "\n").count == 2, "\(since.stdoutText)")
    }

    @Test func exportOfADatabaseWithoutFactpipeTablesFailsNamingTheServerAndLeavesNothing() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let snapshot = work.path("kb.ndjson.zst")
        let run = try Factpipe.run(["export", "--db", database.url, "-o", snapshot])
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a factpipe database") && run.stderr.contains(database.name), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: snapshot))
    }

    @Test func anUnreachableServerFailsInOneLineWithoutThePassword() throws {
        let work = try CLIWorkspace()
        let snapshot = work.path("kb.ndjson.zst")
        let url = "postgresql://kb:s3cret@127.0.0.1:1/kb"
        let run = try Factpipe.run(["export", "--db", url, "-o", snapshot, "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n").filter { $0.contains("postgresql://kb@127.0.0.1:1/kb") }
        #expect(lines.count == 1 && lines[0].contains("cannot connect"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret") && !run.stdoutText.contains("s3cret"), "\(run.stderr)\(run.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: snapshot))
    }

    /// A confidence of -0 that a PostgreSQL database took before import read it as 0 is exported as 0, as the
    /// SQLite store's is: the stores' exports of the same facts are the same.
    @Test func aNegativeZeroConfidenceIsExportedAsZero() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "Z(a).\n")
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        _ = try database.sql("UPDATE facts SET confidence = '-0'")
        let output = work.path("z.ndjson")
        let export = try Factpipe.run(["export", "--db", database.url, "-o", output, "-q"])
        #expect(export.status == 0, "\(export.stderr)")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains(#""confidence":0.0"#) && !text.contains(#""confidence":-0"#), "\(text)")
    }

    /// `jsonb` writes a space after every `,` and `:`: an array of 360,000 small numbers loaded from a record of
    /// 720 KB came out as a line of 1.08 MB, which an import with the default limit refused, the export of the
    /// database not importable again. The export leaves those spaces out (not those inside strings), and it
    /// imports back whole.
    @Test func jsonIsExportedWithoutTheSpacesJsonbAddsAndImportsBack() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let zeros = Array(repeating: "0", count: 360_000).joined(separator: ",")
        let input = try work.write("in.ndjson", [
            #"{"statement": "A(a, b).", "context": {"s": "x, y: z", "n": {"k": [1, "a\"b, c"]}}}"#,
            #"{"statement": "Arr(a, b).", "context": {"v": ["# + zeros + "]}}",
        ].joined(separator: "\n") + "\n")
        let load = try Factpipe.run(["import", input, "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        let output = work.path("out.ndjson")
        let export = try Factpipe.run(["export", "--db", database.url, "-o", output, "-q"])
        #expect(export.status == 0, "\(export.stderr)")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.contains(#""context":{"n":{"k":[1,"a\"b, c"]},"s":"x, y: z"}"#) == true,
                "\(lines.first ?? "")")
        #expect(lines.count == 2 && lines[1].utf8.count < 730_000, "\(lines.map(\.utf8.count))")
        let back = try Factpipe.run(["import", output, "--db", work.path("back.sqlite"), "--json", "-q"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(int(try back.json(), "inserted") == 2)
    }

    /// Without its unique index (a direct load killed before it built it again), a statement another program
    /// wrote twice meanwhile was exported twice, and the archive would not restore: refused, saying why.
    @Test func aStatementWrittenTwiceWhileTheUniqueIndexWasOutIsRefused() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "P(a).\nQ(b).\n")
        #expect(try Factpipe.run(["import", input, "--db", database.url, "-q"]).status == 0)
        _ = try database.sql("""
            DROP INDEX facts_statement;
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
            SELECT statement, predicate, subject, args, arity, created_at FROM facts WHERE statement = 'Q(b).'
            """)
        let output = work.path("s.ndjson.zst")
        let refused = try Factpipe.run(["export", "--db", database.url, "-o", output])
        #expect(refused.status == 1, "\(refused.stderr)")
        // Dropped by hand, not by a load (a load makes its staging table in the same transaction).
        #expect(refused.stderr.contains(#"facts holds "Q(b)." 2 times: its unique index on statements "#
            + "(facts_statement) is missing, and no load of factpipe's set it aside"), "\(refused.stderr)")
        _ = try database.sql("CREATE TABLE factpipe_direct_staging(seq bigint)")
        let stopped = try Factpipe.run(["export", "--db", database.url, "-o", output])
        #expect(stopped.status == 1, "\(stopped.stderr)")
        #expect(stopped.stderr.contains(#"facts holds "Q(b)." 2 times: a load was stopped"#), "\(stopped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "no archive is left")
    }
}
