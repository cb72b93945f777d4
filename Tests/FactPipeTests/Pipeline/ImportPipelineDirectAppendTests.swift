import Foundation
import Testing

@testable import FactPipe

/// The first load into an empty table appends straight to `facts` and rebuilds the unique index at its
/// end; the result must be the one the staging table gives, and an interrupted one must be completed.
@Suite struct ImportPipelineDirectAppendTests {
    /// Repeats of one statement in other spellings, with different side fields.
    static let repeats = #"""
        {"statement":"B(x).","confidence":0.5,"source":"one","context":{"a":1,"b":1},"fact_metadata":{"m":1},"created_at":"2020-01-01T00:00:00Z"}
        {"statement":"A(y).","source":"one","created_at":"2020-02-01T00:00:00Z"}
        {"statement":"B( x )","confidence":0.9,"source":"two","context":{"b":2,"c":2},"fact_metadata":{"n":2},"created_at":"2021-01-01T00:00:00Z"}
        {"statement":"C(z).","confidence":0.3,"created_at":"2020-03-01T00:00:00Z"}
        {"statement":"B(x)","confidence":0.7,"source":"three","context":{"d":3},"created_at":"2022-01-01T00:00:00Z"}
        {"statement":"A(y)","confidence":0.1,"created_at":"2020-04-01T00:00:00Z"}

        """#

    @Test func aFirstLoadKeepsInputOrderAndGetsItsUniqueIndexBack() throws {
        let work = try LoadWorkspace()
        let summary = work.load(try work.write("repeats.ndjson", Self.repeats))
        #expect(summary.status == .done)
        #expect((summary.records, summary.inserted, summary.duplicates, summary.staged) == (6, 3, 3, 0))
        let db = try work.database()
        // Ids follow the first occurrence of each statement in the input.
        #expect(try db.column("SELECT statement FROM facts ORDER BY id") == ["B(x).", "A(y).", "C(z)."])
        #expect(try db.fact("B(x).")?.confidence == 0.5)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try db.int("SELECT \"unique\" FROM pragma_index_list('facts') WHERE name = 'facts_statement'") == 1)
        #expect(throws: SQLiteTestError.self) {
            try db.execute("""
                INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
                VALUES ('A(y).', 'A', 'y', '["y"]', 1, '2020-01-01T00:00:00Z')
                """)
        }
        let row = try #require(try db.ledger().first)
        #expect((row.status, row.inserted, row.duplicates) == ("done", 3, 3))
        #expect(try db.int("SELECT count(*) FROM factpipe_staging") == 0)
    }

    /// What a load leaves, without ids and load ids (which differ by design).
    private func contents(_ db: RawDatabase, leaving prefix: String? = nil) throws -> [[String?]] {
        try db.rows("""
            SELECT statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
            created_at, updated_load_id IS NULL FROM facts ORDER BY statement
            """).filter { row in prefix.map { !(row.first??.hasPrefix($0) ?? false) } ?? true }
    }

    /// With a merge threshold of one, the first staged repeat ends the direct appends mid-input: the
    /// rest of the input is staged, and the result must not change.
    @Test(arguments: [ConflictPolicy.ignore, .replace, .update], [nil, 1])
    func repeatsEndAsTheyDoThroughTheStagingTable(_ policy: ConflictPolicy, mergeThreshold: Int?) throws {
        let direct = try LoadWorkspace()
        let directSummary = direct.load(try direct.write("repeats.ndjson", Self.repeats)) {
            $0.conflictPolicy = policy
            if let mergeThreshold {
                $0.mergeThreshold = mergeThreshold
                $0.batchSize = 1
            }
        }
        // A table larger than the load (by its estimate, size / 120) stages every batch and merges it.
        let staged = try LoadWorkspace()
        let unrelated = (1...20).map { "Unrelated(q\($0)).\n" }.joined()
        #expect(staged.load(try staged.write("other.txt", unrelated)).inserted == 20)
        let stagedSummary = staged.load(try staged.write("repeats.ndjson", Self.repeats)) { $0.conflictPolicy = policy }
        #expect(directSummary.status == .done)
        #expect(
            (directSummary.inserted, directSummary.updated, directSummary.duplicates)
                == (stagedSummary.inserted, stagedSummary.updated, stagedSummary.duplicates))
        let directRows = try contents(try direct.database())
        #expect(directRows.count == 3)
        if mergeThreshold != nil {
            // B(x). and A(y). were appended, C(z). came after the switch and was staged.
            #expect(try direct.database().column("SELECT statement FROM facts ORDER BY id") == ["B(x).", "A(y).", "C(z)."])
        }
        #expect(directRows == (try contents(try staged.database(), leaving: "Unrelated(")))
        // The reference went through the staging table: the merge inserted in statement order.
        #expect(try staged.database().column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["A(y).", "B(x).", "C(z)."])
    }

    @Test func aKilledFirstLoadIsCompletedByTheNextOne() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("first.txt", "A(1).\nB(2).\n")).inserted == 2)
        // What a kill leaves: the index not rebuilt, a repeat committed to staging, the load running (as an
        // earlier release's load left it, without the row that says which load set the index aside, in a
        // database no writer of this release had opened).
        let db = try work.database()
        try db.execute("""
            DROP INDEX facts_statement;
            DELETE FROM factpipe_sequence WHERE name = 'facts_statement_marks';
            UPDATE factpipe_loads SET status = 'running', finished_at = NULL, records = 3;
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at)
            VALUES (1, 3, 12, 'A(1).', 'A', '1', NULL, '["1"]', 1, 0.5, NULL, '{}', '{}', '2020-01-01T00:00:00Z');
            """)
        let next = work.load(try work.write("second.txt", "C(3).\n"))
        #expect(next.status == .done)
        #expect(next.inserted == 1)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try db.column("SELECT statement FROM facts ORDER BY id") == ["A(1).", "B(2).", "C(3)."])
        #expect(try db.fact("A(1).")?.confidence == 1.0)
        let first = try #require(try db.ledger().first)
        #expect((first.status, first.records, first.inserted, first.duplicates) == ("interrupted", 3, 2, 1))
        expectLedgerAddsUp(first)
        #expect(try db.int("SELECT count(*) FROM factpipe_staging") == 0)
    }

    @Test func rowsRepeatedInFactsAreMergedUnderTheirLoadsPolicy() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("first.txt", "A(1).\nB(2).\n")) { $0.conflictPolicy = .replace }.inserted == 2)
        // A repeat that reached `facts` while the index was missing: the next load must not keep both. What a
        // direct load that failed leaves: the index out, and the row saying which load set it aside.
        let db = try work.database()
        try db.execute("""
            DROP INDEX facts_statement;
            INSERT INTO factpipe_sequence(name, seq) VALUES ('facts_statement_dropped_by', 1);
            UPDATE factpipe_loads SET status = 'failed', records = 3, inserted = 3, message = 'disk full';
            INSERT INTO facts(statement, predicate, subject, args, arity, confidence, context, fact_metadata,
            created_at, load_id) VALUES ('A(1).', 'A', '1', '["1"]', 1, 0.25, '{}', '{}', '2020-01-01T00:00:00Z', 1);
            """)
        #expect(work.load(try work.write("second.txt", "C(3).\n")).inserted == 1)
        #expect(try db.statements() == ["A(1).", "B(2).", "C(3)."])
        // Under replace the later row wins.
        #expect(try db.fact("A(1).")?.confidence == 0.25)
        let first = try #require(try db.ledger().first)
        #expect((first.status, first.inserted, first.updated) == ("failed", 2, 1))
        #expect(first.message?.contains("merged by a later load") == true)
        expectLedgerAddsUp(first)
        #expect(try db.factIndexes().contains("facts_statement"))
        #expect(try db.int("SELECT count(*) FROM factpipe_sequence WHERE name = 'facts_statement_dropped_by'") == 0)
    }

    @Test func aDatabaseWithTheUniqueColumnConstraintKeepsIt() throws {
        let work = try LoadWorkspace()
        let db = try RawDatabase(work.databasePath, create: true)
        // The schema before the unique index: the constraint on facts.statement (and only there).
        let facts = try #require(FactSchema.createTables.range(of: "statement TEXT NOT NULL,"))
        let columnConstraint = FactSchema.createTables.replacingCharacters(
            in: facts, with: "statement TEXT NOT NULL UNIQUE,")
        #expect(columnConstraint != FactSchema.createTables)
        try db.execute(columnConstraint)
        for index in FactSchema.secondaryIndexes { try db.execute(index.sql) }
        try db.execute("PRAGMA user_version = \(FactSchema.version)")

        let summary = work.load(try work.write("repeats.ndjson", Self.repeats))
        #expect((summary.status, summary.inserted, summary.duplicates) == (.done, 3, 3), "\(summary.message ?? "")")
        #expect(try db.factIndexes() == ["facts_subject_predicate"])
        #expect(try db.column("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_autoindex_facts%'").count == 1)
        #expect(try db.statements() == ["A(y).", "B(x).", "C(z)."])
    }

    @Test func theFilterNeverCallsARecordedStatementNew() {
        let filter = StatementFilter(wordsLog2: 14)
        let hashes = (0..<20_000).map { number in
            Array("Fact(n\(number)).".utf8).withUnsafeBytes { StatementFilter.hash($0) }
        }
        #expect(hashes.filter { filter.insert(hash: $0) }.count < 20)
        #expect(hashes.allSatisfy { filter.insert(hash: $0) })
        // Statements never recorded are mostly called new: a few false positives at this fill.
        let others = (0..<20_000).map { number in
            Array("Other(n\(number)).".utf8).withUnsafeBytes { StatementFilter.hash($0) }
        }
        #expect(others.filter { filter.insert(hash: $0) }.count < 200)
    }

    @Test func aFactCarriesTheHashOfItsStatement() {
        let fact = Fact(
            statement: "P(a, b).", predicate: "P", subject: "a", object: "b", argsJSON: #"["a","b"]"#, arity: 2,
            confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
        #expect(fact.statementHash == Array("P(a, b).".utf8).withUnsafeBytes { StatementFilter.hash($0) })
        #expect(fact.statementHash != Array("P(a, b)".utf8).withUnsafeBytes { StatementFilter.hash($0) })
    }
}
