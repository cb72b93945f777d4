import Testing

@testable import FactPipe

/// A statement the parser must refuse, with the kind and 1-based column it must report.
struct Refusal: Sendable, CustomTestStringConvertible {
    var text: String
    var kind: StatementSyntaxError.Kind
    var column: Int
    var limits: FactLimits = .default

    var testDescription: String { "\(kind) at \(column): \(text.prefix(60))" }
}

/// Parses `text`, recording a test issue and returning nil when the parser refuses it.
func parsed(_ text: String, limits: FactLimits = .default) -> ParsedStatement? {
    do {
        return try StatementParser.parse(text, limits: limits)
    } catch {
        Issue.record("\(text) was refused: \(error.kind) \(error)")
        return nil
    }
}

/// The error the parser throws for `text`, recording a test issue when it accepts it.
func refusal(_ text: String, limits: FactLimits = .default) -> StatementSyntaxError? {
    do {
        let statement = try StatementParser.parse(text, limits: limits)
        Issue.record("\(text) was accepted as \(statement.canonical)")
        return nil
    } catch {
        return error
    }
}

@Suite struct StatementParserTests {
    // MARK: - Well-formed statements

    @Test(arguments: [
        ("HasPart(Computer, CPU).", "HasPart(Computer, CPU).", "HasPart", ["Computer", "CPU"]),
        ("Einwohner(Berlin, 3669491).", "Einwohner(Berlin, 3669491).", "Einwohner", ["Berlin", "3669491"]),
        (
            "Reaction(k:Q(2.3e-4, s^-1, err_rel:5), T:Q(298, K)).",
            "Reaction(k:Q(2.3e-4, s^-1, err_rel:5), T:Q(298, K)).",
            "Reaction", ["k:Q(2.3e-4, s^-1, err_rel:5)", "T:Q(298, K)"]
        ),
        (
            "API(AI, GraphQL, REST, TCP/IP).", "API(AI, GraphQL, REST, TCP/IP).",
            "API", ["AI", "GraphQL", "REST", "TCP/IP"]
        ),
        ("LäuftAuf(Server, Linux).", "LäuftAuf(Server, Linux).", "LäuftAuf", ["Server", "Linux"]),
        ("HasProperty(CO₂, greenhouse)", "HasProperty(CO₂, greenhouse).", "HasProperty", ["CO₂", "greenhouse"]),
        (
            "ToolDiscrepancy(Frontend_StatusBar, shows_122_actual_115).",
            "ToolDiscrepancy(Frontend_StatusBar, shows_122_actual_115).",
            "ToolDiscrepancy", ["Frontend_StatusBar", "shows_122_actual_115"]
        ),
        ("  Pred ( a ,b( c,d ) , [ e,f ] )  ", "Pred(a, b(c, d), [e, f]).", "Pred", ["a", "b(c, d)", "[e, f]"]),
        (
            "Says(Alice, \"hello, (world)\").", "Says(Alice, \"hello, (world)\").",
            "Says", ["Alice", "\"hello, (world)\""]
        ),
        (
            "Says(Bob, \"she said \"\"hi\"\"\").", "Says(Bob, \"she said \\\"hi\\\"\").",
            "Says", ["Bob", "\"she said \\\"hi\\\"\""]
        ),
    ])
    func acceptsRealStatements(input: String, canonical: String, predicate: String, args: [String]) throws {
        let statement = try #require(parsed(input))
        #expect(statement.canonical == canonical)
        #expect(statement.predicate == predicate)
        #expect(statement.args == args)
    }

    @Test func acceptsRolesWithQuantitiesAndListsWithoutPeriod() throws {
        let input =
            "TemplateLearningSystem(injected_templates:6, template_complexity:Q(15, arguments_average), "
            + "domains_adapted:[mathematics, computer_science, biology], activation_date:2025-09-19)"
        let statement = try #require(parsed(input))
        #expect(statement.canonical == input + ".")
        #expect(statement.predicate == "TemplateLearningSystem")
        #expect(
            statement.args == [
                "injected_templates:6", "template_complexity:Q(15, arguments_average)",
                "domains_adapted:[mathematics, computer_science, biology]", "activation_date:2025-09-19",
            ])
    }

    @Test(arguments: [
        ("P(start : 2025-08-20T10:00:00)", "P(start:2025-08-20T10:00:00)."),
        ("P( k :Q( 1 , s ) )", "P(k:Q(1, s))."),
        ("P(msg: \"a , b\" , list :[ x ])", "P(msg:\"a , b\", list:[x])."),
        ("P(New York ,  big   city\t)", "P(New York, big city)."),
        ("P(a:b:c)", "P(a:b:c)."),
        ("P(http://example.org/x)", "P(http://example.org/x)."),
        ("P(a b : c)", "P(a b : c)."),
        ("P([a:b, c : d])", "P([a:b, c : d])."),
        ("P([], [ ], [[a], []])", "P([], [], [[a], []])."),
        ("P(f(g(h(x))), [1, [2, [3]]])", "P(f(g(h(x))), [1, [2, [3]]])."),
        ("P(\"\")", "P(\"\")."),
        ("P(\"a \\\" b\")", "P(\"a \\\" b\")."),
        ("P(\"back\\slash\")", "P(\"back\\slash\")."),
        ("P(\"multi\nline\")", "P(\"multi\nline\")."),
        ("P(a\n, b\r\n)\n", "P(a, b)."),
        ("P(a) .", "P(a)."),
        ("P (a)", "P(a)."),
        ("P(.5, -3, 'quoted', a;b, x->y)", "P(.5, -3, 'quoted', a;b, x->y)."),
        ("_p-1(x)", "_p-1(x)."),
        ("Q₂(Straße, naïve café)", "Q₂(Straße, naïve café)."),
        ("P(\u{00A0}x)", "P(x)."),
    ])
    func writesCanonicalForm(input: String, canonical: String) throws {
        let statement = try #require(parsed(input))
        #expect(statement.canonical == canonical)
    }

    @Test func differencesInWhitespaceAndPeriodGiveTheSameCanonicalText() throws {
        let variants = [
            "Reaction(k:Q(2.3e-4, s^-1, err_rel:5), T:Q(298, K)).",
            "Reaction(k:Q(2.3e-4,s^-1,err_rel:5),T:Q(298,K))",
            "  Reaction ( k : Q ( 2.3e-4 ,\ts^-1 , err_rel : 5 ) , T: Q(298 , K ) ) . ",
        ]
        let canonical = try variants.map { try #require(parsed($0)).canonical }
        #expect(Set(canonical).count == 1)
    }

    // MARK: - Refusals

    @Test(arguments: [
        Refusal(text: "HasProperty(PasswordStorage(, HedWith).", kind: .emptyArgument, column: 29),
        Refusal(text: "HasProperty(-PasswordStorage(, HedWithSalts)).", kind: .invalidName, column: 13),
        Refusal(text: "ConsistsOf(NewDnaMolecule, OneOriginal(parental)Strandnd).", kind: .trailingText, column: 49),
        Refusal(text: "CausedBy(A, B(C, D).", kind: .unbalanced, column: 9),
        Refusal(text: "P(a,,b)", kind: .emptyArgument, column: 5),
        Refusal(text: "P()", kind: .emptyArgument, column: 3),
        Refusal(text: "This is free text", kind: .missingArgumentList, column: 6),
        Refusal(text: "all x (A(x) -> B(x)).", kind: .invalidPredicate, column: 5),
        Refusal(text: "P(a) extra", kind: .trailingText, column: 6),
        Refusal(text: "P(a, \"unterminated)", kind: .unbalanced, column: 6),
        Refusal(text: "P(a))", kind: .unbalanced, column: 5),
        Refusal(text: "P(a]", kind: .unbalanced, column: 4),
        Refusal(text: "P(a)" + String(repeating: " ", count: 10_237), kind: .tooLong, column: 10_241),
        Refusal(
            text: "P(" + (1...11).map { "a\($0)" }.joined(separator: ", ") + ")",
            kind: .tooManyArguments, column: 44
        ),
        Refusal(text: String(repeating: "P", count: 101) + "(a)", kind: .predicateTooLong, column: 101),
        Refusal(text: "P(" + String(repeating: "a", count: 501) + ")", kind: .argumentTooLong, column: 3),
    ])
    func refusesMalformedStatements(_ case: Refusal) throws {
        let error = try #require(refusal(`case`.text, limits: `case`.limits))
        #expect(error.kind == `case`.kind, "\(error)")
        #expect(error.column == `case`.column, "\(error)")
        #expect(!error.message.isEmpty)
    }

    @Test(arguments: [
        Refusal(text: "", kind: .empty, column: 1),
        Refusal(text: " \t ", kind: .empty, column: 1),
        Refusal(text: "Foo", kind: .missingArgumentList, column: 4),
        Refusal(text: "Foo.", kind: .missingArgumentList, column: 4),
        Refusal(text: "\"just a quote\"", kind: .missingArgumentList, column: 1),
        Refusal(text: "-Foo(x)", kind: .invalidPredicate, column: 1),
        Refusal(text: "(x)", kind: .invalidPredicate, column: 1),
        Refusal(text: "123(x)", kind: .invalidPredicate, column: 1),
        Refusal(text: "P(-Foo(x))", kind: .invalidName, column: 3),
        Refusal(text: "P(Foo Bar(x))", kind: .invalidName, column: 7),
        Refusal(text: "P((a))", kind: .invalidName, column: 3),
        Refusal(text: "P(k:(a))", kind: .invalidName, column: 5),
        Refusal(text: "P([k:Q(1)])", kind: .invalidName, column: 5),
        Refusal(text: "P(a:)", kind: .emptyArgument, column: 5),
        Refusal(text: "P(a, )", kind: .emptyArgument, column: 6),
        Refusal(text: "P(, a)", kind: .emptyArgument, column: 3),
        Refusal(text: "P([a,])", kind: .emptyArgument, column: 6),
        Refusal(text: "P([,])", kind: .emptyArgument, column: 4),
        Refusal(text: "P(a)..", kind: .trailingText, column: 6),
        Refusal(text: "P(a\nb)", kind: .trailingText, column: 4),
        Refusal(text: "P(\"x\" y)", kind: .trailingText, column: 7),
        Refusal(text: "P(a \"x\")", kind: .trailingText, column: 5),
        Refusal(text: "P(a[1])", kind: .trailingText, column: 4),
        Refusal(text: "P(a", kind: .unbalanced, column: 2),
        Refusal(text: "P(a, [b", kind: .unbalanced, column: 6),
        Refusal(text: "P(a, b(c", kind: .unbalanced, column: 7),
        Refusal(text: "P(a, [b, c)", kind: .unbalanced, column: 11),
        Refusal(text: "P(a\"b)", kind: .unbalanced, column: 4),
        Refusal(text: "P(\"a\\\")", kind: .unbalanced, column: 3),
        Refusal(text: "IsTypeOf(ShortPalindromicRepeats), RevolutionaryGene-editing).", kind: .unbalanced, column: 61),
        Refusal(text: "P(a, b, c)", kind: .tooManyArguments, column: 9, limits: limited(maxArgs: 2)),
    ])
    func refusesEdgeCases(_ case: Refusal) throws {
        let error = try #require(refusal(`case`.text, limits: `case`.limits))
        #expect(error.kind == `case`.kind, "\(error)")
        #expect(error.column == `case`.column, "\(error)")
    }

    // MARK: - Limits and columns count characters, not bytes

    @Test func columnsCountCharactersNotBytes() throws {
        let umlaut = try #require(refusal("Läuft(a,,b)"))
        #expect(umlaut.kind == .emptyArgument)
        #expect(umlaut.column == 9)
        let combining = try #require(refusal("Cafe\u{301}(a,,b)"))
        #expect(combining.column == 8)
        let subscripted = try #require(refusal("P(CO₂, x) y"))
        #expect(subscripted.kind == .trailingText)
        #expect(subscripted.column == 11)
    }

    @Test func statementLimitCountsBytesAndPointsAtTheFirstCharacterBeyondIt() throws {
        let atLimit = "P(a)" + String(repeating: " ", count: 10_236)
        #expect(atLimit.utf8.count == 10_240)
        #expect(parsed(atLimit)?.canonical == "P(a).")
        // The 10,241st byte is the second byte of "ä", which starts at column 10,240.
        let splitScalar = "P(a)" + String(repeating: " ", count: 10_235) + "ä"
        let error = try #require(refusal(splitScalar))
        #expect(error.kind == .tooLong)
        #expect(error.column == 10_240)
    }

    /// The limit holds for the statement as stored too, so that whatever is stored loads back from its own
    /// export under the same limit: written without the spaces after its commas, a statement 10,231 bytes
    /// long was stored 10,241 bytes long, and every import of its export refused it.
    @Test func statementLimitHoldsForTheStoredFormToo() throws {
        let arguments = (0..<9).map { _ in String(repeating: "語", count: 341) } + [String(repeating: "語", count: 337) + "x"]
        let compact = "L(" + arguments.joined(separator: ",") + ")"
        #expect(compact.utf8.count == 10_231)
        let error = try #require(refusal(compact))
        #expect(error.kind == .tooLong)
        #expect(error.message == "The statement is 10241 bytes long as stored (in its canonical form), over the limit "
            + "of 10240 bytes.")
        #expect(error.column == compact.count + 1)
        // At the limit stored, it is taken, and reads back the same.
        let fits = "L(" + arguments.dropLast().joined(separator: ",") + "," + String(repeating: "語", count: 337) + ")"
        let stored = try #require(parsed(fits)?.canonical)
        #expect(stored.utf8.count == 10_240)
        #expect(parsed(stored)?.canonical == stored)
    }

    @Test func predicateAndArgumentLimitsCountCharacters() throws {
        #expect(parsed(String(repeating: "P", count: 100) + "(a)") != nil)
        #expect(parsed(String(repeating: "ä", count: 100) + "(a)") != nil)
        let longUnicode = try #require(refusal(String(repeating: "ä", count: 101) + "(a)"))
        #expect(longUnicode.kind == .predicateTooLong)
        #expect(longUnicode.column == 101)
        let indented = try #require(refusal("  " + String(repeating: "P", count: 101) + "(a)"))
        #expect(indented.column == 103)
        #expect(parsed("P(" + String(repeating: "a", count: 500) + ")") != nil)
        #expect(parsed("P(x, " + String(repeating: "ä", count: 500) + ")") != nil)
        #expect(parsed("P(" + String(repeating: "a", count: 500) + "      )") != nil)
        #expect(parsed("P(" + (1...10).map { "a\($0)" }.joined(separator: ",") + ")")?.args.count == 10)
    }

    @Test func acceptsNestingAsDeepAsTheByteLimitAllows() throws {
        var limits = FactLimits.default
        limits.maxArgLength = 10_240
        let lists = String(repeating: "[", count: 2_000) + "x" + String(repeating: "]", count: 2_000)
        let compounds = String(repeating: "f(", count: 1_000) + "x" + String(repeating: ")", count: 1_000)
        let statement = try #require(parsed("P(\(lists), \(compounds))", limits: limits))
        #expect(statement.args == [lists, compounds])
        let unclosed = try #require(refusal("P(" + String(repeating: "[", count: 5_000), limits: limits))
        #expect(unclosed.kind == .unbalanced)
        #expect(unclosed.column == 5_002)
    }

    @Test func argumentLimitAppliesToTheCanonicalText() throws {
        // 401 characters as written, 600 once each comma is followed by a space.
        let list = "[" + Array(repeating: "a", count: 200).joined(separator: ",") + "]"
        let error = try #require(refusal("P(x, \(list))"))
        #expect(error.kind == .argumentTooLong)
        #expect(error.column == 6)
    }
}

/// The default limits with a different argument count.
func limited(maxArgs: Int) -> FactLimits {
    var limits = FactLimits.default
    limits.maxArgs = maxArgs
    return limits
}
