import Testing

@testable import FactPipe

/// The TOML subset pipeline files are written in: what it reads, and what it refuses with the line.
@Suite struct TOMLDocumentTests {
    private func entries(_ document: TOMLDocument, _ table: String) -> [(key: String, value: TOMLValue)] {
        document.tables.first { $0.name == table }?.entries ?? []
    }

    private func value(_ document: TOMLDocument, _ table: String, _ key: String) -> TOMLValue? {
        entries(document, table).first { $0.key == key }?.value
    }

    private func error(_ text: String) -> TOMLError? {
        do {
            _ = try TOMLDocument(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTablesKeysAndEveryValueTypeWithTheirLines() throws {
        let document = try TOMLDocument(parsing: """
            name = "nightly"
            count = 1_000
            ratio = 0.25
            negative = -3
            big = 1e3
            on = true
            off = false

            [load]
            batch_size = 50000
            """)
        #expect(document.tables.map(\.name) == ["", "load"])
        #expect(document.tables.map(\.line) == [0, 9])
        #expect(value(document, "", "name") == TOMLValue(kind: .string("nightly"), line: 1))
        #expect(value(document, "", "count") == TOMLValue(kind: .integer(1000), line: 2))
        #expect(value(document, "", "ratio") == TOMLValue(kind: .float(0.25), line: 3))
        #expect(value(document, "", "negative") == TOMLValue(kind: .integer(-3), line: 4))
        #expect(value(document, "", "big") == TOMLValue(kind: .float(1000), line: 5))
        #expect(value(document, "", "on") == TOMLValue(kind: .bool(true), line: 6))
        #expect(value(document, "", "off") == TOMLValue(kind: .bool(false), line: 7))
        #expect(value(document, "load", "batch_size") == TOMLValue(kind: .integer(50000), line: 10))
        // Keys stay in file order.
        #expect(entries(document, "").map(\.key) == ["name", "count", "ratio", "negative", "big", "on", "off"])
    }

    /// Numbers TOML does not take were read: `_1`, `1_` and `01` as 1, `1__0` as 10 (a `max_errors = _1`
    /// let a load go on past its first error); a raw NUL inside a string came out in `--json`.
    @Test func numbersAndStringsTOMLRefusesAreRefusedWithTheirLine() throws {
        for word in ["_1", "1_", "1__0", "01", "-007", "1_e5"] {
            let refused = error("name = \"p\"\nbatch_size = \(word)\n")
            #expect(refused?.line == 2, "\(word)")
            #expect(refused?.message.hasPrefix("\(word) is not a TOML value") == true, "\(word): \(String(describing: refused))")
        }
        for (word, number) in [("1_000", 1_000), ("0", 0), ("-0", 0), ("+5", 5), ("1_2_3", 123)] {
            let document = try TOMLDocument(parsing: "n = \(word)\n")
            #expect(value(document, "", "n")?.kind == .integer(number), "\(word)")
        }
        #expect(value(try TOMLDocument(parsing: "f = 0.5\n"), "", "f")?.kind == .float(0.5))
        let control = error("name = \"p\\u{0}x\"\n".replacingOccurrences(of: "\\u{0}", with: "\u{0}"))
        #expect(control?.line == 1 && control?.message.contains("control character (byte 0x0)") == true,
                "\(String(describing: control))")
        #expect(value(try TOMLDocument(parsing: "name = \"a\tb\"\n"), "", "name")?.kind == .string("a\tb"))
    }

    @Test func arraysMaySpanLinesWithCommentsAndATrailingComma() throws {
        let document = try TOMLDocument(parsing: """
            [sources]
            paths = [
                "a/*.ndjson",   # the first pattern ] with a bracket in the comment
                # a whole-line comment
                'b/*.csv',
            ]
            after = 1
            """)
        let paths = try #require(value(document, "sources", "paths"))
        #expect(paths.line == 2)
        guard case .array(let items) = paths.kind else {
            Issue.record("paths is \(paths.typeName)")
            return
        }
        #expect(items == [TOMLValue(kind: .string("a/*.ndjson"), line: 3), TOMLValue(kind: .string("b/*.csv"), line: 5)])
        // The line count goes on correctly after a multi-line array.
        #expect(value(document, "sources", "after") == TOMLValue(kind: .integer(1), line: 7))
    }

    @Test func nestedAndEmptyArrays() throws {
        let document = try TOMLDocument(parsing: "a = []\nb = [[1, 2], [\"x\"]]\n")
        #expect(value(document, "", "a")?.kind == .array([]))
        #expect(value(document, "", "b")?.kind == .array([
            TOMLValue(kind: .array([TOMLValue(kind: .integer(1), line: 2), TOMLValue(kind: .integer(2), line: 2)]), line: 2),
            TOMLValue(kind: .array([TOMLValue(kind: .string("x"), line: 2)]), line: 2),
        ]))
    }

    /// Each nesting level is a call: a file of 200,000 `[` overflowed the stack. Past 32 levels it is
    /// refused with its line; 32 still read.
    @Test func arraysNestedTooDeeplyAreRefusedWithTheLine() throws {
        let deep = "\n\nname = " + String(repeating: "[", count: 200_000)
        #expect(throws: TOMLError.self) { try TOMLDocument(parsing: deep) }
        do {
            _ = try TOMLDocument(parsing: deep)
        } catch {
            #expect(error.line == 3 && error.message.contains("nested more than 32 deep"), "\(error)")
        }
        let allowed = "x = " + String(repeating: "[", count: 32) + "1" + String(repeating: "]", count: 32) + "\n"
        #expect(throws: Never.self) { try TOMLDocument(parsing: allowed) }
    }

    @Test func commentsAreIgnoredEverywhereButInsideStrings() throws {
        let document = try TOMLDocument(parsing: """
            # leading comment
            name = "a # not a comment" # trailing comment
            [load]   # after a table header
            batch_size = 10# right after a value
               # indented comment
            """)
        #expect(value(document, "", "name")?.kind == .string("a # not a comment"))
        #expect(value(document, "load", "batch_size")?.kind == .integer(10))
        #expect(entries(document, "load").count == 1)
    }

    @Test func quotedKeysAndQuotedTableNames() throws {
        let document = try TOMLDocument(parsing: """
            [mapping]
            "Fact Text" = "statement"
            'raw key' = "subject"
            bare-key_1 = "object"
            ["quoted table"]
            x = 1
            """)
        #expect(entries(document, "mapping").map(\.key) == ["Fact Text", "raw key", "bare-key_1"])
        #expect(value(document, "quoted table", "x")?.kind == .integer(1))
    }

    @Test func basicStringsDecodeEscapesAndLiteralStringsDoNot() throws {
        let document = try TOMLDocument(parsing: #"""
            basic = "tab\there \"quoted\" back\\slash\nnew line\r"
            literal = 'C:\path\no\escapes "kept"'
            unicode = "LäuftAuf CO₂"
            """#)
        #expect(value(document, "", "basic")?.kind == .string("tab\there \"quoted\" back\\slash\nnew line\r"))
        #expect(value(document, "", "literal")?.kind == .string(#"C:\path\no\escapes "kept""#))
        #expect(value(document, "", "unicode")?.kind == .string("LäuftAuf CO₂"))
    }

    @Test func crlfLineEndsAreAccepted() throws {
        let document = try TOMLDocument(parsing: "name = \"a\"\r\n[load]\r\nbatch_size = 5\r\n")
        #expect(value(document, "", "name")?.kind == .string("a"))
        #expect(value(document, "load", "batch_size") == TOMLValue(kind: .integer(5), line: 3))
    }

    @Test func aKeyGivenTwiceIsRefusedWithTheLineOfTheSecond() {
        #expect(error("name = \"a\"\nother = 1\nname = \"b\"\n") == TOMLError(line: 3, message: "name is given twice"))
        // A quoted spelling of the same key is the same key.
        #expect(error("name = \"a\"\n\"name\" = \"b\"\n") == TOMLError(line: 2, message: "name is given twice"))
    }

    /// An integer too large for 64 bits was read as a float, and `batch_size` then said "must be an integer,
    /// not a float".
    @Test func anIntegerOutOfRangeIsRefusedAsSuch() throws {
        #expect(error("[load]\nbatch_size = 99999999999999999999\n")
            == TOMLError(line: 2, message: "99999999999999999999 is out of the range of a 64-bit integer"))
        #expect(error("x = -9_223_372_036_854_775_809\n")
            == TOMLError(line: 1, message: "-9_223_372_036_854_775_809 is out of the range of a 64-bit integer"))
        let document = try TOMLDocument(parsing: "a = 9_223_372_036_854_775_807\nb = 1e20\nc = +5\n")
        #expect(value(document, "", "a")?.kind == .integer(Int.max))
        #expect(value(document, "", "b")?.kind == .float(1e20))
        #expect(value(document, "", "c")?.kind == .integer(5))
    }

    @Test func theSameKeyInTwoTablesIsFine() throws {
        let document = try TOMLDocument(parsing: "[a]\nx = 1\n[b]\nx = 2\n")
        #expect(value(document, "a", "x")?.kind == .integer(1))
        #expect(value(document, "b", "x")?.kind == .integer(2))
    }

    @Test func aTableDefinedTwiceIsRefused() {
        #expect(error("[load]\nbatch_size = 1\n\n[load]\natomic = true\n")
            == TOMLError(line: 4, message: "table [load] is defined twice"))
    }

    @Test func unsupportedSyntaxIsRefusedWithItsLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nname = \"never closed\n", 2, "string not closed on its line"),
            ("a = 1\n\nlimits = { max_args = 5 }\n", 3, "inline tables are not supported; use a [table]"),
            ("sources.paths = [\"x\"]\n", 1, "dotted keys are not supported"),
            ("a = 1\n[[sources]]\n", 2, "arrays of tables are not supported"),
            ("x = \"\"\"\nmulti\n\"\"\"\n", 1, "multi-line strings are not supported"),
            ("when = 2025-09-15\n", 1, "2025-09-15 is not a TOML value (strings need quotes; dates are not supported)"),
            ("name = nightly\n", 1, "nightly is not a TOML value (strings need quotes; dates are not supported)"),
            ("a = \"x\" \"y\"\n", 1, "unexpected text after the value"),
            ("a = \"bad \\q escape\"\n", 1, "unsupported escape \\q"),
            ("a =\n", 1, "expected a value"),
            ("a 1\n", 1, "expected '=' after a"),
            ("[load\nx = 1\n", 1, "expected ']' after the table name"),
            ("a = [1, 2\nb = 3\n", 2, "expected ',' or ']' in the array"),
            ("= 1\n", 1, "expected a key"),
        ]
        for (text, line, message) in cases {
            #expect(error(text) == TOMLError(line: line, message: message), "\(text.debugDescription)")
        }
    }

    @Test func theErrorDescriptionStartsWithTheLine() {
        #expect(TOMLError(line: 7, message: "dotted keys are not supported").description
            == "line 7: dotted keys are not supported")
    }

    @Test func anEmptyDocumentHasOnlyTheRootTable() throws {
        let document = try TOMLDocument(parsing: "\n# only a comment\n\n")
        #expect(document.tables.count == 1)
        #expect(document.tables[0].name == "")
        #expect(document.tables[0].entries.isEmpty)
    }
}
