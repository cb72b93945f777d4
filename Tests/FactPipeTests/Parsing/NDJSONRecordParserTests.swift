import Foundation
import Testing

@testable import FactPipe

/// Parses one NDJSON line with `NDJSONRecordParser`.
func parseNDJSON(_ line: String, mapping: [String: String] = [:]) -> Result<RecordFields, FieldError> {
    let bytes = Array(line.utf8)
    return bytes.withUnsafeBufferPointer { buffer in
        do throws(FieldError) {
            return .success(try NDJSONRecordParser.parse(buffer, mapping: mapping))
        } catch {
            return .failure(error)
        }
    }
}

/// The fields of a line that must parse.
private func fields(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RecordFields {
    switch parseNDJSON(line) {
    case .success(let fields): return fields
    case .failure(let error):
        Issue.record("\(line) failed: \(error.reason): \(error.message)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The refusal of a line that must not parse.
private func refusal(_ line: String) -> FieldError? {
    if case .failure(let error) = parseNDJSON(line) { return error }
    return nil
}

/// Extra members as `key=json` strings, in order.
private func pairs(_ members: [(key: String, json: String)]) -> [String] {
    members.map { "\($0.key)=\($0.json)" }
}

@Suite struct NDJSONRecordParserTests {
    /// `Confidence`, `Source` or `confidence ` (a spreadsheet's headers turned into JSON) went to fact_metadata: the
    /// fact loaded at confidence 1.0 without a source, exit 0, while the same CSV loaded them. Names match as
    /// CSV headers do; one given twice in two spellings is refused, whichever comes first.
    @Test func fieldNamesMatchAsCSVHeadersDo() throws {
        let parsed = try fields(#"{"Statement":"IsA(c, d)","Confidence":0.5," Source ":"wiki","Rowid":7}"#)
        #expect(parsed.statement == "IsA(c, d)" && parsed.confidence == 0.5 && parsed.source == "wiki")
        #expect(pairs(parsed.metadataExtras) == ["Rowid=7"])
        for line in [#"{"statement":"P(a)","confidence":0.5,"Confidence":0.25}"#,
                     #"{"statement":"P(a)","CONFIDENCE":0.25,"confidence":0.5}"#] {
            #expect(refusal(line)?.message.contains("appears twice") == true, "\(line)")
        }
        // A record's own names that are no such field, or are the objects and aliases, stay as written.
        let own = try fields(#"{"statement":"P(a)","Type":"claim","Content":"blah","Context":"office","userId":3}"#)
        #expect(pairs(own.metadataExtras) == [#"Type="claim""#, #"Content="blah""#, #"Context="office""#, "userId=3"])
    }

    @Test(arguments: ["statement", "s", "fact"])
    func readsTheStatementUnderEachOfItsNames(key: String) throws {
        let parsed = try fields(#"{"\#(key)":"HasPart(Computer, CPU)."}"#)
        #expect(parsed.statement == "HasPart(Computer, CPU).")
        #expect(parsed.metadataExtras.isEmpty)
    }

    @Test func contentOfATypeFactRecordIsTheStatementAndTypeIsDropped() throws {
        let parsed = try fields(#"{"content":"Uses(A, B).","type":"fact","confidence":0.5}"#)
        #expect(parsed.statement == "Uses(A, B).")
        #expect(parsed.confidence == 0.5)
        #expect(parsed.metadataExtras.isEmpty)
    }

    @Test func typeMayComeBeforeContent() throws {
        let parsed = try fields(#"{"type":"fact","content":"Uses(A, B)."}"#)
        #expect(parsed.statement == "Uses(A, B).")
        #expect(parsed.metadataExtras.isEmpty)
    }

    @Test func contentWithoutTypeFactGoesToMetadata() throws {
        let parsed = try fields(#"{"content":"Uses(A, B)."}"#)
        #expect(parsed.statement == nil)
        #expect(pairs(parsed.metadataExtras) == [#"content="Uses(A, B).""#])

        let note = try fields(#"{"type":"note","content":"Uses(A, B)."}"#)
        #expect(note.statement == nil)
        #expect(pairs(note.metadataExtras) == [#"type="note""#, #"content="Uses(A, B).""#])
    }

    @Test func contentBesideAStatementGoesToMetadataWithTheType() throws {
        let parsed = try fields(#"{"statement":"P(a).","type":"fact","content":"Q(b)."}"#)
        #expect(parsed.statement == "P(a).")
        #expect(pairs(parsed.metadataExtras) == [#"type="fact""#, #"content="Q(b).""#])
    }

    @Test func aSecondStatementFieldIsRefused() throws {
        let error = try #require(refusal(#"{"statement":"P(a).","s":"P(b)."}"#))
        #expect(error.reason == .invalidJSON)
        #expect(error.message == #"the statement is given twice, as "statement" and "s"; give it once"#)
        #expect(try fields(#"{"statement":null,"s":"P(b)."}"#).statement == "P(b).")
    }

    @Test func aRepeatedKeyIsRefusedWithTheKey() throws {
        let error = try #require(refusal(#"{"statement":"P(a).","confidence":0.5,"confidence":0.9}"#))
        #expect(error.reason == .invalidJSON)
        #expect(error.message == #"the key "confidence" appears twice; give it once"#)
        let mapped = Array(#"{"statement":"P(a).","text":"P(b)."}"#.utf8).withUnsafeBufferPointer { buffer -> FieldError? in
            do throws(FieldError) {
                _ = try NDJSONRecordParser.parse(buffer, mapping: ["text": "statement"])
                return nil
            } catch {
                return error
            }
        }
        let mappedError = try #require(mapped, "a key mapped onto another was accepted")
        #expect(mappedError.message == #"the key "statement" (from "text") appears twice; give it once"#)
        // A record of many keys is checked another way (a set, not a comparison with each key before).
        let many = (1...20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let manyError = try #require(refusal(#"{"statement":"P(a).",\#(many),"k7":0}"#))
        #expect(manyError.message == #"the key "k7" appears twice; give it once"#)
        #expect(try fields(#"{"statement":"P(a).",\#(many)}"#).statement == "P(a).")
        #expect(try #require(refusal(#"{"statement":"P(a).","k1":1,"k2":2,"k1":3}"#)).message
            == #"the key "k1" appears twice; give it once"#)
        // 16 keys are compared in place, 17 through the set: a repeat as the last key is caught either way.
        for count in [16, 17] {
            let keys = (1..<(count - 1)).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
            let edge = try #require(refusal(#"{"statement":"P(a).",\#(keys),"k1":0}"#), "\(count) keys")
            #expect(edge.message == #"the key "k1" appears twice; give it once"#)
        }
    }

    @Test func predicateWithArgsTakesStringsAndNumbers() throws {
        let parsed = try fields(#"{"predicate":"Einwohner","args":["Berlin",3669491]}"#)
        #expect(parsed.statement == nil)
        #expect(parsed.predicate == "Einwohner")
        #expect(parsed.args == ["Berlin", "3669491"])
    }

    @Test func predicateWithSubjectAndObject() throws {
        let parsed = try fields(#"{"predicate":"HasPart","subject":"Computer","object":"CPU"}"#)
        #expect(parsed.predicate == "HasPart")
        #expect(parsed.subject == "Computer")
        #expect(parsed.object == "CPU")
        #expect(parsed.args == nil)
    }

    @Test func emptyAndNullPartsAreAbsent() throws {
        let parsed = try fields(#"{"statement":"P(a).","predicate":"","subject":null,"object":"","args":null}"#)
        #expect(parsed.predicate == nil)
        #expect(parsed.subject == nil)
        #expect(parsed.object == nil)
        #expect(parsed.args == nil)
    }

    @Test func contextAsAnObjectIsKeptAsItsText() throws {
        let parsed = try fields(#"{"statement":"P(a).","context":{"source": "human_verified","n":[1, 2]}}"#)
        #expect(parsed.context == #"{"source": "human_verified","n":[1, 2]}"#)
    }

    @Test func contextAsAStringHoldingAnObjectIsUnwrapped() throws {
        // How the sqlite3 CLI dumps the knowledge base's context column.
        let parsed = try fields(#"{"statement":"P(a).","context":" {\"source\": \"human_verified\"} "}"#)
        #expect(parsed.context == #"{"source": "human_verified"}"#)
    }

    @Test func emptyOrNullContextIsAbsent() throws {
        #expect(try fields(#"{"statement":"P(a).","context":""}"#).context == nil)
        #expect(try fields(#"{"statement":"P(a).","context":null}"#).context == nil)
    }

    @Test(arguments: [
        #"{"statement":"P(a).","context":"human_verified"}"#,
        #"{"statement":"P(a).","context":"[1,2]"}"#,
        #"{"statement":"P(a).","context":"{\"a\":1"}"#,
        #"{"statement":"P(a).","context":"{\"a\":1} x"}"#,
        #"{"statement":"P(a).","context":5}"#,
        #"{"statement":"P(a).","context":["a"]}"#,
        #"{"statement":"P(a).","context":true}"#,
    ])
    func contextThatIsNotAnObjectIsRefused(line: String) throws {
        let error = try #require(refusal(line))
        #expect(error.reason == .invalidContext)
        #expect(error.message.contains("context"))
    }

    @Test(arguments: ["fact_metadata", "metadata"])
    func metadataUnderEitherNameAsObjectOrString(key: String) throws {
        #expect(try fields(#"{"statement":"P(a).","\#(key)":{"k":1}}"#).metadata == #"{"k":1}"#)
        #expect(try fields(#"{"statement":"P(a).","\#(key)":"{\"k\":2}"}"#).metadata == #"{"k":2}"#)
        let error = try #require(refusal(#"{"statement":"P(a).","\#(key)":"plain"}"#))
        #expect(error.reason == .invalidMetadata)
        #expect(refusal(#"{"statement":"P(a).","\#(key)":[1]}"#)?.reason == .invalidMetadata)
    }

    @Test func tagsAndCertaintyGoToTheContext() throws {
        let parsed = try fields(#"{"statement":"P(a).","tags":["kb", "x"],"certainty":0.8}"#)
        #expect(pairs(parsed.contextExtras) == [#"tags=["kb", "x"]"#, "certainty=0.8"])
        #expect(parsed.metadataExtras.isEmpty)
    }

    /// What `cat a.ndjson b.ndjson` gives when b begins with a byte order mark: a line that starts with one.
    @Test func aByteOrderMarkThatStartsALineIsSkipped() throws {
        let parsed = try fields("\u{FEFF}" + #"{"statement":"P(a).","source":"b"}"#)
        #expect(parsed.statement == "P(a)." && parsed.source == "b")
        #expect(refusal(#"{"statement":"P(a)."}"# + "\u{FEFF}") != nil, "elsewhere it is not JSON")
    }

    /// A field the pipeline's [mapping] names `arg3` is the third argument, as a CSV column so named is.
    @Test func aFieldMappedToAnArgumentByPositionIsThatArgument() throws {
        let line = #"{"predicate":"Between","subject":"a","object":"b","third":"c","note":"x"}"#
        let mapped = try parseNDJSON(line, mapping: ["third": "arg3"]).get()
        #expect(mapped.extraArgs == ["c"])
        #expect(mapped.metadataExtras.map(\.key) == ["note"])
        let first = try parseNDJSON(#"{"predicate":"P","one":"a"}"#, mapping: ["one": "arg1"]).get()
        #expect(first.subject == "a")
    }

    /// A record built from its parts: its own `arg3`… fields are arguments by position, as CSV columns so
    /// named are. They were kept as metadata, and `Q(a, b, c)` was loaded as `Q(a, b).`, which looked whole.
    /// Beside a statement (the knowledge base's exports carry `arg1`…`arg5` beside it) they stay metadata.
    @Test func aRecordsOwnArgumentFieldsAreItsPartsWhenItGivesNoStatement() throws {
        let parts = try fields(#"{"predicate":"Q","subject":"a","object":"b","ARG4":"d","arg3":"c","note":1}"#)
        #expect((parts.subject, parts.object, parts.extraArgs) == ("a", "b", ["c", "d"]))
        #expect(parts.metadataExtras.map(\.key) == ["note"])
        let numbered = try fields(#"{"predicate":"R","arg1":"a","arg2":"b","arg3":null,"arg5":""}"#)
        #expect((numbered.subject, numbered.object, numbered.extraArgs) == ("a", "b", []))
        #expect(numbered.metadataExtras.isEmpty)
        let dump = try fields(#"{"statement":"Causes(a, b)","arg1":"a","arg2":"b","arg3":null}"#)
        #expect(dump.subject == nil && dump.extraArgs.isEmpty)
        #expect(dump.metadataExtras.map(\.key) == ["arg1", "arg2"])
        let listed = try fields(#"{"predicate":"S","args":["a","b"],"arg3":"c"}"#)
        #expect(listed.extraArgs.isEmpty && listed.metadataExtras.map(\.key) == ["arg3"])
        #expect(refusal(#"{"predicate":"Q","subject":"a","arg1":"b"}"#)?.message.contains("argument 1 is given twice") == true)
        #expect(refusal(#"{"predicate":"Q","subject":"a","arg2":[3]}"#)?.message.contains("must be a string") == true)
        // As subject and object are read: a number as its text; the same part given twice alike is the part.
        let numbers = try fields(#"{"predicate":"P","subject":"a","object":1,"arg3":2.5,"arg1":"a"}"#)
        #expect((numbers.subject, numbers.object, numbers.extraArgs) == ("a", "1", ["2.5"]))
        #expect(refusal(#"{"predicate":"Q","subject":"a","arg65":"z"}"#)?.message.contains("past the last one") == true)
    }

    @Test func confidenceAsNumberStringOrNull() throws {
        let number = try fields(#"{"statement":"P(a).","confidence":0.75}"#)
        #expect(number.confidence == 0.75)
        #expect(number.confidenceText == nil)
        let text = try fields(#"{"statement":"P(a).","confidence":"0.5"}"#)
        #expect(text.confidence == nil)
        #expect(text.confidenceText == "0.5")
        let null = try fields(#"{"statement":"P(a).","confidence":null}"#)
        #expect(null.confidence == nil)
        #expect(null.confidenceText == nil)
        // An empty string gives nothing, as an empty CSV cell does: it was refused as "not a number".
        let empty = try fields(#"{"statement":"P(a).","confidence":""}"#)
        #expect(empty.confidence == nil && empty.confidenceText == nil)
        #expect(try fields(#"{"statement":"P(a).","confidence":" "}"#).confidenceText == " ", "a space is given")
    }

    @Test(arguments: [#"true"#, #"[0.5]"#, #"{"v":0.5}"#])
    func confidenceOfAnotherTypeIsRefused(value: String) throws {
        let error = try #require(refusal(#"{"statement":"P(a).","confidence":\#(value)}"#))
        #expect(error.reason == .invalidConfidence)
    }

    @Test func timestampAsEpochNumberOrText() throws {
        let number = try fields(#"{"statement":"P(a).","timestamp":1700000000.5}"#)
        #expect(number.timestampText == "1700000000.5" && number.timestampIsNumber)
        let text = try fields(#"{"statement":"P(a).","timestamp":"1700000000"}"#)
        #expect(text.timestampText == "1700000000" && !text.timestampIsNumber)
        #expect(refusal(#"{"statement":"P(a).","timestamp":{"s":1}}"#)?.reason == .invalidCreatedAt)
    }

    @Test func createdAtMustBeAString() throws {
        #expect(try fields(#"{"statement":"P(a).","created_at":"2024-01-01"}"#).createdAt == "2024-01-01")
        #expect(try fields(#"{"statement":"P(a).","created_at":""}"#).createdAt == nil)
        #expect(refusal(#"{"statement":"P(a).","created_at":20240101}"#)?.reason == .invalidCreatedAt)
    }

    @Test func sourceTakesStringsAndNumbers() throws {
        #expect(try fields(#"{"statement":"P(a).","source":"system"}"#).source == "system")
        #expect(try fields(#"{"statement":"P(a).","source":7}"#).source == "7")
        #expect(refusal(#"{"statement":"P(a).","source":{"a":1}}"#)?.reason == .invalidField)
    }

    @Test func unknownFieldsGoToMetadataAsTheirExactJSON() throws {
        let parsed = try fields(
            #"{"statement":"P(a).","rowid":12,"statement_hash":null,"nested":{"a":[1, "b"]},"note":"x\ty","ok":false}"#)
        #expect(pairs(parsed.metadataExtras) == ["rowid=12", #"nested={"a":[1, "b"]}"#, #"note="x\ty""#, "ok=false"])
    }

    /// A field `null` or `""` gives nothing, as an empty CSV cell does: kept as a member of context or
    /// metadata, it deleted (null) or replaced ("") the stored member under `update`. Inside an object given
    /// whole, `null` stays: there it asks merge patch to delete the member.
    @Test func aNullOrEmptyFieldGivesNothing() throws {
        let parsed = try fields(
            #"{"statement":"P(a).","tags":null,"certainty":"","note":null,"empty":"","zero":0,"context":{"k":null},"type":null,"content":""}"#)
        #expect(pairs(parsed.contextExtras) == [])
        #expect(pairs(parsed.metadataExtras) == ["zero=0"])
        #expect(parsed.context == #"{"k":null}"#)
    }

    @Test func statementOfTheWrongTypeIsRefusedAndNullIsAbsent() throws {
        let error = try #require(refusal(#"{"statement":42}"#))
        #expect(error.reason == .invalidField)
        #expect(error.message.contains("statement must be a string"))
        #expect(try fields(#"{"statement":null}"#).statement == nil)
    }

    @Test(arguments: [
        #"{"predicate":{"a":1}}"#,
        #"{"predicate":"P","subject":["a"]}"#,
        #"{"predicate":"P","object":{"o":1}}"#,
        #"{"predicate":"P","args":"a, b"}"#,
        #"{"predicate":"P","args":[["a"]]}"#,
        #"{"predicate":"P","args":[{"a":1}]}"#,
        #"{"predicate":"P","args":[true]}"#,
    ])
    func partsOfTheWrongTypeAreRefused(line: String) throws {
        let error = try #require(refusal(line))
        #expect(error.reason == .invalidField, "\(line): \(error.message)")
    }

    @Test(arguments: [
        (#"{"statement":"P(a)."} trailing"#, 23),
        (#"{"statement":"P(a).",}"#, 22),
        ("[\"P(a).\"]", 1),
        ("P(a).", 1),
        ("", 1),
    ])
    func invalidJSONIsRefusedWithTheBytePosition(line: String, position: Int) throws {
        let error = try #require(refusal(line))
        #expect(error.reason == .invalidJSON)
        #expect(error.message.hasPrefix("invalid JSON at byte \(position):"), "\(error.message)")
    }
}
