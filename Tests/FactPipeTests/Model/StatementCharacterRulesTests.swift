import Foundation
import Testing

@testable import FactPipe

/// The character rules of the canonical form: spellings no reader can tell apart are one statement,
/// and what cannot be seen or would drive a terminal is refused with its column.
@Suite struct StatementCharacterRulesTests {
    @Test(arguments: [
        ["P(a b)", "P(a  b)", "P(a\tb)", "P(a \t b)", "P(a\u{00A0}b)", "P(a\u{2009}b)", "P(a\u{3000}b)", "P(a\u{0B}b)"],
        ["P(\"a\\\"b\")", "P(\"a\"\"b\")"],
        ["LäuftAuf(Server, Linux)", "La\u{0308}uftAuf(Server, Linux)", "LäuftAuf(Server,\u{00A0}Linux)"],
        ["P(Ångström)", "P(A\u{030A}ngstro\u{0308}m)", "P(\u{212B}ngström)"],
        ["IsA(Dog, Animal)", "\u{FEFF}IsA(Dog, Animal)", " \u{FEFF}IsA(Dog, Animal)", "\u{00A0}IsA(Dog, Animal)"],
        ["P(k:Q(1, big city), [x  y])", "P(k : Q(1,big\u{2003}\u{2003}city),[x y])"],
        // Marks a decomposition gives, in canonical order with those around them (Foundation left U+0F71 U+0F72
        // U+0F71 U+0F72), and a syllable with its trailing consonant composed (Foundation left U+AC00 U+11A8).
        ["P(x\u{0F71}\u{0F71}\u{0F72}\u{0F72})", "P(x\u{0F73}\u{0F73})", "P(x\u{0F71}\u{0F73}\u{0F72})"],
        ["P(\u{AC01})", "P(\u{AC00}\u{11A8})", "P(\u{1100}\u{1161}\u{11A8})"],
    ])
    func lookAlikeSpellingsAreOneStatement(spellings: [String]) throws {
        let canonical = try spellings.map { try StatementParser.parse($0).canonical }
        // Bytes, not `String` equality: that holds NFC and NFD spellings equal.
        #expect(Set(canonical.map { Array($0.utf8) }).count == 1, "\(canonical.map(\.unicodeScalars))")
        // The canonical form is its own canonical form.
        let first = try #require(canonical.first)
        #expect(try StatementParser.parse(first).canonical == first)
    }

    /// NFC as the standard defines it, where Foundation's normaliser falls short (`StatementCharacters.nfc`).
    @Test(arguments: [
        ("x\u{0F73}\u{0F73}", [0x78, 0x0F71, 0x0F71, 0x0F72, 0x0F72]),
        ("x\u{0F75}\u{0F71}\u{0F74}", [0x78, 0x0F71, 0x0F71, 0x0F74, 0x0F74]),
        ("\u{AC00}\u{11A8}\u{0301}", [0xAC01, 0x0301]),
        ("\u{D788}\u{11C2}", [0xD7A3]),
        ("\u{AC01}\u{11A8}", [0xAC01, 0x11A8]),
        ("a\u{0301}\u{0F73}", [0xE1, 0x0F71, 0x0F72]),
    ] as [(String, [UInt32])])
    func nfcComposesAndOrdersAsTheStandardSays(text: String, scalars: [UInt32]) {
        #expect(StatementCharacters.nfc(text).unicodeScalars.map(\.value) == scalars)
    }

    @Test func theCanonicalFormIsNFCWithOneSpaceAndBackslashQuotes() throws {
        let parsed = try StatementParser.parse("La\u{0308}uftAuf( a \t\u{00A0} b ,\"say \"\"hi\"\"\" )")
        #expect(parsed.canonical == "LäuftAuf(a b, \"say \\\"hi\\\"\").")
        #expect(parsed.predicate == "LäuftAuf")
        #expect(parsed.predicate.unicodeScalars.count == 8)
        #expect(parsed.args == ["a b", "\"say \\\"hi\\\"\""])
        // Whitespace inside quotes is kept as written (apart from Unicode spaces, read as spaces).
        #expect(try StatementParser.parse("P(\"a  b\tc\u{00A0}d\")").canonical == "P(\"a  b\tc d\").")
        // A backslash before a quote inside quoted text keeps its meaning.
        #expect(try StatementParser.parse("P(\"a\\\\\"b\")").canonical == "P(\"a\\\\\"b\").")
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var text: String
        var kind: StatementSyntaxError.Kind
        var column: Int
        var testDescription: String { text.debugDescription }
    }

    @Test(arguments: [
        Refusal(text: "IsA(Z\u{1B}c, Y)", kind: .controlCharacter, column: 6),
        Refusal(text: "IsA(Dog\u{0}X, Animal)", kind: .controlCharacter, column: 8),
        Refusal(text: "P(a\u{07})", kind: .controlCharacter, column: 4),
        Refusal(text: "P(a\u{7F})", kind: .controlCharacter, column: 4),
        Refusal(text: "P(\"a\u{1B}[2J\")", kind: .controlCharacter, column: 5),
        Refusal(text: "P(ä\u{9B}x)", kind: .controlCharacter, column: 4),
        Refusal(text: "P\u{1B}(a)", kind: .controlCharacter, column: 2),
        Refusal(text: "P(a\u{200B}b)", kind: .invisibleCharacter, column: 4),
        Refusal(text: "P(ab\u{200D})", kind: .invisibleCharacter, column: 4),
        Refusal(text: "P(a\u{200E}b)", kind: .invisibleCharacter, column: 4),
        Refusal(text: "P(\u{202E}cba)", kind: .invisibleCharacter, column: 3),
        Refusal(text: "Is\u{00AD}A(x)", kind: .invisibleCharacter, column: 3),
        Refusal(text: "P(a\u{FEFF}b)", kind: .invisibleCharacter, column: 4),
        Refusal(text: "P(a, b)\u{2028}", kind: .invisibleCharacter, column: 8),
        Refusal(text: "Läuft(\"x\u{2060}\")", kind: .invisibleCharacter, column: 9),
    ])
    func controlAndInvisibleCharactersAreRefusedWithTheirColumn(refusal: Refusal) {
        do {
            let parsed = try StatementParser.parse(refusal.text)
            Issue.record("accepted as \(parsed.canonical.debugDescription)")
        } catch {
            #expect(error.kind == refusal.kind)
            #expect(error.column == refusal.column, "\(error)")
            // The message names the character by its code point and never holds it raw.
            #expect(error.message.contains("U+"))
            #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        }
    }

    @Test func whitespaceBetweenTokensIsStillAllowed() throws {
        #expect(try StatementParser.parse("\tP(\na,\u{0C}b\r\n)\u{0B}.").canonical == "P(a, b).")
    }

    /// Every spelling the generator writes, with Unicode spaces for some of its whitespace and in NFD
    /// (combining marks), reads as the canonical form of the NFC spelling.
    @Test func nfdAndUnicodeSpacesReadAsTheNFCCanonicalForm() throws {
        var rng = SplitMix64(state: 77)
        for _ in 0..<800 {
            let fact = GeneratedFact.random(&rng)
            var loose = ""
            for character in fact.loose {
                if character == " " && rng.chance(30) {
                    loose.append(rng.pick(["\u{00A0}", "\u{2002}", "\u{202F}", "\u{3000}"]))
                } else {
                    loose.append(character)
                }
            }
            let decomposed = loose.decomposedStringWithCanonicalMapping
            let parsed = try #require(try? StatementParser.parse(decomposed, limits: FactRoundTripPropertyTests.limits))
            #expect(Array(parsed.canonical.utf8) == Array(fact.canonical.utf8), "from \(decomposed.debugDescription)")
            #expect(parsed.args.map { Array($0.utf8) } == fact.args.map { Array($0.utf8) })
        }
    }
}
