import Foundation
import Testing

@testable import FactPipe

/// A load into a table smaller than the load appends straight to `facts`, like a first load; the
/// result must be the one the staging table gives: the same facts, counts, ledger, assertions and undo.
@Suite struct ImportPipelineSmallTableTests {
    /// What the table holds before the load: two of these come again in it.
    static let existing = #"""
        {"statement":"B(x).","confidence":0.2,"source":"old","context":{"a":0,"z":0},"fact_metadata":{"m":0},\#
        "created_at":"2019-01-01T00:00:00Z"}
        {"statement":"A(y).","confidence":0.4,"source":"old","created_at":"2019-02-01T00:00:00Z"}
        {"statement":"Kept(k).","created_at":"2019-03-01T00:00:00Z"}

        """#

    /// The load: new statements out of statement order, repeats of existing ones, repeats of its own.
    static let load = #"""
        {"statement":"Z(new).","confidence":0.5,"source":"load","created_at":"2020-01-01T00:00:00Z"}
        {"statement":"B(x).","confidence":0.9,"source":"two","context":{"b":2},"fact_metadata":{"n":2},\#
        "created_at":"2021-01-01T00:00:00Z"}
        {"statement":"M(new).","confidence":0.3,"created_at":"2020-03-01T00:00:00Z"}
        {"statement":"C(new).","context":{"c":1},"created_at":"2020-04-01T00:00:00Z"}
        {"statement":"Z( new )","confidence":0.7,"source":"again","context":{"d":3},"created_at":"2022-01-01T00:00:00Z"}
        {"statement":"A(y)","confidence":0.1,"created_at":"2020-05-01T00:00:00Z"}
        {"statement":"Q(new).","source":"load","fact_metadata":{"q":1},"created_at":"2020-06-01T00:00:00Z"}
        {"statement":"B(x)","source":"three","created_at":"2023-01-01T00:00:00Z"}
        {"statement":"D(new).","confidence":0.6,"created_at":"2020-07-01T00:00:00Z"}
        {"statement":"Q(new)","confidence":0.8,"context":{"e":5},"created_at":"2020-08-01T00:00:00Z"}

        """#

    /// Facts only the staged reference holds, so that its table is larger than the load's estimate
    /// (its size / 120) and the load stages every batch.
    static let filler = (1...40).map { #"{"statement":"Filler(n\#($0)).","created_at":"2019-01-01T00:00:00Z"}"# }
        .joined(separator: "\n") + "\n"

    /// A database holding `existing` (and the filler for the reference), then the load under `policy`.
    private static func loaded(
        _ policy: ConflictPolicy, withFiller: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (work: LoadWorkspace, summary: ImportSummary) {
        let work = try LoadWorkspace()
        let first = work.load(try work.write("existing.ndjson", existing + (withFiller ? filler : "")))
        #expect(first.inserted == (withFiller ? 43 : 3), sourceLocation: sourceLocation)
        let summary = work.load(try work.write("load.ndjson", load)) { $0.conflictPolicy = policy }
        #expect(summary.status == .done, "\(summary.message ?? "")", sourceLocation: sourceLocation)
        return (work, summary)
    }

    /// Every fact but the filler, all columns but the id.
    private func contents(_ db: RawDatabase) throws -> [[String?]] {
        try db.rows("""
            SELECT statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
            created_at, load_id, updated_load_id FROM facts WHERE statement NOT LIKE 'Filler(%' ORDER BY statement
            """)
    }

    /// Each assertion as its load and the statement it asserts.
    private func assertions(_ db: RawDatabase) throws -> [[String?]] {
        try db.rows("""
            SELECT a.load_id, f.statement FROM factpipe_assertions AS a JOIN facts AS f ON f.id = a.fact_id
            ORDER BY a.load_id, f.statement, a.fact_id
            """)
    }

    /// The load's ledger row, its times and folder left out.
    private func ledger(_ db: RawDatabase) throws -> [LedgerRow] {
        try db.ledger().filter { $0.id == 2 }.map { row in
            var row = row
            (row.startedAt, row.finishedAt) = ("", nil)
            row.source = URL(fileURLWithPath: row.source).lastPathComponent
            return row
        }
    }

    @Test(arguments: [ConflictPolicy.ignore, .replace, .update])
    func aLoadIntoASmallTableEndsAsItDoesThroughTheStagingTable(_ policy: ConflictPolicy) throws {
        let (direct, directSummary) = try Self.loaded(policy, withFiller: false)
        let (staged, stagedSummary) = try Self.loaded(policy, withFiller: true)
        let directDB = try direct.database()
        let stagedDB = try staged.database()

        // The load appended straight to `facts`: its new statements got ids in input order (a merge
        // inserts in statement order), and the unique index is back.
        #expect(try directDB.column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["Z(new).", "M(new).", "C(new).", "Q(new).", "D(new)."])
        #expect(try stagedDB.column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["C(new).", "D(new).", "M(new).", "Q(new).", "Z(new)."])
        #expect(try directDB.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try directDB.int("SELECT \"unique\" FROM pragma_index_list('facts') WHERE name = 'facts_statement'")
            == 1)
        #expect(try directDB.int("SELECT count(*) FROM factpipe_staging") == 0)

        #expect(
            (directSummary.records, directSummary.inserted, directSummary.updated, directSummary.duplicates)
                == (stagedSummary.records, stagedSummary.inserted, stagedSummary.updated, stagedSummary.duplicates))
        #expect(directSummary.inserted == 5)
        #expect(try contents(directDB) == (try contents(stagedDB)))
        #expect(try assertions(directDB) == (try assertions(stagedDB)))
        #expect(try !assertions(directDB).isEmpty)
        #expect(try ledger(directDB) == (try ledger(stagedDB)))
        for row in try directDB.ledger() { expectLedgerAddsUp(row) }

        // Undo of the first load keeps what the second brought again; undo of the second takes out
        // only its own facts.
        for load: Int64 in [1, 2] {
            let undoneDirect = try LoadUndo.undo(loadID: load, databasePath: direct.databasePath)
            var undoneStaged = try LoadUndo.undo(loadID: load, databasePath: staged.databasePath)
            if load == 1 { undoneStaged.deleted -= 40 }
            #expect(undoneDirect == undoneStaged, "undo of load \(load)")
            #expect(try contents(directDB) == (try contents(stagedDB)), "after undo of load \(load)")
            #expect(try assertions(directDB) == (try assertions(stagedDB)), "after undo of load \(load)")
        }
        #expect(try directDB.int("SELECT count(*) FROM facts") == 0)
    }

    /// Secondary indexes the user defined under factpipe's name, otherwise than factpipe does.
    static let usersSecondaryIndexes = [
        "CREATE INDEX facts_subject_predicate ON facts(lower(subject), predicate)",
        "CREATE INDEX facts_subject_predicate ON facts(subject, predicate) WHERE arity = 1",
        "CREATE INDEX facts_subject_predicate ON facts(predicate, subject)",
        "CREATE INDEX facts_subject_predicate ON facts(subject COLLATE NOCASE, predicate)",
    ]

    /// A bulk load drops factpipe's indexes and builds them again at its end, from factpipe's definition:
    /// an index of the same name that the user had defined otherwise was replaced without a word. It
    /// stays as it was, and the load ends with the facts a database of factpipe's indexes gets.
    @Test(arguments: usersSecondaryIndexes)
    func aSecondaryIndexTheUserDefinedUnderFactpipesNameIsKeptAsItIs(_ definition: String) throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("existing.ndjson", Self.existing)).inserted == 3)
        let database = try work.database()
        try database.execute("DROP INDEX facts_subject_predicate; \(definition)")
        let summary = work.load(try work.write("load.ndjson", Self.load))
        #expect(summary.status == .done, "\(summary.message ?? "")")
        #expect(summary.inserted == 5)
        #expect(try database.column("SELECT sql FROM sqlite_schema WHERE name = 'facts_subject_predicate'")
            == [definition])
        #expect(try database.factIndexes() == ["facts_statement", "facts_subject_predicate"])

        let (reference, _) = try Self.loaded(.ignore, withFiller: false)
        #expect(try contents(database) == (try contents(try reference.database())))
        #expect(try assertions(database) == (try assertions(try reference.database())))
    }

    /// `facts_statement` defined otherwise by the user: a load into a small table replaced it with factpipe's;
    /// into a larger one, a definition that does not serve the merge's `ON CONFLICT(statement)` (an
    /// expression, more columns, not unique) failed the load with its batches staged, and every later load
    /// with it. A load refuses it before it writes anything, naming it.
    @Test(arguments: [
        "CREATE UNIQUE INDEX facts_statement ON facts(statement COLLATE NOCASE)",
        "CREATE UNIQUE INDEX facts_statement ON facts(lower(statement))",
        "CREATE UNIQUE INDEX facts_statement ON facts(statement, source)",
        "CREATE INDEX facts_statement ON facts(statement)",
    ], [false, true])
    func aUniqueIndexTheUserDefinedUnderFactpipesNameIsRefused(_ definition: String, intoALargerTable: Bool) throws {
        let work = try LoadWorkspace()
        let first = work.load(try work.write("existing.ndjson", Self.existing + (intoALargerTable ? Self.filler : "")))
        #expect(first.status == .done)
        let database = try work.database()
        try database.execute("DROP INDEX facts_statement; \(definition)")
        let before = try database.rows("SELECT * FROM facts ORDER BY id")

        let summary = work.load(try work.write("load.ndjson", Self.load))
        #expect(summary.status == .failed)
        let message = summary.message ?? ""
        #expect(message.contains("the index facts_statement is not factpipe's (\(definition))"), "\(message)")
        #expect(message.contains("CREATE UNIQUE INDEX facts_statement ON facts(statement)"), "\(message)")
        #expect(try database.column("SELECT sql FROM sqlite_schema WHERE name = 'facts_statement'") == [definition])
        #expect(try database.rows("SELECT * FROM facts ORDER BY id") == before)
        #expect(try database.int("SELECT count(*) FROM factpipe_loads") == 1)
        #expect(try database.int("SELECT count(*) FROM factpipe_staging") == 0)
    }

    /// The indexes a new database gets are factpipe's, so bulk loads drop and build them: were they taken
    /// for the user's, every bulk load would keep them and write each row into them, slower and silently.
    @Test func theIndexesFactpipeMakesAreTakenForFactpipes() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("existing.ndjson", Self.existing)).inserted == 3)
        let connection = try FactDatabase.openForWriting(path: work.databasePath)
        for index in [FactSchema.uniqueIndex] + FactSchema.secondaryIndexes {
            #expect(try FactSchema.isFactpipes(index: index.name, sql: index.sql, connection), "\(index.name)")
        }
        #expect(try StagingArea(connection: connection).uniqueness() == .index)
    }

    /// An atomic load into a small table appends straight to `facts` within its one transaction: it ends
    /// as a load that commits each batch, and when it fails nothing of it stays, the unique index included.
    @Test func anAtomicLoadIntoASmallTableCommitsAllOrNothing() throws {
        let (batched, _) = try Self.loaded(.update, withFiller: false)
        let atomic = try LoadWorkspace()
        #expect(atomic.load(try atomic.write("existing.ndjson", Self.existing)).inserted == 3)
        let done = atomic.load(try atomic.write("load.ndjson", Self.load)) {
            $0.conflictPolicy = .update
            $0.isAtomic = true
            $0.batchSize = 2
        }
        #expect((done.status, done.inserted) == (.done, 5))
        #expect(try contents(try atomic.database()) == (try contents(try batched.database())))
        #expect(try assertions(try atomic.database()) == (try assertions(try batched.database())))
        #expect(try atomic.database().column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["Z(new).", "M(new).", "C(new).", "Q(new).", "D(new)."])

        let failed = try LoadWorkspace()
        #expect(failed.load(try failed.write("existing.ndjson", Self.existing)).inserted == 3)
        let db = try failed.database()
        let before = try db.facts()
        let bad = Self.load + "{\"statement\": \n{\"statement\": \n{\"statement\": \n" + Self.load
        let aborted = failed.load(try failed.write("bad.ndjson", bad)) {
            $0.isAtomic = true
            $0.batchSize = 2
            $0.maxErrors = 1
        }
        #expect(aborted.status == .aborted)
        #expect(aborted.inserted == 0)
        #expect(try db.facts() == before)
        #expect(try db.factIndexes() == ["facts_statement", "facts_subject_predicate"])
        #expect(try db.int("SELECT count(*) FROM factpipe_assertions") == 0)
        #expect(try db.int("SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try db.ledger().map(\.status) == ["done", "aborted"])
    }

    /// A load no larger than the table stages its batches, as before.
    @Test func aLoadNoLargerThanTheTableIsStaged() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("existing.ndjson", Self.existing + Self.filler)).inserted == 43)
        #expect(work.load(try work.write("load.ndjson", Self.load)).inserted == 5)
        #expect(try work.database().column("SELECT statement FROM facts WHERE load_id = 2 ORDER BY id")
            == ["C(new).", "D(new).", "M(new).", "Q(new).", "Z(new)."])
    }
}
