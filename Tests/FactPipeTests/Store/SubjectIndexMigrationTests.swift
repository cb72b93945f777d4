import Foundation
import Testing

@testable import FactPipe

/// Version 3 keeps one index on `(subject, predicate)` where version 2 kept one on `subject` and one on
/// `(predicate, subject)`; lookups by predicate alone go through the unique index's range for `P(`.
@Suite struct SubjectIndexMigrationTests {
    /// The knowledge base loaded, then given version 2's indexes (and an index of the user's own) and
    /// `user_version` 2, as a version-2 factpipe left it.
    static func versionTwoDatabase() throws -> LoadWorkspace {
        let work = try loadedKnowledgeBase()
        try work.database().execute("""
            DROP INDEX facts_subject_predicate;
            CREATE INDEX facts_subject ON facts(subject);
            CREATE INDEX facts_predicate_subject ON facts(predicate, subject);
            CREATE INDEX users_own_by_source ON facts(source);
            PRAGMA user_version = 2;
            """)
        return work
    }

    static let allFacts = "SELECT id, statement, predicate, subject, object, confidence, load_id FROM facts ORDER BY id"

    @Test func aWriterReplacesVersionTwosIndexesAndKeepsEveryFactAndTheUsersIndex() throws {
        let work = try Self.versionTwoDatabase()
        let before = try work.database().rows(Self.allFacts)
        // A reader reads version 2 as it is.
        let reader = try FactDatabase.openForReading(path: work.databasePath)
        #expect(try reader.scalarInt("PRAGMA user_version") == 2)
        let connection = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try connection.scalarInt("PRAGMA user_version") == 3)
        let db = try work.database()
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate", "users_own_by_source"])
        #expect(try db.column("SELECT name FROM pragma_index_info('facts_subject_predicate')") == ["subject", "predicate"])
        #expect(try db.rows(Self.allFacts) == before)
        #expect(try db.column("PRAGMA integrity_check") == ["ok"])
        // A second writer finds nothing to do.
        #expect(try SubjectIndexMigration.migrateIfNeeded(connection) == false)
        // And a load goes on into it.
        let summary = work.load(try work.write("more.txt", "NewFact(Alpha, Beta).\n"))
        #expect(summary.status == .done && summary.inserted == 1)
        #expect(try db.int("SELECT count(*) FROM facts WHERE subject = 'Alpha' AND predicate = 'NewFact'") == 1)
    }

    @Test func aMigrationThatFailsLeavesVersionTwoAsItWas() throws {
        let work = try Self.versionTwoDatabase()
        // Something else already has the new index's name: CREATE INDEX fails half-way.
        try work.database().execute("CREATE TABLE facts_subject_predicate(x)")
        let before = try work.database().rows(Self.allFacts)
        #expect(throws: StoreError.self) { _ = try FactDatabase.openForWriting(path: work.databasePath) }
        let db = try work.database()
        #expect(try db.int("PRAGMA user_version") == 2)
        #expect(try db.factIndexes() == [
            "facts_statement", "facts_subject", "facts_predicate_subject", "users_own_by_source",
        ])
        #expect(try db.rows(Self.allFacts) == before)
    }

    @Test func aVersionOneDatabaseIsBroughtThroughVersionTwoToThree() throws {
        let work = try LoadWorkspace()
        let db = try CanonicalFormMigrationTests.versionOneDatabase(work)
        try db.execute("""
            DROP INDEX facts_subject_predicate;
            CREATE INDEX facts_subject ON facts(subject);
            CREATE INDEX facts_predicate_subject ON facts(predicate, subject);
            """)
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        #expect(try db.int("PRAGMA user_version") == 3)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try db.statements().contains("LäuftAuf(Server, Linux)."))
    }

    /// A canonical statement starts with its predicate and `(`: the range of the unique index finds the
    /// same facts as the equality on the column, for every predicate of the knowledge base.
    @Test func thePredicatesRangeOfTheUniqueIndexFindsWhatTheColumnDoes() throws {
        let work = try loadedKnowledgeBase()
        let db = try work.database()
        let predicates = try db.column("SELECT DISTINCT predicate FROM facts").compactMap { $0 }
        try #require(predicates.count >= 50)
        let connection = try FactDatabase.openForReading(path: work.databasePath)
        let byRange = try connection.prepare("SELECT count(*) FROM facts WHERE " + FactSchema.predicateRange("?1"))
        let byColumn = try connection.prepare("SELECT count(*) FROM facts WHERE predicate = ?1")
        for predicate in predicates + ["NoSuchPredicate", "Has", ""] {
            try byRange.bind(1, predicate)
            try byColumn.bind(1, predicate)
            #expect(try byRange.step() && byColumn.step())
            #expect(byRange.int64(0) == byColumn.int64(0), "\(predicate)")
            byRange.reset()
            byColumn.reset()
        }
        // The monitor's count of predicates, one seek per predicate, is the count of distinct ones.
        #expect(try connection.scalarInt(MonitorProbe.countPredicates) == Int64(predicates.count))
        let plan = try PatternQueries.queryPlan(MonitorProbe.countPredicates, connection)
        #expect(plan.contains("SEARCH facts USING COVERING INDEX facts_statement (statement>?)"), "\(plan)")
        #expect(!plan.contains("SCAN facts"), "a scan of the table: \(plan)")
    }

    /// Rows another program wrote without `(` are stepped over one by one and count no predicate.
    @Test func theCountOfPredicatesStepsOverStatementsWithoutAParenthesis() throws {
        let work = try LoadWorkspace()
        _ = try FactDatabase.openForWriting(path: work.databasePath)
        let db = try work.database()
        for statement in ["A(x).", "A(y).", "A)", "Ab(q).", "plain text", "plain text 2", "(x)", "B(1)."] {
            try db.execute("""
                INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
                VALUES ('\(statement)', 'p', 's', '[]', 0, 'now')
                """)
        }
        let connection = try FactDatabase.openForReading(path: work.databasePath)
        #expect(try connection.scalarInt(MonitorProbe.countPredicates) == 3)
    }
}
