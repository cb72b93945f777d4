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

    @Test func theValidatorRefusesANULOnlyWhenAskedToAndNamesTheField() {
        var fields = RecordFields()
        fields.statement = "A(1)."
        fields.source = "x\u{0}y"
        guard case .fact = FactValidator().validate(fields) else {
            Issue.record("SQLite stores a NUL")
            return
        }
        guard case .rejected(let reason, let message) = FactValidator(refusesNUL: true).validate(fields) else {
            Issue.record("PostgreSQL cannot")
            return
        }
        #expect(reason == .controlCharacter)
        #expect(message == #"source: a NUL character (\u0000) cannot be stored in PostgreSQL"#)
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
