import Testing

@testable import FactPipe

/// A small seeded generator, so the generated statements are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int.random(in: choices.indices, using: &self)]
    }

    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &self) < percent
    }
}

/// A term built from the grammar's parts.
indirect enum GeneratedTerm {
    typealias Argument = (role: String?, term: GeneratedTerm)

    case bare(String)
    case quoted(String)
    case list([GeneratedTerm])
    case compound(String, [Argument])

    static let names = ["P", "Q", "HasPart", "LäuftAuf", "_x", "err_rel", "k-1", "CO₂"]
    static let bares = [
        "a", "New York", "2.3e-4", "s^-1", "TCP/IP", "2025-08-20T10:00:00", "x->y", "-3", ".5", "big   city",
    ]
    static let quotes = ["\"hello, (world)\"", "\"she said \"\"hi\"\"\"", "\"a \\\" b\"", "\"\"", "\"[x]\""]

    static func random(depth: Int, using rng: inout SplitMix64) -> GeneratedTerm {
        switch Int.random(in: 0..<(depth > 0 ? 5 : 3), using: &rng) {
        case 0:
            return .bare(rng.pick(bares + names))
        case 1:
            return .quoted(rng.pick(quotes))
        case 2:
            let count = Int.random(in: 0...3, using: &rng)
            return .list((0..<count).map { _ in random(depth: depth - 1, using: &rng) })
        default:
            return .compound(rng.pick(names), arguments(depth: depth - 1, using: &rng))
        }
    }

    static func arguments(depth: Int, using rng: inout SplitMix64) -> [Argument] {
        (0..<Int.random(in: 1...4, using: &rng)).map { _ in
            (rng.chance(30) ? rng.pick(names) : nil, random(depth: depth, using: &rng))
        }
    }
}

/// Writes generated statements, canonically when it has no generator, else with random whitespace
/// around every token and a period only sometimes.
struct StatementWriter {
    /// Bare text as the canonical form writes it: each run of spaces and tabs as one space.
    static func canonicalBare(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\t" {
                if out.last != " " { out.append(" ") }
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Quoted text as the canonical form writes it: every quote inside as `\"`, whether it was
    /// written `""` or `\"`.
    static func canonicalQuoted(_ text: String) -> String {
        let inner = Array(text.unicodeScalars.dropFirst().dropLast())
        var out = String.UnicodeScalarView(["\""])
        var index = 0
        while index < inner.count {
            if inner[index] == "\"" || (inner[index] == "\\" && index + 1 < inner.count && inner[index + 1] == "\"") {
                out.append(contentsOf: ["\\", "\""])
                index += 2
            } else {
                out.append(inner[index])
                index += 1
            }
        }
        out.append("\"")
        return String(out)
    }

    static let spaces = ["", "", " ", "  ", "\t", " \n "]
    var rng: SplitMix64?

    mutating func space() -> String {
        guard var generator = rng else { return "" }
        defer { rng = generator }
        return generator.pick(Self.spaces)
    }

    mutating func statement(_ predicate: String, _ args: [GeneratedTerm.Argument]) -> String {
        let period = rng == nil || rng?.chance(50) == true ? "." : ""
        return space() + predicate + space() + "(" + arguments(args) + ")" + space() + period + space()
    }

    mutating func arguments(_ args: [GeneratedTerm.Argument]) -> [String] {
        args.map { argument in
            let role = argument.role.map { $0 + space() + ":" } ?? ""
            return space() + role + space() + term(argument.term) + space()
        }
    }

    mutating func arguments(_ args: [GeneratedTerm.Argument]) -> String {
        let texts: [String] = arguments(args)
        return texts.joined(separator: rng == nil ? ", " : ",")
    }

    mutating func term(_ term: GeneratedTerm) -> String {
        switch term {
        case .bare(let text):
            return rng == nil ? Self.canonicalBare(text) : text
        case .quoted(let text):
            return rng == nil ? Self.canonicalQuoted(text) : text
        case .list(let items):
            let texts = items.map { space() + self.term($0) + space() }
            return "[" + texts.joined(separator: rng == nil ? ", " : ",") + space() + "]"
        case .compound(let name, let args):
            return name + space() + "(" + arguments(args) + ")"
        }
    }
}

@Suite struct StatementParserCanonicalFormTests {
    /// Limits that let deeply nested generated arguments through.
    static let roomy: FactLimits = {
        var limits = FactLimits.default
        limits.maxArgLength = 1 << 20
        limits.maxStatementBytes = 1 << 20
        return limits
    }()

    @Test func generatedStatementsParseToTheirCanonicalFormWhateverTheWhitespace() throws {
        var rng = SplitMix64(state: 2025)
        for _ in 0..<1500 {
            let predicate = rng.pick(GeneratedTerm.names)
            let args = GeneratedTerm.arguments(depth: 3, using: &rng)
            var canonicalWriter = StatementWriter(rng: nil)
            let canonical = canonicalWriter.statement(predicate, args)
            let canonicalArgs: [String] = canonicalWriter.arguments(args)
            var looseWriter = StatementWriter(rng: SplitMix64(state: rng.next()))
            let loose = looseWriter.statement(predicate, args)
            let statement = try #require(parsed(loose, limits: Self.roomy))
            #expect(statement.canonical == canonical, "from \(loose.debugDescription)")
            #expect(statement.predicate == predicate)
            #expect(statement.args == canonicalArgs)
            #expect(parsed(canonical, limits: Self.roomy)?.canonical == canonical)
        }
    }

    @Test func randomTextIsAcceptedIdempotentlyOrRefusedWithAColumnInsideIt() throws {
        let pieces = [
            "a", "Q", "ä", "₂", " ", ",", ",", "(", "(", ")", ")", "[", "]", "\"", "\"\"", ":", ".", "-", "\\", "1",
            "\t", "\n", "k:", "x y",
        ]
        var rng = SplitMix64(state: 7)
        var acceptedCount = 0
        for _ in 0..<5000 {
            let body = (0..<Int.random(in: 0...12, using: &rng)).map { _ in rng.pick(pieces) }.joined()
            let text = "P(" + body + ")"
            do {
                let statement = try StatementParser.parse(text)
                acceptedCount += 1
                let expected = statement.predicate + "(" + statement.args.joined(separator: ", ") + ")."
                #expect(statement.canonical == expected)
                #expect(parsed(statement.canonical) == statement, "from \(text.debugDescription)")
            } catch {
                #expect(error.column >= 1 && error.column <= text.count + 1, "\(text.debugDescription): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(acceptedCount > 400)
    }

    @Test func canonicalFormIsIdempotentOverKnownStatements() throws {
        let inputs =
            try fixtureLines("statements/well_formed.txt") + [
                "  Pred ( a ,b( c,d ) , [ e,f ] )  ",
                "Reaction(k : Q( 2.3e-4 ,s^-1,err_rel : 5 ),T:Q(298,K))",
                "Says(Bob, \"she said \"\"hi\"\"\")",
                "P(a b : c, [x : y], [ ], \"q\" )",
                "Determines(Structure(notComposition), irhavior,OftenFeaturingMicroscopic).",
            ]
        for input in inputs {
            let first = try #require(parsed(input))
            let second = try #require(parsed(first.canonical))
            #expect(second == first, "\(input)")
        }
    }
}
