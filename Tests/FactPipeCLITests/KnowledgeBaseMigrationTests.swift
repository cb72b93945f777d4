import Foundation
import Testing

/// Migrating the knowledge base's own SQLite files (`Fixtures/hakgal/hexagonal_kb-*.db.zst`).
///
/// The expected counts were worked out independently of factpipe: a Python reading of each file with
/// its `sqlite3` module and a parser written from DESIGN 1.2/1.3 gave, for 2025-09-15, 4,244 rows,
/// 4,237 distinct canonical statements, 2 rows repeating an earlier one in another spelling
/// (`WasDevelopedBy(CategoricalImperative,ImmanuelKant).`, `IsDefinedAs(CopernicanRevolution,…)`),
/// 5 malformed rows (two unbalanced parentheses, three free-text rows 8072–8074) and 41 rows whose
/// stale predicate/subject/object columns disagree with the statement; for 2025-09-11, 4,234 rows,
/// 4,230 distinct, 2 repeats, 2 malformed (the two unbalanced ones) and 41 disagreeing rows.
/// The 2025-09-15 file adds 7 statements to the 2025-09-11 one and changes no shared context.
/// The tests below check the same things again, row by row, with a simple normalisation.
@Suite struct KnowledgeBaseMigrationTests {
    struct Expected: Sendable {
        var date: String
        var records, inserted, duplicates, rejected, warnings: Int
        var malformedRowids: [Int]
    }

    static let kb0915 = Expected(date: "2025-09-15", records: 4_244, inserted: 4_237, duplicates: 2, rejected: 5,
                                 warnings: 41, malformedRowids: [5_520, 5_681, 8_072, 8_073, 8_074])
    static let kb0911 = Expected(date: "2025-09-11", records: 4_234, inserted: 4_230, duplicates: 2, rejected: 2,
                                 warnings: 41, malformedRowids: [5_520, 5_681])

    static func fixture(_ date: String) -> String { fixturePath("hakgal/hexagonal_kb-\(date).db.zst") }

    /// A plain copy of a knowledge-base database, decompressed with the zstd tool.
    static func decompressed(_ date: String, in work: CLIWorkspace, as name: String? = nil) throws -> String {
        let target = work.path(name ?? "hexagonal_kb-\(date).db")
        try zstdDecompress(fixture(date), to: target)
        return target
    }

    /// One row of the knowledge base's `facts` table.
    struct SourceRow {
        var rowid: Int
        var statement: String
        var context: String
        var source: String?
        var confidence: Double
    }

    static func sourceRows(_ database: String) throws -> [SourceRow] {
        let run = try Factpipe.tool("/usr/bin/sqlite3", ["-readonly", "-json", database,
            "SELECT rowid AS rowid, statement, context, source, confidence FROM facts ORDER BY rowid"])
        let rows = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]])
        return rows.map { row in
            SourceRow(rowid: int(row, "rowid") ?? -1, statement: row["statement"] as? String ?? "",
                      context: row["context"] as? String ?? "{}", source: row["source"] as? String,
                      confidence: (row["confidence"] as? NSNumber)?.doubleValue ?? -1)
        }
    }

    /// The canonical spelling of the knowledge base's simple statements (no quotes in them): one space
    /// after each comma, none around parentheses, one trailing period. Enough for these files.
    static func normalized(_ statement: String) -> String {
        var text = statement.trimmingCharacters(in: .whitespaces)
        text = text.replacing(/\s*,\s*/, with: ", ")
        text = text.replacing(/\s*\(\s*/, with: "(")
        text = text.replacing(/\s*\)/, with: ")")
        if !text.hasSuffix(".") { text += "." }
        return text
    }

    /// A fact as factpipe stored it.
    struct StoredFact {
        var context: String
        var source: String?
        var confidence: Double
    }

    static func storedFacts(_ database: String) throws -> [String: StoredFact] {
        var facts: [String: StoredFact] = [:]
        for row in try SQLiteFile.rows(database, "SELECT statement, context, source, confidence FROM facts") {
            facts[row["statement"] as? String ?? ""] = StoredFact(
                context: row["context"] as? String ?? "", source: row["source"] as? String,
                confidence: (row["confidence"] as? NSNumber)?.doubleValue ?? -1)
        }
        return facts
    }

    static func json(_ text: String) -> NSDictionary? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? NSDictionary
    }

    /// Every source row is either a stored fact (the first of its spelling keeps its context, source and
    /// confidence) or one of the malformed rows; returns the rowids that matched no fact.
    static func checkRowByRow(source: String, database: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (unmatched: [Int], distinct: Int, repeats: Int)
    {
        let rows = try sourceRows(source)
        let facts = try storedFacts(database)
        var seen = Set<String>()
        var unmatched: [Int] = []
        var repeats = 0
        var contextMismatches = 0
        for row in rows {
            let key = facts[row.statement] != nil ? row.statement : normalized(row.statement)
            guard let fact = facts[key] else {
                unmatched.append(row.rowid)
                continue
            }
            guard seen.insert(key).inserted else {
                repeats += 1
                continue
            }
            if json(fact.context) != json(row.context) || json(fact.context) == nil {
                contextMismatches += 1
                if contextMismatches <= 3 {
                    Issue.record("row \(row.rowid): context \(row.context) stored as \(fact.context)",
                                 sourceLocation: sourceLocation)
                }
            }
            #expect(fact.source == row.source, "row \(row.rowid)", sourceLocation: sourceLocation)
            #expect(fact.confidence == row.confidence, "row \(row.rowid)", sourceLocation: sourceLocation)
        }
        #expect(contextMismatches == 0, sourceLocation: sourceLocation)
        #expect(seen.count == facts.count, "every stored fact comes from a source row", sourceLocation: sourceLocation)
        return (unmatched, seen.count, repeats)
    }

    // MARK: import FILE.db.zst

    @Test(arguments: [kb0915, kb0911])
    func aKnowledgeBaseDatabaseLoadsWithItsMalformedRowsRejectedAndContextsKept(_ expected: Expected) throws {
        let work = try CLIWorkspace()
        let rejects = work.path("rejects.ndjson")
        let input = Self.fixture(expected.date)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "done")
        #expect(int(json, "records") == expected.records)
        #expect(int(json, "inserted") == expected.inserted)
        #expect(int(json, "updated") == 0)
        #expect(int(json, "duplicates") == expected.duplicates)
        #expect(int(json, "rejected") == expected.rejected)
        #expect(int(json, "warnings") == expected.warnings)
        expectCountsAddUp(json)
        let row = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(row["format"] as? String == "sqlite")
        #expect(row["status"] as? String == "done")
        #expect(row["source_sha256"] as? String == (try sha256sum(input)))
        #expect(int(row, "records") == expected.records && int(row, "warnings") == expected.warnings)

        // Row by row, against the source database itself.
        let plain = try Self.decompressed(expected.date, in: work)
        #expect(try Self.sourceRows(plain).count == expected.records)
        let check = try Self.checkRowByRow(source: plain, database: work.database)
        #expect(check.unmatched == expected.malformedRowids)
        #expect(check.distinct == expected.inserted)
        #expect(check.repeats == expected.duplicates)

        // Each malformed row is in the rejects file with its reason, its rowid and the whole row.
        let lines = try work.read("rejects.ndjson").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.compactMap { int($0, "offset") } == expected.malformedRowids)
        #expect(lines.allSatisfy { $0["reason"] as? String == "syntax_error" && !(($0["message"] as? String) ?? "").isEmpty })
        #expect(lines.allSatisfy { $0["source"] as? String == input })
        let sources = Dictionary(uniqueKeysWithValues: try Self.sourceRows(plain).map { ($0.rowid, $0) })
        for line in lines {
            let rowid = int(line, "offset") ?? -1
            let record = try #require(Self.json(line["record"] as? String ?? ""), "\(line)")
            #expect(record["statement"] as? String == sources[rowid]?.statement)
            #expect(record["context"] as? String == sources[rowid]?.context, "the row's context is kept in the reject")
            #expect(int(record as? [String: Any] ?? [:], "rowid") == rowid)
        }
        // Stale parts are kept beside the statement, counted as warnings.
        #expect(try SQLiteFile.int(work.database,
            "SELECT count(*) FROM facts WHERE json_extract(fact_metadata, '$.given_parts') IS NOT NULL") <= expected.warnings)
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
    }

    @Test func theCompressedAndThePlainDatabaseGiveTheSameFacts() throws {
        let work = try CLIWorkspace()
        let plain = try Self.decompressed("2025-09-15", in: work)
        let fromPlain = work.path("plain.sqlite")
        let fromZstd = work.path("zstd.sqlite")
        #expect(try Factpipe.run(["import", plain, "--db", fromPlain, "-q"]).status == 2)
        #expect(try Factpipe.run(["import", Self.fixture("2025-09-15"), "--db", fromZstd, "-q"]).status == 2)
        let query = "SELECT statement, predicate, subject, object, args, confidence, source, context, fact_metadata FROM facts ORDER BY statement"
        #expect(try Factpipe.tool("/usr/bin/sqlite3", [fromPlain, query]).stdoutText
            == (try Factpipe.tool("/usr/bin/sqlite3", [fromZstd, query]).stdoutText))
        // Reading never altered the source: no side files appear beside the plain copy.
        #expect(!FileManager.default.fileExists(atPath: plain + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: plain + "-shm"))
    }

    @Test func aCompressedDatabaseIsRecordedWithItsCompression() throws {
        let work = try CLIWorkspace()
        _ = try Factpipe.run(["import", Self.fixture("2025-09-15"), "--db", work.database, "-q"])
        let row = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(row["format"] as? String == "sqlite")
        #expect(row["compression"] as? String == "zstd", "the input is a zstd-compressed file")
    }

    /// Given as sqlite (`--format sqlite`, a pipeline's `format = "sqlite"`), a compressed database was
    /// opened as it is and refused ("file is not a database"); a compressed file that holds none is refused
    /// saying so, where it was read as NDJSON.
    @Test func aCompressedDatabaseGivenAsSQLiteLoads() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["import", Self.fixture("2025-09-15"), "--db", work.database, "--format", "sqlite", "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 4_237)
        let text = try work.write("facts.txt", "P(a).\n")
        _ = try Factpipe.tool("/usr/bin/zstd", ["-q", text, "-o", text + ".zst"])
        let other = try Factpipe.run(["import", text + ".zst", "--db", work.path("other.sqlite"), "--format", "sqlite"])
        #expect(other.status == 1, "\(other.stderr)")
        #expect(other.stderr.contains("given as sqlite, but it is zstd-compressed and holds no SQLite database"), "\(other.stderr)")
    }

    @Test func anAbortedMigrationResumesAfterItsLastCommittedRow() throws {
        let work = try CLIWorkspace()
        let input = Self.fixture("2025-09-15")
        let rejects = work.path("rejects.ndjson")
        // --max-errors 0 stops it at the first malformed row (row 3,745); three batches of 1,000 are kept.
        let aborted = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "1000", "--max-errors", "0",
                                        "--rejects", rejects, "--json", "-q"])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        let stopped = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(stopped["status"] as? String == "aborted")
        #expect(int(stopped, "records") == 3_000 && int(stopped, "checkpoint_line") == 3_001)
        let plain = try Self.decompressed("2025-09-15", in: work)
        let nextRowid = try SQLiteFile.int(plain, "SELECT rowid FROM facts ORDER BY rowid LIMIT 1 OFFSET 3000")
        #expect(int(stopped, "checkpoint_offset") == nextRowid, "the checkpoint of a database is the next rowid")

        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "1000", "--resume",
                                        "--rejects", rejects, "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(int(try resumed.json(), "records") == 1_244)
        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        let e = Self.kb0915
        #expect(["records", "inserted", "duplicates", "rejected", "warnings"].map { int(row, $0) ?? -1 }
            == [e.records, e.inserted, e.duplicates, e.rejected, e.warnings])
        #expect(row["status"] as? String == "done")
        let check = try Self.checkRowByRow(source: plain, database: work.database)
        #expect(check.unmatched == e.malformedRowids && check.distinct == e.inserted && check.repeats == e.duplicates)
        // Facts without a time of their own take the start of the load they belong to, resumed or not.
        #expect(try SQLiteFile.strings(work.database, "SELECT DISTINCT created_at FROM facts")
            == [stopped["started_at"] as? String ?? "?"])
        let offsets = try work.read("rejects.ndjson").split(separator: "\n").map {
            int(try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]), "offset") ?? -1
        }
        #expect(offsets == e.malformedRowids, "each malformed row rejected once")
    }

    // MARK: Through a pipeline

    @Test func bothDatabasesLoadThroughAPipeline() throws {
        let work = try CLIWorkspace()
        let folder = URL(fileURLWithPath: Self.fixture("2025-09-15")).deletingLastPathComponent().path
        let file = try work.write("migrate.toml", """
            name = "migrate-both"
            database = "kb.sqlite"
            [sources]
            paths = ["\(folder)/hexagonal_kb-*.db.zst"]
            [load]
            batch_size = 1000
            rejects = "rejects/{source}.ndjson"
            """)
        let run = try Factpipe.run(["run", file, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "done")
        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.map { URL(fileURLWithPath: $0["source"] as? String ?? "").lastPathComponent }
            == ["hexagonal_kb-2025-09-11.db.zst", "hexagonal_kb-2025-09-15.db.zst"])
        let counts = rows.map { row in
            ["records", "inserted", "updated", "duplicates", "rejected", "warnings"].map { int(row, $0) ?? -1 }
        }
        // 2025-09-11 first; 2025-09-15 then adds its 7 new statements, the rest are duplicates.
        #expect(counts[0] == [4_234, 4_230, 0, 2, 2, 41])
        #expect(counts[1] == [4_244, 7, 0, 4_232, 5, 41])
        #expect(rows.allSatisfy { $0["status"] as? String == "done" })
        #expect(try work.read("rejects/hexagonal_kb-2025-09-11.ndjson").split(separator: "\n").count == 2)
        #expect(try work.read("rejects/hexagonal_kb-2025-09-15.ndjson").split(separator: "\n").count == 5)
        // The union is the 2025-09-15 database, contexts and all.
        let plain = try Self.decompressed("2025-09-15", in: work)
        let check = try Self.checkRowByRow(source: plain, database: work.database)
        #expect(check.unmatched == Self.kb0915.malformedRowids)
        #expect(check.distinct == 4_237)
    }

    // MARK: Round trip

    /// Columns compared between two databases; JSON compared as JSON, whatever its spacing.
    private static let comparedColumns = "statement, predicate, subject, object, args, arity, confidence, source, "
        + "json(context), created_at"

    @Test func aMigratedDatabaseLoadsIntoAnotherKeepingEveryFactAndContext() throws {
        let work = try CLIWorkspace()
        let first = work.path("first.sqlite")
        #expect(try Factpipe.run(["import", Self.fixture("2025-09-15"), "--db", first, "-q"]).status == 2)
        // factpipe's own database is a SQLite file with a facts table: read it back directly.
        let second = work.path("second.sqlite")
        let run = try Factpipe.run(["import", first, "--db", second, "--rejects", work.path("r.ndjson"), "--json", "-q"])
        let json = try run.json()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(json, "records") == 4_237)
        #expect(int(json, "inserted") == 4_237, "\(json)")
        #expect(int(json, "rejected") == 0, "first reject: \((try? work.read("r.ndjson"))?.prefix(300) ?? "")")
        let query = "SELECT \(Self.comparedColumns) FROM facts ORDER BY statement"
        #expect(try Factpipe.tool("/usr/bin/sqlite3", [second, query]).stdoutText
            == (try Factpipe.tool("/usr/bin/sqlite3", [first, query]).stdoutText))
    }

    /// Values no NDJSON line can hold, written by another program's SQL: an infinite confidence was read as
    /// null (stored as 1.0), and text that is not UTF-8 was repaired into U+FFFD, so two facts that differed
    /// in one byte became one. Each such row is refused now, naming its line (its rowid), and the rest load.
    @Test func rowsWithAnInfiniteConfidenceOrTextThatIsNotUTF8AreRefusedNotAltered() throws {
        let work = try CLIWorkspace()
        let other = work.path("other.db")
        _ = try Factpipe.tool("/usr/bin/sqlite3", [other, """
            CREATE TABLE facts(statement TEXT, confidence REAL, source TEXT, weight REAL);
            INSERT INTO facts VALUES ('Hot(a)', 9e999, 's', 1.5), ('Cold(a)', -9e999, 's', 1),
              (CAST(X'4E616D65287AFF29' AS TEXT), 0.2, 's', 1), (CAST(X'4E616D65287AFE29' AS TEXT), 0.9, 't', 2),
              ('Kept(a)', 0.5, CAST(X'61FF62' AS TEXT), 1), ('Ok(a)', 0.5, 's', 9e999);
            """])
        let run = try Factpipe.run(["import", other, "--db", work.database, "--json"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect((int(json, "inserted"), int(json, "rejected")) == (1, 5), "\(json)")
        for line in 1...2 { #expect(run.stderr.contains("other.db:\(line): invalid_confidence"), "\(run.stderr)") }
        for line in 3...5 { #expect(run.stderr.contains("other.db:\(line): invalid_utf8"), "\(run.stderr)") }
        // An infinite value beside the fact is kept as SQLite's JSON writes it, not as null.
        #expect(try SQLiteFile.strings(work.database, "SELECT json_extract(fact_metadata, '$.weight') > 1e308 FROM facts")
            == ["1"])
    }

    @Test func aMigratedDatabaseDumpedAsNDJSONLoadsBackKeepingEveryFactAndContext() throws {
        let work = try CLIWorkspace()
        let first = work.path("first.sqlite")
        #expect(try Factpipe.run(["import", Self.fixture("2025-09-15"), "--db", first, "-q"]).status == 2)
        let dump = try Factpipe.tool("/usr/bin/sqlite3", [first, """
            SELECT json_object('statement', statement, 'confidence', confidence, 'source', source,
            'context', json(context), 'fact_metadata', json(fact_metadata), 'created_at', created_at)
            FROM facts ORDER BY id
            """]).stdoutText
        let input = try work.write("dump.ndjson", dump)
        let second = work.path("second.sqlite")
        let run = try Factpipe.run(["import", input, "--db", second, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 4_237)
        let query = "SELECT \(Self.comparedColumns), json(fact_metadata) FROM facts ORDER BY statement"
        #expect(try Factpipe.tool("/usr/bin/sqlite3", [second, query]).stdoutText
            == (try Factpipe.tool("/usr/bin/sqlite3", [first, query]).stdoutText))
        // And every context is still the knowledge base's own.
        let plain = try Self.decompressed("2025-09-15", in: work)
        let check = try Self.checkRowByRow(source: plain, database: second)
        #expect(check.distinct == 4_237 && check.unmatched == Self.kb0915.malformedRowids)
    }

    // MARK: --into-existing

    private static let schemaQuery = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name"

    @Test func intoExistingWritesThroughTheKnowledgeBasesColumnsAndFiresItsTrigger() throws {
        let work = try CLIWorkspace()
        let kb = try Self.decompressed("2025-09-15", in: work, as: "hexagonal_kb.db")
        let schema = try SQLiteFile.rows(kb, Self.schemaQuery)
        let userVersion = try SQLiteFile.int(kb, "PRAGMA user_version")
        let factsBefore = try SQLiteFile.int(kb, "SELECT count(*) FROM facts")
        let auditBefore = try SQLiteFile.int(kb, "SELECT count(*) FROM audit_log")
        let maxAudit = try SQLiteFile.int(kb, "SELECT max(id) FROM audit_log")

        let input = try work.write("new.ndjson", """
            {"statement":"Migrates(factpipe, KnowledgeBase).","source":"tester","confidence":0.75,"context":{"tags":["test"]}}
            {"statement":"HasDefaultSource( NoSource , Here )"}
            {"statement":"LäuftAuf(factpipe, Linux).","context":{"certainty":0.5}}
            {"statement":"CapitalOf(Germany, Berlin)."}
            {"statement":"this is not a fact"}

            """)
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "done")
        #expect([int(json, "records"), int(json, "inserted"), int(json, "duplicates"), int(json, "rejected")]
            == [5, 3, 1, 1])
        #expect((json["loads"] as? [Any])?.isEmpty == true, "no ledger in a database factpipe did not create")

        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM facts") == factsBefore + 3)
        let rows = try SQLiteFile.rows(kb, """
            SELECT statement, predicate, subject, object, source, confidence, context FROM facts
            WHERE statement IN ('Migrates(factpipe, KnowledgeBase).', 'HasDefaultSource(NoSource, Here).',
            'LäuftAuf(factpipe, Linux).') ORDER BY rowid
            """)
        #expect(rows.count == 3)
        #expect(rows.map { $0["source"] as? String } == ["tester", "system", "system"], "the column's default")
        #expect(rows.map { ($0["confidence"] as? NSNumber)?.doubleValue } == [0.75, 1.0, 1.0])
        #expect(rows.map { $0["predicate"] as? String } == ["Migrates", "HasDefaultSource", "LäuftAuf"])
        #expect(rows.map { $0["subject"] as? String } == ["factpipe", "NoSource", "factpipe"])
        #expect(rows.map { $0["object"] as? String } == ["KnowledgeBase", "Here", "Linux"])
        #expect(Self.json(rows[0]["context"] as? String ?? "") == ["tags": ["test"]] as NSDictionary)
        #expect(Self.json(rows[2]["context"] as? String ?? "") == ["certainty": 0.5] as NSDictionary)
        // The existing fact is untouched.
        #expect(try SQLiteFile.strings(kb, "SELECT source FROM facts WHERE statement = 'CapitalOf(Germany, Berlin).'")
            == ["system"])

        // Its audit trigger wrote one row per inserted fact.
        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM audit_log") == auditBefore + 3)
        let audit = try SQLiteFile.strings(kb, "SELECT details FROM audit_log WHERE id > \(maxAudit) ORDER BY id")
        #expect(Set(audit) == [
            "Inserted fact with statement=\"Migrates(factpipe, KnowledgeBase).\"",
            "Inserted fact with statement=\"HasDefaultSource(NoSource, Here).\"",
            "Inserted fact with statement=\"LäuftAuf(factpipe, Linux).\"",
        ])
        #expect(try SQLiteFile.strings(kb, "SELECT DISTINCT operation FROM audit_log WHERE id > \(maxAudit)") == ["INSERT_FACT"])

        // Its schema and user_version are as they were; no factpipe table appeared.
        #expect((try SQLiteFile.rows(kb, Self.schemaQuery) as NSArray) == (schema as NSArray))
        #expect(try SQLiteFile.int(kb, "PRAGMA user_version") == userVersion)
        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'factpipe%'") == 0)
        #expect(try SQLiteFile.strings(kb, "PRAGMA integrity_check") == ["ok"])
    }

    @Test func intoExistingUnderUpdateMergesAndTheUpdateTriggerFires() throws {
        let work = try CLIWorkspace()
        let kb = try Self.decompressed("2025-09-15", in: work, as: "hexagonal_kb.db")
        let maxAudit = try SQLiteFile.int(kb, "SELECT max(id) FROM audit_log")
        let before = try SQLiteFile.strings(kb, "SELECT context FROM facts WHERE statement = 'CapitalOf(Germany, Berlin).'")
        let input = try work.write("update.ndjson", """
            {"statement":"CapitalOf(Germany, Berlin).","confidence":0.99,"source":"census","context":{"checked":true}}

            """)
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "update", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "updated") == 1)
        let row = try #require(try SQLiteFile.rows(kb,
            "SELECT source, confidence, context FROM facts WHERE statement = 'CapitalOf(Germany, Berlin).'").first)
        #expect(row["source"] as? String == "census")
        #expect((row["confidence"] as? NSNumber)?.doubleValue == 0.99)
        let merged = try #require(Self.json(row["context"] as? String ?? ""))
        let old = try #require(Self.json(before.first ?? ""))
        #expect(merged["checked"] as? Bool == true)
        for case let (key as String, value) in old { #expect((merged[key] as? NSObject) == (value as? NSObject), "\(key)") }
        #expect(try SQLiteFile.strings(kb, "SELECT operation FROM audit_log WHERE id > \(maxAudit)") == ["UPDATE_FACT"])
    }

    /// Statements the knowledge base stores in another spelling (`HasPart(ImmanuelKant,ThingInItself).`)
    /// are its facts: loading its own statements back inserted 19 copies of them in canonical form.
    @Test func intoExistingFindsFactsTheKnowledgeBaseSpellsItsOwnWay() throws {
        let work = try CLIWorkspace()
        let kb = try Self.decompressed("2025-09-15", in: work, as: "hexagonal_kb.db")
        let factsBefore = try SQLiteFile.int(kb, "SELECT count(*) FROM facts")
        let spelled = "HasPart(ImmanuelKant,ThingInItself)."
        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM facts WHERE statement = '\(spelled)'") == 1)
        let own = try work.write("own.txt", try SQLiteFile.strings(kb, "SELECT statement FROM facts").joined(separator: "\n") + "\n")
        let run = try Factpipe.run(["import", own, "--db", kb, "--into-existing", "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect([int(json, "inserted"), int(json, "duplicates"), int(json, "rejected")] == [0, factsBefore - 5, 5], "\(json)")
        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM facts") == factsBefore)

        // Under update the record given in canonical form changes the row as it is spelled.
        let update = try work.write("update.ndjson", "{\"statement\":\"HasPart(ImmanuelKant, ThingInItself).\",\"confidence\":0.42}\n")
        let updated = try Factpipe.run(["import", update, "--db", kb, "--into-existing", "--on-conflict", "update", "--json", "-q"])
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(int(try updated.json(), "updated") == 1)
        #expect(try SQLiteFile.strings(kb, "SELECT confidence FROM facts WHERE statement = '\(spelled)'") == ["0.42"])
        #expect(try SQLiteFile.int(kb, "SELECT count(*) FROM facts") == factsBefore)
    }

    /// A WITHOUT ROWID table (no rowid told an insert from an update: every insert counted as updated,
    /// and reading its spellings in rowid order failed every load) holding a fact in both spellings: the
    /// record updates the row spelled as it is, and a new fact counts as inserted.
    @Test func intoExistingCountsAndMatchesInAWithoutRowidTable() throws {
        let work = try CLIWorkspace()
        let database = work.path("wr.db")
        _ = try Factpipe.tool("/usr/bin/sqlite3", [database, """
            CREATE TABLE facts(statement TEXT PRIMARY KEY, confidence REAL) WITHOUT ROWID;
            INSERT INTO facts VALUES ('HasPart(A,B).', 0.5), ('HasPart(A, B).', 0.6), ('IsA(x,y)', 0.1);
            """])
        let input = try work.write("u.ndjson", """
            {"statement":"HasPart(A, B).","confidence":0.9}
            {"statement":"IsA(x, y).","confidence":0.8}
            {"statement":"New(z).","confidence":0.7}

            """)
        let run = try Factpipe.run(["import", input, "--db", database, "--into-existing", "--on-conflict", "update", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect([int(json, "inserted"), int(json, "updated"), int(json, "duplicates")] == [1, 2, 0], "\(json)")
        #expect(try SQLiteFile.strings(database, "SELECT statement || '=' || confidence FROM facts ORDER BY statement")
            == ["HasPart(A, B).=0.9", "HasPart(A,B).=0.5", "IsA(x,y)=0.8", "New(z).=0.7"])

        // Under ignore, into a WITHOUT ROWID table whose statement is not unique, a new fact counts as inserted
        // and the stored one as a duplicate (it was stored a second time).
        let loose = work.path("loose.db")
        _ = try Factpipe.tool("/usr/bin/sqlite3", [loose, """
            CREATE TABLE facts(id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(8)))), statement TEXT NOT NULL) WITHOUT ROWID;
            INSERT INTO facts VALUES ('1', 'New(z).');
            """])
        let ignored = try Factpipe.run(["import", input, "--db", loose, "--into-existing", "--json", "-q"])
        #expect(ignored.status == 0, "\(ignored.stderr)")
        let counts = try ignored.json()
        #expect([int(counts, "inserted"), int(counts, "updated"), int(counts, "duplicates")] == [2, 0, 1], "\(counts)")
        #expect(try SQLiteFile.int(loose, "SELECT count(*) FROM facts WHERE statement = 'New(z).'") == 1)
    }

    @Test func resumeWithIntoExistingIsAUsageError() throws {
        let work = try CLIWorkspace()
        let kb = try Self.decompressed("2025-09-15", in: work, as: "hexagonal_kb.db")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: kb))
        let input = try work.write("new.txt", "Resumed(never).\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--resume"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--resume needs factpipe's ledger; --into-existing has none"), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: kb)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: kb + "-factpipe.lock"))
    }

    @Test func aPlainImportIntoTheKnowledgeBaseIsRefusedAndLeavesItAlone() throws {
        let work = try CLIWorkspace()
        let kb = try Self.decompressed("2025-09-15", in: work, as: "hexagonal_kb.db")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: kb))
        let input = try work.write("new.txt", "Refused(here).\n")
        let run = try Factpipe.run(["import", input, "--db", kb])
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a factpipe database"), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: kb)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: kb + "-wal"))
    }
}
