import Foundation
import Testing

@testable import FactPipe

/// Random text for the property tests: letters from several scripts and planes (astral ones included),
/// digits, punctuation the grammar gives meaning to, and whitespace inside bare text.
struct UnicodeText {
    /// Scalar ranges names and texts draw from: Latin, Greek, CJK, and astral planes (Deseret, math
    /// alphanumerics, emoji, CJK extension B).
    static let ranges: [ClosedRange<UInt32>] = [
        0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x370...0x3FF, 0x4E00...0x4FFF,
        0x10400...0x1044F, 0x1D400...0x1D4FF, 0x1F300...0x1F5FF, 0x20000...0x2A6DF,
    ]

    /// A letter in NFC (the few scalars of the ranges that normalise to others, such as the Greek
    /// question mark U+037E, which is `;` in NFC, are drawn as `x`), so the text as written is the text
    /// stored.
    static func letter(_ rng: inout SplitMix64) -> Character {
        let range = rng.pick(ranges)
        let value = UInt32.random(in: range, using: &rng)
        let text = String(Unicode.Scalar(value) ?? "x")
        let isNFC = text.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(text.unicodeScalars)
        return isNFC ? Character(text) : "x"
    }

    /// A name: a letter or `_`, then letters, digits, `_` and `-`.
    static func name(_ rng: inout SplitMix64) -> String {
        var text = rng.chance(10) ? "_" : String(letter(&rng))
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            text.append(rng.pick([letter(&rng), letter(&rng), "_", "-", "7", "0"]))
        }
        return text
    }

    /// Bare text: no `,()[]"`, no line break, no `:` (it would read as a role), no space at either end.
    static func bare(_ rng: inout SplitMix64) -> String {
        var text = String(letter(&rng))
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            text.append(rng.pick([letter(&rng), letter(&rng), " ", "\t", ".", "-", "/", "'", "^", "3", "\\", "#"]))
        }
        if text.last == " " || text.last == "\t" { text.append("z") }
        return text
    }

    /// A quoted string, quotes and escapes included: any text, with `""` or `\"` for a quote.
    static func quoted(_ rng: inout SplitMix64) -> String {
        var text = "\""
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: text += "\"\""
            case 1: text += "\\\""
            case 2: text += rng.pick([",", "(", ")", "[", "]", ":", " ", "\n", "\t", "'"])
            default: text.append(letter(&rng))
            }
        }
        return text + "\""
    }

    static func term(depth: Int, _ rng: inout SplitMix64) -> GeneratedTerm {
        switch Int.random(in: 0..<(depth > 0 ? 5 : 3), using: &rng) {
        case 0: return .bare(rng.chance(20) ? name(&rng) : bare(&rng))
        case 1: return .quoted(quoted(&rng))
        case 2: return .list((0..<Int.random(in: 0...3, using: &rng)).map { _ in term(depth: depth - 1, &rng) })
        default: return .compound(name(&rng), arguments(depth: depth - 1, &rng))
        }
    }

    static func arguments(depth: Int, _ rng: inout SplitMix64) -> [GeneratedTerm.Argument] {
        (0..<Int.random(in: 1...4, using: &rng)).map { _ in
            (rng.chance(30) ? name(&rng) : nil, term(depth: depth, &rng))
        }
    }
}

/// A generated fact: how it is written in the input, and what must come back out of the database.
struct GeneratedFact {
    var loose: String
    var canonical: String
    var predicate: String
    var args: [String]
    var confidence: Double
    var source: String

    static func random(_ rng: inout SplitMix64) -> GeneratedFact {
        let predicate = UnicodeText.name(&rng)
        let args = UnicodeText.arguments(depth: 2, &rng)
        var canonicalWriter = StatementWriter(rng: nil)
        let canonical = canonicalWriter.statement(predicate, args)
        let canonicalArgs: [String] = canonicalWriter.arguments(args)
        var looseWriter = StatementWriter(rng: SplitMix64(state: rng.next()))
        return GeneratedFact(
            loose: looseWriter.statement(predicate, args), canonical: canonical, predicate: predicate,
            args: canonicalArgs, confidence: Double(Int.random(in: 0...1000, using: &rng)) / 1000,
            source: UnicodeText.bare(&rng))
    }
}

@Suite struct FactRoundTripPropertyTests {
    static let limits: FactLimits = {
        var limits = FactLimits.default
        limits.maxArgLength = 1 << 16
        limits.maxStatementBytes = 1 << 16
        return limits
    }()

    @Test(arguments: [UInt64(1), 2, 3])
    func canonicalFormIsIdempotentAndReparsesToTheSameArguments(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        for _ in 0..<800 {
            let fact = GeneratedFact.random(&rng)
            let parsed = try StatementParser.parse(fact.loose, limits: Self.limits)
            #expect(parsed.canonical == fact.canonical, "from \(fact.loose.debugDescription)")
            #expect(parsed.predicate == fact.predicate)
            #expect(parsed.args == fact.args)
            let again = try StatementParser.parse(parsed.canonical, limits: Self.limits)
            #expect(again == parsed, "canonical form \(parsed.canonical.debugDescription)")
        }
    }

    /// Loads `facts` written by `encode` and checks every stored row against what was generated.
    private func expectRoundTrip(
        _ facts: [GeneratedFact], name: String, encode: ([GeneratedFact]) throws -> Data
    ) throws {
        let work = try LoadWorkspace()
        let input = try work.write(name, [UInt8](try encode(facts)))
        let rejects = work.path("rejects.ndjson")
        let summary = work.load(input) {
            $0.limits = Self.limits
            $0.rejectsPath = rejects
        }
        #expect(summary.status == .done, "\(summary.message ?? "")")
        let refused = try rejectLines(rejects)
        #expect(summary.rejected == 0, "\(refused.prefix(3))")
        // The first of each canonical statement is kept.
        var expected: [String: GeneratedFact] = [:]
        for fact in facts where expected[fact.canonical] == nil { expected[fact.canonical] = fact }
        let rows = try work.database().facts()
        #expect(rows.count == expected.count)
        #expect(summary.inserted == expected.count)
        #expect(summary.duplicates == facts.count - expected.count)
        for row in rows {
            let fact = try #require(expected[row.statement], "unexpected statement \(row.statement.debugDescription)")
            #expect(row.predicate == fact.predicate)
            let args = try #require(try JSONSerialization.jsonObject(with: Data(row.args.utf8)) as? [String])
            #expect(args == fact.args, "\(row.statement.debugDescription)")
            #expect(row.arity == fact.args.count)
            #expect(row.confidence == fact.confidence)
            #expect(row.source == fact.source)
            #expect(try StatementParser.parse(row.statement, limits: Self.limits).canonical == row.statement)
        }
    }

    @Test func randomFactsSurviveAnNDJSONLoadUnchanged() throws {
        var rng = SplitMix64(state: 77)
        var facts = (0..<400).map { _ in GeneratedFact.random(&rng) }
        facts += facts.prefix(20)  // duplicates, in other spellings
        try expectRoundTrip(facts, name: "facts.ndjson") { facts in
            var data = Data()
            for fact in facts {
                let object: [String: Any] = [
                    "statement": fact.loose, "confidence": fact.confidence, "source": fact.source,
                ]
                data += try JSONSerialization.data(withJSONObject: object)
                data += Data("\n".utf8)
            }
            return data
        }
    }

    @Test(arguments: [SnapshotManifest.Format.ndjson, .csv])
    func randomFactsSurviveExportAndImportUnchanged(_ format: SnapshotManifest.Format) throws {
        var rng = SplitMix64(state: 79)
        let work = try LoadWorkspace()
        var lines = ""
        for _ in 0..<400 {
            let fact = GeneratedFact.random(&rng)
            let object: [String: Any] = [
                "statement": fact.loose, "confidence": fact.confidence, "source": fact.source,
                "context": ["note": UnicodeText.quoted(&rng)], "origin": UnicodeText.bare(&rng),
            ]
            lines += String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
        }
        let input = try work.write("facts.ndjson", lines)
        #expect(work.load(input) { $0.limits = Self.limits }.rejected == 0)
        var options = SnapshotOptions(databasePath: work.databasePath, outputPath: work.path("snapshot.\(format).zst"))
        options.format = format
        let archive = try SnapshotExporter(options: options).run()
        let copy = work.path("copy.sqlite")
        let summary = ImportPipeline(options: {
            var options = ImportOptions(inputs: [archive.path], databasePath: copy)
            options.limits = Self.limits
            return options
        }()).run()
        #expect(summary.status == .done, "\(summary.message ?? "")")
        #expect(summary.rejected == 0)
        func comparable(_ rows: [FactRow]) -> [FactRow] {
            rows.map { row in
                var row = row
                row.id = 0
                row.loadID = nil
                return row
            }
        }
        let original = try work.database().facts()
        #expect(original.count > 300)
        #expect(comparable(try RawDatabase(copy).facts()) == comparable(original))
    }

    @Test func randomFactsSurviveACSVLoadUnchanged() throws {
        var rng = SplitMix64(state: 78)
        let facts = (0..<400).map { _ in GeneratedFact.random(&rng) }
        try expectRoundTrip(facts, name: "facts.csv") { facts in
            // By scalar: a quote followed by an emoji skin-tone modifier is one `Character` with it, which
            // `replacingOccurrences` would not find.
            func field(_ text: String) -> String {
                var scalars = String.UnicodeScalarView()
                for scalar in text.unicodeScalars {
                    if scalar == "\"" { scalars.append(scalar) }
                    scalars.append(scalar)
                }
                return "\"" + String(scalars) + "\""
            }
            var text = "statement,confidence,source\r\n"
            for fact in facts {
                text += field(fact.loose) + "," + String(fact.confidence) + "," + field(fact.source) + "\r\n"
            }
            return Data(text.utf8)
        }
    }
}
