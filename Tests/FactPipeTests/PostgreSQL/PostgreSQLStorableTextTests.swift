import Testing

@testable import FactPipe

/// Which values PostgreSQL cannot store (a NUL character), and how libpq's messages become one line.
@Suite struct PostgreSQLStorableTextTests {
    private func holdsNUL(_ text: String, json: Bool) -> Bool {
        PostgreSQLStorableText.holdsNUL(ArraySlice(Array(text.utf8)), isJSON: json)
    }

    @Test func aNULByteOrTheJSONEscapeIsFoundAndAnEscapedBackslashIsNot() {
        #expect(holdsNUL("a\u{0}b", json: false))
        #expect(holdsNUL("a\u{0}b", json: true))
        #expect(holdsNUL(#"{"k": "a\u0000"}"#, json: true))
        #expect(holdsNUL(#"{"\u0000": 1}"#, json: true))
        #expect(!holdsNUL(#"{"k": "\\u0000"}"#, json: true), "an escaped backslash, then the text u0000")
        #expect(holdsNUL(#"{"k": "\\\u0000"}"#, json: true), "an escaped backslash, then a NUL")
        #expect(!holdsNUL(#"{"k": "\u0001"}"#, json: true), "another control character is stored")
        #expect(!holdsNUL(#"not \u0000 in text"#, json: false), "in a text column it is six characters")
        #expect(!holdsNUL(#"{"k": "\u000"}"#, json: true), "cut short")
        #expect(!holdsNUL("", json: true))
    }

    /// How long PostgreSQL 15 writes numbers out (`length(('…')::jsonb::text)`, measured): the growth over the
    /// text as given, which refuses a record whose numbers would make its export longer than the limit.
    @Test(arguments: [
        ("1e3", 4), ("1e-3", 5), ("-0", 1), ("-0.0", 3), ("0.0e5", 1), ("1.50", 4), ("1E2", 3), ("-1.5e-3", 7),
        ("0.001e3", 1), ("123.456e1", 7), ("100e-1", 4), ("0e-5", 7), ("-7", 2), ("1e131071", 131_072),
        ("0.01e131073", 131_072), ("1e-16383", 16_385), ("5e-324", 326),
    ] as [(String, Int)])
    func numbersGrowAsPostgreSQLWritesThemOut(number: String, written: Int) {
        let text = #"{"k": "1e999", "n": ["# + number + "]}"
        let numbers = PostgreSQLStorableText.numbers(in: ArraySlice(Array(text.utf8)))
        #expect(!numbers.unstorable)
        #expect(numbers.growth == written - number.utf8.count, "\(number)")
    }

    /// The limits PostgreSQL 15 showed: 131,072 digits before the point, a scale of 16,383 after it.
    @Test func aJSONNumberPastNumericsRangeIsFoundOutsideStringsOnly() {
        func unstorable(_ text: String) -> Bool {
            PostgreSQLStorableText.numbers(in: ArraySlice(Array(text.utf8))).unstorable
        }
        #expect(!unstorable(#"{"n": 1e131071}"#))
        #expect(unstorable(#"{"n": 1e131072}"#))
        #expect(unstorable(#"{"n": 10e131071}"#))
        #expect(!unstorable(#"{"n": 0.01e131073}"#), "the first significant digit decides")
        #expect(unstorable(#"{"n": 1"# + String(repeating: "0", count: 131_072) + "}"))
        #expect(!unstorable(#"{"n": 0."# + String(repeating: "1", count: 16_383) + "}"))
        #expect(unstorable(#"{"n": 0."# + String(repeating: "1", count: 16_384) + "}"))
        #expect(!unstorable(#"{"n": 1e-16383}"#))
        #expect(unstorable(#"{"n": 1.5e-16383}"#))
        #expect(unstorable(#"{"n": 0.000e-99999}"#), "a zero's scale counts too")
        #expect(!unstorable(#"{"n": 0e5000}"#))
        #expect(!unstorable(#"{"n": 0e1073741822}"#))
        #expect(unstorable(#"{"n": 0e1073741823}"#), "an exponent numeric refuses whatever the digits")
        #expect(unstorable(#"{"n": -0.0E9999999999}"#))
        #expect(unstorable(#"{"n": [1, {"m": -1E+999999999999999999999}]}"#), "the exponent saturates")
        #expect(!unstorable(#"{"n": "1e999999", "m": "a\"1e999999"}"#), "text in strings is not a number")
        #expect(!unstorable(#"{"n": -12.5e-3, "t": true, "f": null}"#))
        #expect(!unstorable(""))
    }

    @Test func theValidatorRefusesANULOnlyWhenAskedToAndNamesTheField() {
        var fields = RecordFields()
        fields.statement = "A(1)."
        fields.source = "x\u{0}y"
        guard case .fact = FactValidator().validate(fields) else {
            Issue.record("SQLite stores a NUL")
            return
        }
        guard case .rejected(let reason, let message) = FactValidator(forPostgreSQL: true).validate(fields) else {
            Issue.record("PostgreSQL cannot")
            return
        }
        #expect(reason == .controlCharacter)
        #expect(message == #"source: a NUL character (\u0000) cannot be stored in PostgreSQL"#)
    }

    /// PostgreSQL rounds a time to microseconds: from 9999-12-31T23:59:59.9999995Z on it was stored as
    /// 10000-01-01, and every export of the database failed on it.
    @Test func aTimeThatRoundsPastYear9999IsRefusedForPostgreSQLOnly() {
        func verdict(_ time: String, postgreSQL: Bool = true) -> RecordDiagnostic.Reason? {
            var fields = RecordFields()
            fields.statement = "A(1)."
            fields.createdAt = time
            guard case .rejected(let reason, _) = FactValidator(forPostgreSQL: postgreSQL).validate(fields) else { return nil }
            return reason
        }
        #expect(verdict("9999-12-31T23:59:59.9999995Z") == .invalidCreatedAt)
        #expect(verdict("9999-12-31T23:59:59.99999999Z") == .invalidCreatedAt)
        #expect(verdict("9999-12-31T23:59:59.9999995+00:00") == .invalidCreatedAt)
        #expect(verdict("9999-12-31T23:59:59.9999994Z") == nil)
        #expect(verdict("9999-12-31T23:59:59.999999Z") == nil)
        #expect(verdict("9998-12-31T23:59:59.9999999Z") == nil)
        #expect(verdict("9999-12-31T23:59:59.9999999Z", postgreSQL: false) == nil)
    }

    @Test func libpqMessagesBecomeOneLine() {
        #expect(PostgreSQLError.oneLine("""
            server closed the connection unexpectedly
            \tThis probably means the server terminated abnormally
            \tbefore or while processing the request.

            """) == "server closed the connection unexpectedly; This probably means the server terminated "
                + "abnormally before or while processing the request.")
        #expect(PostgreSQLError.oneLine("FATAL:  database \"kb\" does not exist\n")
                == "database \"kb\" does not exist")
    }
}
