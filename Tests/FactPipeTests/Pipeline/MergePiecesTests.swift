import Foundation
import Testing

@testable import FactPipe

/// A merge into a table with its indexes is cut into statement ranges when its sort would not fit
/// beside the page cache; the rows must reach `facts` exactly as one sort brings them.
@Suite struct MergePiecesTests {
    /// Statements in no order, repeated in the load and repeating facts already stored, each repeat
    /// with other side fields; non-ASCII and decomposed spellings sort by their bytes.
    static func input(seed: UInt64, repeating: Bool = true) -> String {
        var generator = Xoshiro256(seed: seed)
        var lines: [String] = []
        for index in 0..<400 {
            // Under `fail` a repeat ends the load: its keys are all new, in no order.
            let key = repeating ? Int(generator.next() % 150) : 1_000 + (index * 7_919) % 400
            let name = key % 7 == 0 ? "Zé\(key)" : key % 11 == 0 ? "Ze\u{301}\(key)" : "Has"
            let confidence = Double(index % 10) / 10
            lines.append(#"{"statement":"\#(name)(k\#(key), v\#(key % 13)).","confidence":\#(confidence),"#
                + #""source":"s\#(index)","context":{"i\#(index % 3)":\#(index)},"fact_metadata":{"n":\#(index)},"#
                + #""created_at":"2021-01-01T00:00:00Z"}"#)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Stored before the load: more facts than the load (so its indexes stay), some of them repeated by it.
    static let stored = ((0..<1_500).map { "Stored(\($0))." }
        + (0..<150).filter { $0 % 4 == 0 }.map { "Has(k\($0), v\($0 % 13))." })
        .map { #"{"statement":"\#($0)","created_at":"2020-01-01T00:00:00Z"}\#n"# }.joined()

    private func load(_ policy: ConflictPolicy, sortBytes: Int?) throws -> (ImportSummary, LoadWorkspace) {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("stored.ndjson", Self.stored)).status == .done)
        let input = Self.input(seed: 7, repeating: policy != .fail)
        let summary = work.load(try work.write("load.ndjson", input)) {
            $0.conflictPolicy = policy
            $0.batchSize = 64
            $0.mergeSortBytes = sortBytes
        }
        return (summary, work)
    }

    @Test(arguments: [ConflictPolicy.ignore, .replace, .update, .fail])
    func aMergeCutIntoPiecesEndsAsOneSortDoes(_ policy: ConflictPolicy) throws {
        let (whole, wholeWork) = try load(policy, sortBytes: nil)
        let (cut, cutWork) = try load(policy, sortBytes: 1)
        // The indexes stayed (the table is larger than the load), and the merges were cut.
        #expect(whole.writerTimings.mergedPieces == 1)
        #expect(cut.writerTimings.mergedPieces == StagingArea.mostMergePieces)
        #expect(whole.status == .done && cut.status == .done)
        #expect((cut.inserted, cut.updated, cut.duplicates) == (whole.inserted, whole.updated, whole.duplicates))
        #expect(whole.inserted > 0 && (whole.duplicates + whole.updated > 0 || policy == .fail))
        // Ids too: the pieces write in the order of one sort.
        let everything = """
            SELECT id, statement, confidence, source, context, fact_metadata, created_at, load_id, updated_load_id
            FROM facts ORDER BY id
            """
        let wholeRows = try wholeWork.database().rows(everything)
        #expect(wholeRows.count > 1_500)
        #expect(try cutWork.database().rows(everything) == wholeRows)
        let assertions = "SELECT load_id, fact_id FROM factpipe_assertions ORDER BY load_id, fact_id"
        #expect(try cutWork.database().rows(assertions) == (try wholeWork.database().rows(assertions)))
        #expect(try cutWork.database().int("SELECT count(*) FROM factpipe_staging") == 0)
    }

    /// The pieces cover every staged row once, in statement order, with equal statements together.
    @Test func piecesPartitionTheStagedRowsByStatement() throws {
        let directory = try TemporaryDirectory()
        let connection = try FactDatabase.openForWriting(path: directory.path("facts.sqlite"))
        var generator = Xoshiro256(seed: 3)
        try connection.execute("BEGIN")
        for seq in 1...2_000 {
            let key = generator.next() % 500
            // Composed and decomposed spellings of one statement: equal to Swift, other bytes to SQLite.
            let accented = seq % 2 == 0 ? "Z\u{E9}" : "Ze\u{301}"
            let statement = key % 9 == 0 ? "\(accented)(\(key))." : "P(\(key))."
            try connection.execute("""
                INSERT INTO factpipe_staging(seq, load_id, line, offset, statement, predicate, subject, args, arity,
                confidence, context, fact_metadata, created_at)
                VALUES (\(seq), \(seq % 50 == 0 ? 9 : 1), \(seq), 0, '\(statement)', 'P', 'x', '["x"]', 1, 1, '{}', '{}',
                '2021-01-01T00:00:00Z')
                """)
        }
        try connection.execute("COMMIT")
        let staging = StagingArea(connection: connection)
        let staged = try staging.stagedCount(loadID: 1)
        #expect(staged == 1_960)

        let pieces = try staging.mergePieces(loadID: 1, stagedRows: staged, sortBytes: 1)
        #expect(pieces.count == StagingArea.mostMergePieces)
        #expect(pieces.first?.from == nil && pieces.last?.below == nil)
        for (earlier, later) in zip(pieces, pieces.dropFirst()) {
            let cut = try #require(earlier.below)
            #expect(later.from == cut)
            if let from = earlier.from { #expect(Array(from.utf8).lexicographicallyPrecedes(Array(cut.utf8))) }
        }
        let select = try connection.prepare("""
            SELECT statement FROM factpipe_staging WHERE load_id = ?1 AND \(StagingArea.pieceCondition(first: 2))
            ORDER BY statement, seq
            """)
        var seen: [[UInt8]] = []
        var statementsOfEachPiece: [Set<[UInt8]>] = []
        for piece in pieces {
            try select.bind(1, Int64(1))
            try StagingArea.bind(piece, to: select, first: 2)
            var statements = Set<[UInt8]>()
            while try select.step() {
                let text = Array(try #require(select.text(0)).utf8)
                seen.append(text)
                statements.insert(text)
            }
            select.reset()
            #expect(!statements.isEmpty)
            statementsOfEachPiece.append(statements)
        }
        // Every row once, and the pieces one after another are one sort by bytes.
        #expect(seen.count == staged)
        #expect(seen == seen.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(seen.contains(Array("Z\u{E9}(0).".utf8)) && seen.contains(Array("Ze\u{301}(0).".utf8)))
        for (index, statements) in statementsOfEachPiece.enumerated() {
            for other in statementsOfEachPiece[(index + 1)...] { #expect(statements.isDisjoint(with: other)) }
        }

        // Rows that fit, or one statement only, are one piece.
        #expect(try staging.mergePieces(loadID: 1, stagedRows: staged, sortBytes: 1 << 30) == [.all])
        try connection.execute("UPDATE factpipe_staging SET statement = 'P(1).'")
        #expect(try staging.mergePieces(loadID: 1, stagedRows: staged, sortBytes: 1) == [.all])
        #expect(try staging.mergePieces(loadID: 2, stagedRows: 0, sortBytes: 1) == [.all])
    }

    /// A database converted to UTF-16 orders its text otherwise than by UTF-8 bytes: it is merged whole.
    @Test func aUTF16DatabaseIsMergedWhole() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("utf16.sqlite")
        let raw = try RawDatabase(path, create: true)
        try raw.execute("PRAGMA encoding = 'UTF-16le'; CREATE TABLE x(a); DROP TABLE x;")
        let connection = try FactDatabase.openForWriting(path: path)
        #expect(try connection.scalarText("PRAGMA encoding") == "UTF-16le")
        for seq in 1...100 {
            try connection.execute("""
                INSERT INTO factpipe_staging(seq, load_id, line, offset, statement, predicate, subject, args, arity,
                confidence, context, fact_metadata, created_at)
                VALUES (\(seq), 1, \(seq), 0, 'P(\(seq)).', 'P', 'x', '["x"]', 1, 1, '{}', '{}', '2021-01-01T00:00:00Z')
                """)
        }
        let staging = StagingArea(connection: connection)
        #expect(try staging.mergePieces(loadID: 1, stagedRows: 100, sortBytes: 1) == [.all])
        withExtendedLifetime(raw) {}
    }
}
