import Foundation
import Testing

@testable import FactPipe

/// `--on-conflict update`: what a record gives wins, what it leaves out stays.
@Suite struct UpdatePolicyTests {
    private let full = """
        {"statement":"P(a).","confidence":0.5,"source":"first","context":{"k":1},"fact_metadata":{"m":1},\
        "created_at":"2020-01-01T00:00:00Z"}
        """

    /// P(a) as `full` stored it, checked field by field after an update that gave `given` only.
    private func expectKept(_ row: FactRow?, confidence: Double = 0.5, source: String? = "first",
                            context: [String: Any] = ["k": 1], metadata: [String: Any] = ["m": 1],
                            createdAt: String = "2020-01-01T00:00:00Z",
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let row = try #require(row, sourceLocation: sourceLocation)
        #expect(row.confidence == confidence, sourceLocation: sourceLocation)
        #expect(row.source == source, sourceLocation: sourceLocation)
        #expect(try jsonObject(row.context) == NSDictionary(dictionary: context), sourceLocation: sourceLocation)
        #expect(try jsonObject(row.metadata) == NSDictionary(dictionary: metadata), sourceLocation: sourceLocation)
        #expect(row.createdAt == createdAt, sourceLocation: sourceLocation)
    }

    @Test func anNDJSONRecordUpdatesOnlyWhatItGives() throws {
        let work = try LoadWorkspace()
        let other = "{\"statement\":\"P(b).\",\"confidence\":0.5,\"source\":\"first\"}\n"
        _ = work.load(try work.write("1.ndjson", full + "\n" + other))
        let update = try work.write("2.ndjson", """
            {"statement":"P(a).","context":{"j":2}}
            {"statement":"P(b).","confidence":0.9,"created_at":"2021-06-01T00:00:00Z"}

            """)
        let before = try #require(try work.database().fact("P(b)."))
        let summary = work.load(update) { $0.conflictPolicy = .update }
        #expect(summary.updated == 2)
        try expectKept(try work.database().fact("P(a)."), context: ["k": 1, "j": 2])
        let b = try #require(try work.database().fact("P(b)."))
        #expect(b.confidence == 0.9 && b.source == "first")
        // A fact is created once: the update's creation time does not replace it.
        #expect(b.createdAt == before.createdAt)
    }

    /// Stored context or metadata that is no JSON (written by another program, or by hand): a record that
    /// gives none leaves it as it is, one that gives an object replaces it. json_patch failed on it: the load
    /// failed with its rows staged, and every later load of the database failed merging them.
    @Test func storedTextThatIsNoJSONIsKeptOrReplacedAndLoadsGoOn() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("1.ndjson", full + "\n" + #"{"statement":"Q(c)."}"# + "\n"))
        let db = try work.database()
        try db.execute("UPDATE facts SET fact_metadata = '' WHERE statement = 'P(a).'")
        try db.execute("UPDATE facts SET context = 'not json' WHERE statement = 'Q(c).'")
        let update = try work.write("2.ndjson", """
            {"statement":"P(a).","confidence":0.2}
            {"statement":"Q(c).","context":{"k":2}}
            {"statement":"New(x)."}

            """)
        let summary = work.load(update) { $0.conflictPolicy = .update }
        #expect(summary.status == .done, "\(summary.message ?? "")")
        #expect(summary.inserted == 1 && summary.updated == 2)
        let a = try #require(try db.fact("P(a)."))
        #expect(a.confidence == 0.2 && a.metadata == "")
        #expect(try jsonObject(try #require(try db.fact("Q(c).")).context) == NSDictionary(dictionary: ["k": 2]))
        #expect(work.load(try work.write("3.txt", "R(d).\n")).status == .done)
        #expect(try db.int("SELECT count(*) FROM factpipe_staging") == 0)
    }

    /// A field null or "" gives nothing under `update`, as an empty CSV cell does: `tags` null deleted the
    /// stored tags, `certainty` "" replaced the stored certainty and a `note` null deleted the stored note.
    @Test func anNDJSONFieldNullOrEmptyLeavesWhatIsStored() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("1.ndjson", #"{"statement":"U(1).","tags":["keep"],"certainty":0.9,"note":"keep"}"# + "\n"))
        let update = try work.write("2.ndjson", #"{"statement":"U(1).","tags":null,"certainty":"","note":null}"# + "\n")
        #expect(work.load(update) { $0.conflictPolicy = .update }.updated == 1)
        let row = try #require(try work.database().fact("U(1)."))
        #expect(try jsonObject(row.context) == NSDictionary(dictionary: ["tags": ["keep"], "certainty": 0.9]))
        #expect(try jsonObject(row.metadata) == NSDictionary(dictionary: ["note": "keep"]))
    }

    /// SQLite's json_patch compares member names as spelled: `{"\u0061":1}` updated with `{"a":null}` kept
    /// its member, and a nested `"\u0062"` beside a new `"b"` held one name twice (PostgreSQL stored the
    /// merge, and a snapshot of it was refused by import). Names are stored plain, so they merge as JSON.
    @Test func namesSpelledWithEscapesMergeAsTheNamesTheyAre() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("1.ndjson", #"{"statement":"P(a).","context":{"\u0061":1,"n":{"\u0062":1}},"fact_metadata":{"\/":1}}"# + "\n"))
        let update = try work.write("2.ndjson", #"{"statement":"P(a).","context":{"a":null,"n":{"b":2}},"fact_metadata":{"/":2}}"# + "\n")
        #expect(work.load(update) { $0.conflictPolicy = .update }.updated == 1)
        let row = try #require(try work.database().fact("P(a)."))
        #expect(row.context == #"{"n":{"b":2}}"#)
        #expect(row.metadata == #"{"/":2}"#)
    }

    @Test func aCSVWithoutAConfidenceColumnOrWithAnEmptyCellKeepsTheStoredOne() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("1.ndjson", full + "\n"))
        let noColumn = try work.write("2.csv", "statement,note\nP(a).,hello\n")
        #expect(work.load(noColumn) { $0.conflictPolicy = .update }.updated == 1)
        try expectKept(try work.database().fact("P(a)."), metadata: ["m": 1, "note": "hello"])
        // An empty cell gives nothing, as a missing column does.
        let emptyCells = try work.write("3.csv", "statement,confidence,source,created_at\nP(a).,,,\n")
        #expect(work.load(emptyCells) { $0.conflictPolicy = .update }.updated == 1)
        try expectKept(try work.database().fact("P(a)."), metadata: ["m": 1, "note": "hello"])
        let given = try work.write("4.csv", "statement,confidence,source\nP(a).,0.25,csv\n")
        #expect(work.load(given) { $0.conflictPolicy = .update }.updated == 1)
        try expectKept(try work.database().fact("P(a)."), confidence: 0.25, source: "csv",
                       metadata: ["m": 1, "note": "hello"])
    }

    /// The first load into an empty table appends straight to `facts`; its repeats are merged at its end.
    @Test(arguments: ["ndjson", "csv"])
    func repeatsInsideTheFirstLoadUpdateOnlyWhatTheyGive(_ format: String) throws {
        let work = try LoadWorkspace()
        let input = format == "ndjson"
            ? try work.write("in.ndjson", full + "\n{\"statement\":\"P(a).\",\"context\":{\"j\":2}}\n")
            : try work.write("in.csv", """
                statement,confidence,source,created_at,context
                P(a).,0.5,first,2020-01-01T00:00:00Z,"{""k"":1}"
                P(a).,,,,"{""j"":2}"

                """)
        let summary = work.load(input) { $0.conflictPolicy = .update }
        #expect([summary.inserted, summary.updated] as [Int] == [1, 1])
        try expectKept(try work.database().fact("P(a)."), context: ["k": 1, "j": 2],
                       metadata: format == "ndjson" ? ["m": 1] : [:])
    }
}
