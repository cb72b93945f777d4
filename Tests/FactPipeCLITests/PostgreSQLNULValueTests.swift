import Foundation
import Testing

/// A NUL character (`\u0000`) in a value: SQLite stores it, PostgreSQL cannot (`text` refuses the byte,
/// `jsonb` the escape). Into PostgreSQL such a record is a reject like any other — counted, written to
/// `--rejects`, under `--max-errors` — and the load goes on; `--resume` gets past it.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLNULValueTests {
    /// Records 2, 3, 4 and 5 hold a NUL; record 6 holds only the text `\u0000` (an escaped backslash).
    private static let records = [
        #"{"statement": "A(1).", "source": "plain"}"#,
        #"{"statement": "A(2).", "source": "nul\u0000here"}"#,
        #"{"statement": "A(3).", "context": {"k": "a\u0000"}}"#,
        #"{"statement": "A(4).", "fact_metadata": {"\u0000key": 1}}"#,
        #"{"statement": "A(5).", "note": ["x", "\u0000"]}"#,
        #"{"statement": "A(6).", "source": "not \\u0000 a nul", "context": {"k": "\\u0000"}}"#,
        #"{"statement": "A(7)."}"#,
    ]

    private func rejectLines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func aRecordHoldingANULIsARejectAndTheLoadGoesOn() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("nul.ndjson", Self.records.joined(separator: "\n") + "\n")
        let csv = try work.write("nul.csv", "statement,source\nB(1),a\u{0}b\nB(2),fine\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, csv, "--db", database.url, "--batch-size", "2",
                                    "--rejects", rejects, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr) \(run.stdoutText)")
        let json = try run.json()
        #expect(json["status"] as? String == "done", "\(json)")
        #expect(int(json, "records") == 9 && int(json, "inserted") == 4 && int(json, "rejected") == 5, "\(json)")
        expectCountsAddUp(json)
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] }
                == ["A(1).", "A(6).", "A(7).", "B(2)."])
        #expect(try database.sql("SELECT source, context->>'k' FROM facts WHERE statement = 'A(6).'")
                == [[#"not \u0000 a nul"#, #"\u0000"#]])

        let lines = try rejectLines(rejects)
        #expect(lines.map { "\($0["source"] ?? ""):\($0["line"] ?? "")" }
                == ["\(input):2", "\(input):3", "\(input):4", "\(input):5", "\(csv):2"])
        #expect(lines.allSatisfy { $0["reason"] as? String == "control_character" }, "\(lines)")
        let messages = lines.map { $0["message"] as? String ?? "" }
        #expect(messages.allSatisfy { $0.hasSuffix(#"a NUL character (\u0000) cannot be stored in PostgreSQL"#) },
                "\(messages)")
        #expect(messages.map { $0.prefix(while: { $0 != ":" }) }
                == ["source", "context", "fact_metadata", "fact_metadata", "source"])
        #expect(try database.sql("SELECT records, inserted, rejected, status FROM factpipe_loads ORDER BY id")
                == [["7", "3", "4", "done"], ["2", "1", "1", "done"]])

        // SQLite stores them, as before.
        let sqlite = try Factpipe.run(["import", input, csv, "--db", work.path("kb.sqlite"), "--json", "-q"])
        #expect(sqlite.status == 0, "\(sqlite.stderr)")
        let stored = try sqlite.json()
        #expect(int(stored, "inserted") == 9 && int(stored, "rejected") == 0, "\(stored)")
    }

    /// `jsonb` keeps numbers in `numeric`: one past its range would fail the whole batch at the server, and
    /// every `--resume` at the same place. It is a reject; a number at the range's edge is stored.
    @Test func aJSONNumberBeyondNumericIsARejectAndTheLoadGoesOn() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("numbers.ndjson", [
            #"{"statement": "N(1).", "fact_metadata": {"n": 1e200000}}"#,
            #"{"statement": "N(2).", "context": {"deep": {"n": 0.5e-16383}}}"#,
            #"{"statement": "N(3).", "fact_metadata": {"n": 1e131071, "s": "1e999999"}, "context": {"z": 0.0}}"#,
            #"{"statement": "N(4).", "weight": -12.5e-3}"#,
        ].joined(separator: "\n") + "\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--rejects", rejects, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr) \(run.stdoutText)")
        let json = try run.json()
        #expect(int(json, "inserted") == 2 && int(json, "rejected") == 2, "\(json)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id").map { $0[0] } == ["N(3).", "N(4)."])
        #expect(try database.sql("""
            SELECT length(fact_metadata->>'n'), fact_metadata->>'s' FROM facts WHERE statement = 'N(3).'
            """) == [["131072", "1e999999"]])
        let lines = try rejectLines(rejects)
        #expect(lines.map { $0["line"] as? Int } == [1, 2], "\(lines)")
        #expect(lines.map { $0["reason"] as? String } == ["invalid_metadata", "invalid_context"], "\(lines)")
        #expect(lines.allSatisfy { ($0["message"] as? String ?? "").contains("beyond PostgreSQL's numeric range") })
    }

    /// `numeric` writes `1e131071` out as its 131,072 digits: eight of them in a record of 75 KB made every
    /// export of the database, and every query finding it, fail with "out of memory". A record whose numbers,
    /// written out, pass --max-record-bytes is a reject; the database then exports, and its export imports.
    @Test func aRecordWhoseNumbersWrittenOutPassTheRecordLimitIsARejectAndTheDatabaseExports() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let eight = Array(repeating: "1e131071", count: 8).joined(separator: ",")
        let seven = Array(repeating: "1e131071", count: 7).joined(separator: ",")
        let input = try work.write("numbers.ndjson", [
            #"{"statement": "Huge(a, b).", "context": {"v": ["# + eight + "]}}",
            #"{"statement": "Small(a, b)."}"#,
            #"{"statement": "Big(a, b).", "context": {"v": ["# + seven + "]}}",
        ].joined(separator: "\n") + "\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--rejects", rejects, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr) \(run.stdoutText)")
        let lines = try rejectLines(rejects)
        #expect(lines.map { $0["line"] as? Int } == [1], "\(lines)")
        #expect(lines.first?["reason"] as? String == "record_too_long", "\(lines)")
        #expect((lines.first?["message"] as? String ?? "").contains("written out in full as PostgreSQL writes them"))
        let snapshot = work.path("out.ndjson")
        let export = try Factpipe.run(["export", "--db", database.url, "-o", snapshot, "-q"])
        #expect(export.status == 0, "\(export.stderr)")
        let back = try Factpipe.run(["import", snapshot, "--db", work.path("back.sqlite"), "--json", "-q"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(int(try back.json(), "inserted") == 2)
    }

    /// A subject longer than PostgreSQL's B-tree entries hold (possible once --max-arg-length is raised)
    /// is a reject too: it used to fail its batch, and every --resume after it, at the server.
    @Test func aSubjectTooLongForTheIndexesIsARejectAndTheLoadGoesOn() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        // 3,000 bytes of ideographs in no repeating order: PostgreSQL cannot compress the entry under its limit.
        var state: UInt32 = 12_345
        let long = String(String.UnicodeScalarView((0..<1_000).compactMap { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return Unicode.Scalar(0x4E00 + (state >> 8) % 20_000)
        }))
        let fits = String(repeating: "x", count: 2_000)
        let input = try work.write("long.txt", "Long(\(long)).\nFits(\(fits)).\nShort(one).\n")
        let rejects = work.path("rejects.ndjson")
        for batchSize in ["1", "1000"] {
            let run = try Factpipe.run(["import", input, "--db", database.url, "--max-arg-length", "5000", "--force",
                                        "--batch-size", batchSize, "--rejects", rejects, "--json", "-q"])
            #expect(run.status == 2, "\(run.stderr) \(run.stdoutText)")
            let json = try run.json()
            #expect(int(json, "rejected") == 1 && int(json, "records") == 3, "\(json)")
            let reject = try #require(try rejectLines(rejects).first)
            #expect(reject["reason"] as? String == "limit_exceeded" && reject["line"] as? Int == 1, "\(reject)")
            #expect((reject["message"] as? String)?.contains("PostgreSQL's index") == true, "\(reject)")
        }
        #expect(try database.sql("SELECT predicate FROM facts ORDER BY predicate") == [["Fits"], ["Short"]])
        #expect(try database.int("SELECT count(*) FROM pg_indexes WHERE tablename = 'facts'") == 4)
    }

    @Test func theRejectsCountTowardsMaxErrors() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("nul.ndjson", Self.records.joined(separator: "\n") + "\n")
        let run = try Factpipe.run(["import", input, "--db", database.url, "--max-errors", "3", "--batch-size", "2",
                                    "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr) \(run.stdoutText)")
        let message = try run.json()["message"] as? String ?? ""
        #expect(message.contains("more than 3 records rejected") && message.contains("nul.ndjson:5"), "\(message)")
        #expect(try database.sql("SELECT statement FROM facts ORDER BY id") == [["A(1)."]])
        #expect(try database.sql("SELECT status, checkpoint_line FROM factpipe_loads") == [["aborted", "5"]])
    }

    /// A load stopped at a NUL record (`--max-errors 0`) resumes past it: the result is a whole load's.
    @Test func resumeGoesPastARecordHoldingANUL() throws {
        let victim = try PostgreSQLTestDatabase()
        let reference = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let input = try work.write("nul.ndjson", Self.records.joined(separator: "\n") + "\n")
        let stopped = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "1", "--max-errors", "0",
                                        "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        #expect(try victim.sql("SELECT status, records FROM factpipe_loads") == [["aborted", "1"]])
        let resumed = try Factpipe.run(["import", input, "--db", victim.url, "--batch-size", "1", "--resume",
                                        "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr) \(resumed.stdoutText)")
        #expect(try resumed.json()["status"] as? String == "done")
        let whole = try Factpipe.run(["import", input, "--db", reference.url, "--batch-size", "1", "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        let facts = "SELECT statement, source, context::text, fact_metadata::text FROM facts ORDER BY statement"
        #expect(try victim.sql(facts) == (try reference.sql(facts)))
        let ledger = """
            SELECT status, records, inserted, updated, duplicates, rejected, checkpoint_offset, checkpoint_line
            FROM factpipe_loads ORDER BY id
            """
        #expect(try victim.sql(ledger) == (try reference.sql(ledger)))
        #expect(try victim.sql(ledger).first?[5] == "4")
    }
}
