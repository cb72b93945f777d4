import Foundation
import Testing

@testable import FactPipe

/// The scale-test patterns: each searches an index, on a database fresh from a load and after
/// `optimize` has given the planner statistics.
@Suite struct PatternQueriesTests {
    static let expectedIndex: [QueryPattern: String] = [
        .predicateSubject: "SEARCH facts USING INDEX facts_subject_predicate (subject=? AND predicate=?)",
        .subject: "SEARCH facts USING INDEX facts_subject_predicate (subject=?)",
        .statement: "SEARCH facts USING INDEX facts_statement (statement=?)",
        .countByPredicate: "SEARCH facts USING COVERING INDEX facts_statement (statement>? AND statement<?)",
    ]

    @Test(arguments: QueryPattern.allCases)
    func everyPatternSearchesAnIndexAndNeverScansFacts(_ pattern: QueryPattern) throws {
        let work = try loadedKnowledgeBase()
        for analysed in [false, true] {
            if analysed { _ = try DatabaseOptimizer.run(path: work.databasePath) }
            let plan = try PatternQueries(path: work.databasePath).queryPlan(for: pattern)
            #expect(plan == [Self.expectedIndex[pattern]], "after ANALYZE: \(analysed)")
            #expect(!plan.contains { $0.contains("SCAN") })
        }
    }

    @Test func patternsFindWhatTheTableHolds() throws {
        let work = try loadedKnowledgeBase()
        let db = try work.database()
        let lookups = try PatternQueries(path: work.databasePath)
        let key = QueryPattern.Key(predicate: "HasPart", subject: "Computer", statement: "HasPart(Computer, CPU).")
        #expect(
            try lookups.run(.predicateSubject, key)
                == (try db.int("SELECT count(*) FROM facts WHERE predicate = 'HasPart' AND subject = 'Computer'")))
        #expect(try lookups.run(.subject, key) == (try db.int("SELECT count(*) FROM facts WHERE subject = 'Computer'")))
        #expect(try lookups.run(.statement, key) == 1)
        #expect(
            try lookups.run(.countByPredicate, key)
                == (try db.int("SELECT count(*) FROM facts WHERE predicate = 'HasPart'")))
        let missing = QueryPattern.Key(predicate: "Nope", subject: "nobody", statement: "Nope(nobody).")
        for pattern in QueryPattern.allCases { #expect(try lookups.run(pattern, missing) == 0) }
        let maximum = try lookups.maximumID()
        #expect(maximum == Int64(try db.int("SELECT max(id) FROM facts")))
        let last = try #require(try lookups.key(id: maximum))
        #expect(try lookups.run(.statement, last) == 1)
        #expect(try lookups.key(id: maximum + 1) == nil)
    }
}
