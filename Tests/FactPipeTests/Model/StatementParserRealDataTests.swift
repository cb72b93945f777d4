import Foundation
import Testing

@testable import FactPipe

/// The package's `Fixtures/` folder, found from this file's path.
func fixtureURL(_ relativePath: String, filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // Model
        .deletingLastPathComponent()  // FactPipeTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Fixtures")
        .appendingPathComponent(relativePath)
}

/// The lines of a fixture, without blank lines and `#` comments.
func fixtureLines(_ relativePath: String) throws -> [String] {
    let text = try String(contentsOf: fixtureURL(relativePath), encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: true)
        .map(String.init)
        .filter { !$0.hasPrefix("#") }
}

@Suite struct StatementParserRealDataTests {
    /// The statements the knowledge base's old regular expressions refused, in `problematic_facts.json`.
    struct ProblematicFact: Decodable {
        var id: Int
        var original: String
    }

    @Test func acceptsExactlyTheWellFormedProblematicFacts() throws {
        let data = try Data(contentsOf: fixtureURL("problematic_facts.json"))
        let facts = try JSONDecoder().decode([ProblematicFact].self, from: data)
        #expect(facts.count == 118)
        var accepted: [String] = []
        var refusedKinds: [StatementSyntaxError.Kind: Int] = [:]
        for fact in facts {
            do {
                let statement = try StatementParser.parse(fact.original)
                accepted.append(statement.canonical)
            } catch {
                refusedKinds[error.kind, default: 0] += 1
                #expect(error.column >= 1 && error.column <= fact.original.count + 1)
            }
        }
        #expect(accepted.count == 16)
        #expect(refusedKinds.values.reduce(0, +) == 102)
        #expect(Set(accepted) == Self.acceptedCanonical)
        #expect(
            refusedKinds == [
                .emptyArgument: 15, .invalidName: 31, .unbalanced: 47, .trailingText: 9,
            ])
    }

    /// The canonical form of the 16 entries that are well-formed nested terms, each checked by hand against
    /// the grammar: a name, "(", arguments that are names or compounds with non-empty arguments, ")" and ".".
    /// The other 102 have an empty argument, a "(" after something that is not a name, a bracket never
    /// closed or closed twice, or text after a compound.
    static let acceptedCanonical: Set<String> = [
        "ConsistsOf(NewDnaMolecule, OneOriginal(parental)).",
        "ConsistsOf(EachNewDnaMolecule, OneOriginal(parental)).",
        "ConsistsOf(DnaMolecule, OneOriginal(parental)).",
        "HasCapability(Space(but, CoexistWithgriculture)).",
        "HasCapability(FarmsRequireSpace(but, CoexistWithgriculture)).",
        "HasCapability(RequireSpace(but, CoexistWithgriculture)).",
        "HasProperty(uthentication(passwordsStoreds, Hes)).",
        "HasCapability(InstrumentsIncludeS, NingTunnelingMicroscopes(stm)).",
        "HasCapability(KeyInstrumentsIncludeS, NingTunnelingMicroscopes(stm)).",
        "HasCapability(IncludeS, NingTunnelingMicroscopes(stm)).",
        "Determines(Structure(notComposition), irhavior, OftenFeaturingMicroscopic).",
        "Determines(Structure(notComposition), irhavior, OftenFeaturing).",
        "Determines(Structure(notComposition), irhavior, Often).",
        "Determines(irStructure(notComposition), irhavior, OftenFeaturingMicroscopic).",
        "Determines(irStructure(notComposition), irhavior, OftenFeaturing).",
        "Determines(irStructure(notComposition), irhavior, Often).",
    ]

    @Test func acceptsWellFormedStatementsFromTheKnowledgeBase() throws {
        let lines = try fixtureLines("statements/well_formed.txt")
        #expect(lines.count > 50)
        for line in lines {
            guard let statement = parsed(line) else { continue }
            #expect(statement.canonical == statement.predicate + "(" + statement.args.joined(separator: ", ") + ").")
            #expect(parsed(statement.canonical)?.canonical == statement.canonical)
            // These lines differ from their canonical form only in the space after a comma and the period.
            let spacedCommas = line.replacingOccurrences(of: ", ", with: ",").replacingOccurrences(of: ",", with: ", ")
            let withPeriod = spacedCommas.hasSuffix(".") ? spacedCommas : spacedCommas + "."
            #expect(statement.canonical == withPeriod)
        }
    }

    @Test func refusesMalformedStatementsFromTheKnowledgeBase() throws {
        let lines = try fixtureLines("statements/malformed.txt")
        #expect(lines.count == 7)
        for line in lines {
            let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
            try #require(fields.count == 3, "bad fixture line: \(line)")
            let kind = try #require(StatementSyntaxError.Kind(rawValue: fields[0]))
            let column = try #require(Int(fields[1]))
            guard let error = refusal(fields[2]) else { continue }
            #expect(error.kind == kind, "\(fields[2].prefix(60)): \(error)")
            #expect(error.column == column, "\(fields[2].prefix(60)): \(error)")
        }
    }
}
