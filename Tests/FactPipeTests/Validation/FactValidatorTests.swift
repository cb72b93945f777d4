import Foundation
import Testing

@testable import FactPipe

/// Parses an NDJSON line and validates it; a parse failure counts as a refusal.
private func validate(_ line: String, limits: FactLimits = .default, strictParts: Bool = false) -> FactValidator.Outcome {
    switch parseNDJSON(line) {
    case .success(let fields):
        return FactValidator(limits: limits, strictParts: strictParts).validate(fields)
    case .failure(let error):
        return .rejected(error.reason, error.message)
    }
}

private func validate(_ fields: RecordFields, limits: FactLimits = .default) -> FactValidator.Outcome {
    FactValidator(limits: limits).validate(fields)
}

/// The fact of an outcome that must be accepted.
private func accepted(
    _ outcome: FactValidator.Outcome, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (fact: Fact, warning: String?) {
    switch outcome {
    case .fact(let fact, let warning): return (fact, warning)
    case .rejected(let reason, let message):
        Issue.record("rejected: \(reason.rawValue): \(message)", sourceLocation: sourceLocation)
        throw ToolFailure(description: message)
    }
}

/// The refusal of an outcome that must be refused.
private func refused(
    _ outcome: FactValidator.Outcome, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (reason: RecordDiagnostic.Reason, message: String) {
    switch outcome {
    case .fact(let fact, _):
        Issue.record("accepted as \(fact.statement)", sourceLocation: sourceLocation)
        throw ToolFailure(description: fact.statement)
    case .rejected(let reason, let message): return (reason, message)
    }
}

/// A JSON object's text decoded, for comparing metadata and context regardless of member order.
private func object(_ text: String) throws -> NSDictionary {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
}

@Suite struct FactValidatorTests {
    // MARK: Statement

    @Test func storesTheCanonicalStatementAndItsParts() throws {
        let (fact, warning) = try accepted(validate(#"{"statement":"  HasPart ( Computer ,CPU(x,  y) , [a ,b] )  "}"#))
        #expect(warning == nil)
        #expect(fact.statement == "HasPart(Computer, CPU(x, y), [a, b]).")
        #expect(fact.predicate == "HasPart")
        #expect(fact.subject == "Computer")
        #expect(fact.object == "CPU(x, y)")
        #expect(fact[.args] == #"["Computer","CPU(x, y)","[a, b]"]"#)
        #expect(fact.arity == 3)
        #expect(fact.confidence == 1.0)
        #expect(fact.source == nil)
        #expect(fact.context == "{}")
        #expect(fact.metadata == "{}")
        #expect(fact.createdAt == nil)
    }

    @Test func aOneArgumentStatementHasNoObject() throws {
        let (fact, _) = try accepted(validate(#"{"statement":"LäuftAuf(Windows)"}"#))
        #expect(fact.statement == "LäuftAuf(Windows).")
        #expect(fact.subject == "Windows")
        #expect(fact.object == nil)
        #expect(fact.arity == 1)
    }

    @Test func assemblesTheStatementFromPredicateAndArgs() throws {
        let (fact, warning) = try accepted(validate(#"{"predicate":"Einwohner","args":["Berlin",3669491]}"#))
        #expect(warning == nil)
        #expect(fact.statement == "Einwohner(Berlin, 3669491).")
        #expect(fact.arity == 2)
    }

    @Test func assemblesTheStatementFromPredicateSubjectAndObject() throws {
        #expect(try accepted(validate(#"{"predicate":"HasPart","subject":"Computer","object":"CPU"}"#)).fact.statement
            == "HasPart(Computer, CPU).")
        #expect(try accepted(validate(#"{"predicate":"IsA","subject":"Socrates"}"#)).fact.statement == "IsA(Socrates).")
    }

    /// `args` make the statement; a `subject` or `object` beside them that disagrees is kept under
    /// `given_parts` with a warning, or refused with --strict-parts, as beside a statement (it was dropped
    /// without a word). One that agrees is no warning.
    @Test func argsWinOverSubjectAndObjectWhenBothAreGiven() throws {
        let (fact, warning) = try accepted(validate(#"{"predicate":"P","args":["a","b","c"],"subject":"x","object":"b"}"#))
        #expect(fact.statement == "P(a, b, c).")
        #expect(warning == "subject given beside args disagree with them; kept in fact_metadata.given_parts")
        #expect(fact.metadata == #"{"given_parts":{"subject":"x"}}"#)
        let refusal = try refused(validate(#"{"predicate":"P","args":["b"],"subject":"a","object":"z"}"#, strictParts: true))
        #expect(refusal.reason == .partsDisagree)
        #expect(refusal.message == "subject, object given beside args disagree with them")
        let (agreeing, none) = try accepted(validate(#"{"predicate":"P","args":["a","b"],"subject":"a","object":"b"}"#))
        #expect(agreeing.metadata == "{}" && none == nil)
        // A third argument by position beside args or a statement is compared as the subject and object are.
        var fields = RecordFields()
        fields.predicate = "P"
        fields.args = ["a", "b"]
        fields.extraArgs = ["z"]
        let third = try accepted(validate(fields))
        #expect(third.fact.statement == "P(a, b).")
        #expect(third.fact.metadata == #"{"given_parts":{"arg3":"z"}}"#)
    }

    @Test func assemblesNumberedArgumentsAndRefusesGaps() throws {
        var fields = RecordFields()
        fields.predicate = "Composition"
        fields.subject = "Symphony"
        fields.object = "Beethoven"
        fields.extraArgs = ["9th", "Ode"]
        #expect(try accepted(validate(fields)).fact.statement == "Composition(Symphony, Beethoven, 9th, Ode).")
        fields.extraArgs = [nil, "Ode"]
        let refusal = try refused(validate(fields))
        #expect(refusal.reason == .missingStatement)
        #expect(refusal.message.contains("without gaps"))
    }

    /// A subject or object left out (or empty) before a later part moved the later parts into its place:
    /// `IsA(b).` for subject "" and object b, `IsA(a, c).` for object "" and arg3 c. Trailing parts may be
    /// left out.
    @Test(arguments: [
        (nil, "b", [], "subject is missing while object is given"),
        ("", "b", [], "subject is missing while object is given"),
        ("a", nil, ["c"], "object is missing while arg3 is given"),
        ("a", "", ["c"], "object is missing while arg3 is given"),
        (nil, nil, [nil, "d"], "subject is missing while arg4 is given"),
    ] as [(String?, String?, [String?], String)])
    func aPartMissingBeforeALaterOneIsRefused(subject: String?, object: String?, extra: [String?], message: String) throws {
        var fields = RecordFields()
        fields.predicate = "IsA"
        fields.subject = subject
        fields.object = object
        fields.extraArgs = extra
        let refusal = try refused(validate(fields))
        #expect(refusal.reason == .missingStatement)
        #expect(refusal.message == message + ": arguments must be given without gaps")
    }

    @Test func trailingPartsMayBeLeftOut() throws {
        var fields = RecordFields()
        fields.predicate = "IsA"
        fields.subject = "a"
        fields.object = ""
        fields.extraArgs = [nil, ""]
        #expect(try accepted(validate(fields)).fact.statement == "IsA(a).")
    }

    @Test func anArgumentThatIsMoreThanOneTermIsRefused() throws {
        let refusal = try refused(validate(#"{"predicate":"P","args":["a, b"]}"#))
        #expect(refusal.reason == .syntax)
        #expect(refusal.message.contains("1 given, 2 found"))
    }

    @Test func aPredicateWithoutArgumentsIsRefused() throws {
        let refusal = try refused(validate(#"{"predicate":"P"}"#))
        #expect(refusal.reason == .missingStatement)
        #expect(refusal.message.contains("predicate P is given without arguments"))
    }

    @Test func aRecordWithNeitherStatementNorPredicateIsRefused() throws {
        let refusal = try refused(validate(#"{"subject":"a","object":"b","confidence":1}"#))
        #expect(refusal.reason == .missingStatement)
    }

    @Test(arguments: [
        "HAK_GAL_HEXAGONAL performance optimization completed",
        "LocatedIn(Corsica, France, Period(1769).",
        "all x (IstKomponente(x) -> IstTeilVomSystem(x)).",
        "P(a,,b).",
        "P().",
        "P(a) and more",
        "",
    ])
    func malformedStatementsAreSyntaxErrorsWithAColumn(statement: String) throws {
        let line = "{\"statement\":" + JSONText.quoted(statement) + "}"
        let refusal = try refused(validate(line))
        #expect(refusal.reason == .syntax)
        #expect(refusal.message.hasPrefix("statement: column "), "\(refusal.message)")
    }

    // MARK: Parts beside a statement

    @Test func partsThatAgreeWithTheStatementGiveNoWarning() throws {
        let (fact, warning) = try accepted(validate(
            #"{"statement":"HasPart(Computer, CPU).","predicate":"HasPart","subject":" Computer","object":"CPU"}"#))
        #expect(warning == nil)
        #expect(fact.metadata == "{}")
    }

    @Test func partsThatDisagreeAreKeptInGivenPartsWithAWarning() throws {
        let (fact, warning) = try accepted(validate(
            #"{"statement":"HasPurpose(DNA, Replication).","predicate":"HasPurpose","subject":"Dna","object":"Replication","rowid":554}"#
        ))
        #expect(fact.statement == "HasPurpose(DNA, Replication).")
        #expect(fact.subject == "DNA")
        #expect(try #require(warning).contains("subject given beside the statement disagree"))
        #expect(try object(fact.metadata) == ["rowid": 554, "given_parts": ["subject": "Dna"]])
    }

    @Test func anObjectBesideAOneArgumentStatementDisagrees() throws {
        let (fact, warning) = try accepted(validate(#"{"statement":"IsA(Socrates).","object":"Human"}"#))
        #expect(warning != nil)
        #expect(try object(fact.metadata) == ["given_parts": ["object": "Human"]])
    }

    @Test func argsBesideTheStatementThatDisagreeAreKept() throws {
        let (fact, warning) = try accepted(validate(#"{"statement":"P(a, b).","args":["a","c"],"predicate":"Q"}"#))
        #expect(try #require(warning).hasPrefix("predicate, args given"))
        #expect(try object(fact.metadata) == ["given_parts": ["predicate": "Q", "args": ["a", "c"]]])
    }

    @Test func strictPartsRefusesPartsThatDisagree() throws {
        let line = #"{"statement":"Causes(KrebsCycle, ATP).","subject":"KrebsCycle","object":"Atp"}"#
        let refusal = try refused(validate(line, strictParts: true))
        #expect(refusal.reason == .partsDisagree)
        #expect(refusal.message.contains("object"))
        #expect(try accepted(validate(#"{"statement":"Causes(KrebsCycle, ATP).","object":"ATP"}"#, strictParts: true))
            .warning == nil)
    }

    /// DESIGN 1.3: inputs that differ only in insignificant whitespace are the same fact, so a subject
    /// `d(e,f)` beside the statement `P(d(e, f), g).` agrees with it.
    @Test func partsThatDifferOnlyInInsignificantWhitespaceAgree() throws {
        let line = #"{"statement":"P(d(e, f), [g, h]).","subject":"d(e,f)","object":"[g,h]","args":["d(e,f)","[ g , h ]"]}"#
        let (fact, warning) = try accepted(validate(line))
        #expect(warning == nil, "spurious warning: \(warning ?? "")")
        #expect(fact.metadata == "{}")
        if case .rejected(let reason, let message) = validate(line, strictParts: true) {
            Issue.record("refused with --strict-parts: \(reason.rawValue): \(message)")
        }
    }

    // MARK: Confidence

    @Test(arguments: [(#"0"#, 0.0), (#"1"#, 1.0), (#"0.25"#, 0.25), (#""0.5""#, 0.5), (#"" 0.75 ""#, 0.75), ("null", 1.0)])
    func acceptsConfidenceFromZeroToOne(json: String, expected: Double) throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(fact.confidence == expected)
    }

    /// Negative zero is zero, whatever store it goes to (PostgreSQL kept -0 where SQLite stored 0.0).
    @Test(arguments: [#"-0.0"#, #"-0"#, #""-0.0""#, #"-0e5"#])
    func takesNegativeZeroConfidenceAsZero(json: String) throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(fact.confidence == 0 && fact.confidence.sign == .plus, "\(fact.confidence)")
    }

    @Test(arguments: [#"1.5"#, #"-0.01"#, #"1.0000001"#, #"1e400"#, #""2""#, #""nan""#, #""inf""#, #""-infinity""#])
    func refusesConfidenceOutsideZeroToOneOrNotFinite(json: String) throws {
        let refusal = try refused(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(refusal.reason == .invalidConfidence)
        // Numbers outside the range say so; words such as "nan" are refused as not a number.
        #expect(refusal.message.contains("outside 0…1") || refusal.message.contains("is not a number"))
    }

    /// `1e-400` reads as 0 and was stored as 0 without a word; a zero written any way, and the smallest
    /// doubles, are kept.
    @Test(arguments: [#"1e-400"#, #""1e-400""#, #"0.00001e-320"#, #""2.5E-999""#])
    func refusesConfidenceTooSmallForADouble(json: String) throws {
        let refusal = try refused(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(refusal.reason == .invalidConfidence)
        #expect(refusal.message.contains("is below the smallest number a double holds"), "\(refusal.message)")
    }

    @Test(arguments: [(#"0e-400"#, 0.0), (#""0.000e5""#, 0.0), (#"5e-324"#, 5e-324), (#"1e-300"#, 1e-300)])
    func keepsZeroAndTheSmallestDoubles(json: String, expected: Double) throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(fact.confidence == expected)
    }

    @Test(arguments: [#""high""#, #"" ""#, #""0.5x""#])
    func refusesConfidenceThatIsNotANumber(json: String) throws {
        let refusal = try refused(validate(#"{"statement":"P(a).","confidence":\#(json)}"#))
        #expect(refusal.reason == .invalidConfidence)
        #expect(refusal.message.contains("is not a number"))
    }

    // MARK: Creation time

    @Test(arguments: [
        ("2024-03-10T12:00:00+02:00", "2024-03-10T10:00:00Z"),
        ("2024-03-10T01:30:00+02:00", "2024-03-09T23:30:00Z"),
        ("2024-03-10", "2024-03-10T00:00:00Z"),
        ("2024-03-10 08:09:10.500Z", "2024-03-10T08:09:10.5Z"),
        ("2024-02-29T23:00:00-01:00", "2024-03-01T00:00:00Z"),
    ])
    func normalizesCreatedAtToUTC(input: String, expected: String) throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","created_at":"\#(input)"}"#))
        #expect(fact.createdAt == expected)
    }

    @Test(arguments: ["2024-02-30", "2023-02-29", "yesterday", "2024-03-10T25:00:00Z", "2024-03-10T10:00:00+0"])
    func refusesACreatedAtThatIsNotATime(input: String) throws {
        let refusal = try refused(validate(#"{"statement":"P(a).","created_at":"\#(input)"}"#))
        #expect(refusal.reason == .invalidCreatedAt)
        #expect(refusal.message.contains(input))
    }

    @Test func epochTimestampBecomesCreatedAt() throws {
        #expect(try accepted(validate(#"{"statement":"P(a).","timestamp":0}"#)).fact.createdAt == "1970-01-01T00:00:00Z")
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","timestamp":"1700000000.25"}"#))
        #expect(fact.createdAt == "2023-11-14T22:13:20.25Z")
        #expect(fact.metadata == "{}")
    }

    /// Read as a decimal, to the nanosecond: through a double, `253402300799.9999` came out as `…59.999908Z`,
    /// nine digits of a fraction were rounded to six, and `…799.999998` was refused as no time at all.
    @Test(arguments: [
        (#"253402300799.9999"#, "9999-12-31T23:59:59.9999Z"), (#""253402300799.999998""#, "9999-12-31T23:59:59.999998Z"),
        (#""1733570000.123456789""#, "2024-12-07T11:13:20.123456789Z"), (#"1733570000.1234567891"#, "2024-12-07T11:13:20.123456789Z"),
        (#"-1.5"#, "1969-12-31T23:59:58.5Z"), (#"1.7335e9"#, "2024-12-06T15:46:40Z"), (#""17335E5""#, "2024-12-06T15:46:40Z"),
        (#"-62135596800"#, "0001-01-01T00:00:00Z"), (#"0e999999"#, "1970-01-01T00:00:00Z"), (#"" 12.5 ""#, "1970-01-01T00:00:12.5Z"),
    ] as [(String, String)])
    func readsEpochSecondsAsWritten(json: String, createdAt: String) throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","timestamp":\#(json)}"#))
        #expect(fact.createdAt == createdAt)
    }

    @Test(arguments: [#""soon""#, "1e300", #""1e300""#, "253402300800", #""1.2.3""#, #""0x10""#, #""-""#, #""1e""#])
    func refusesATimestampThatIsNotEpochSeconds(json: String) throws {
        let refusal = try refused(validate(#"{"statement":"P(a).","timestamp":\#(json)}"#))
        #expect(refusal.reason == .invalidCreatedAt)
    }

    /// Epoch milliseconds (a common mistake) are out of range; the refusal must say which value was refused.
    @Test func aTimestampRefusalNamesTheValue() throws {
        let text = try refused(validate(#"{"statement":"P(a).","timestamp":"1700000000000"}"#))
        #expect(text.message.contains("1700000000000"))
        let number = try refused(validate(#"{"statement":"P(a).","timestamp":1700000000000}"#))
        #expect(number.reason == .invalidCreatedAt)
        #expect(number.message.contains("1700000000000"), "message: \(number.message)")
    }

    @Test func createdAtWinsOverTimestampWhichIsKeptInMetadata() throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","created_at":"2024-01-01","timestamp":"1700000000"}"#))
        #expect(fact.createdAt == "2024-01-01T00:00:00Z")
        #expect(try object(fact.metadata) == ["timestamp": "1700000000"])
    }

    /// fact_metadata keeps every other input field verbatim and must stay valid JSON (the `update`
    /// policy runs `json_patch` on it): a numeric `timestamp` beside `created_at` keeps its own text.
    @Test func timestampBesideCreatedAtIsKeptVerbatimInMetadata() throws {
        let (plain, _) = try accepted(validate(#"{"statement":"P(a).","created_at":"2024-01-01","timestamp":1700000000}"#))
        #expect(plain.metadata == #"{"timestamp":1700000000}"#)
        let (huge, _) = try accepted(validate(#"{"statement":"P(b).","created_at":"2024-01-01","timestamp":1e400}"#))
        #expect(huge.metadata == #"{"timestamp":1e400}"#)
        #expect((try? JSONText.members(ofObject: huge.metadata)) != nil, "fact_metadata is not valid JSON: \(huge.metadata)")
    }

    // MARK: Context and metadata

    @Test func tagsAndCertaintyAreMergedIntoTheContext() throws {
        let (fact, _) = try accepted(validate(
            #"{"statement":"P(a).","context":"{\"source\":\"kb\"}","tags":["new"],"certainty":0.9}"#))
        #expect(try object(fact.context) == ["source": "kb", "tags": ["new"], "certainty": 0.9])
    }

    /// Merging would drop one of the two values.
    @Test func tagsBesideAContextThatHasTagsAreRefused() {
        let outcome = validate(#"{"statement":"P(a).","context":"{\"tags\":[\"old\"]}","tags":["new"]}"#)
        guard case .rejected(let reason, let message) = outcome else {
            Issue.record("accepted: \(outcome)")
            return
        }
        #expect(reason == .invalidContext)
        #expect(message.contains("tags is given twice"))
    }

    @Test func contextWithoutExtrasIsStoredAsGiven() throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","context":"{\"source\": \"human_verified\"}"}"#))
        #expect(fact.context == #"{"source": "human_verified"}"#)
    }

    /// A context given as a string is refused with the reason an object in the record would get: nested 65
    /// levels deep, it was said to hold no JSON object at all.
    @Test func aContextStringIsRefusedWithItsReason() throws {
        let deep = String(repeating: #"{\"k\":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        let refusal = try refused(validate(#"{"statement":"P(a).","context":""# + deep + #""}"#))
        #expect(refusal.reason == .invalidContext)
        #expect(refusal.message == "context is a string that does not hold one JSON object: JSON nested deeper than 64 "
            + "levels", "\(refusal.message)")
    }

    @Test func unknownFieldsAreMergedIntoTheGivenMetadata() throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","fact_metadata":{"a":1,"b":2},"c":3,"index":0}"#))
        #expect(try object(fact.metadata) == ["a": 1, "b": 2, "c": 3, "index": 0])
    }

    /// With both `fact_metadata` and `metadata`, the members of both are kept.
    @Test func bothMetadataFieldsAreMerged() throws {
        let (fact, _) = try accepted(validate(#"{"statement":"P(a).","fact_metadata":{"a":1},"metadata":{"b":2}}"#))
        #expect(try object(fact.metadata) == ["a": 1, "b": 2])
    }

    /// A metadata key given twice — a field beside `fact_metadata` that holds it, or `metadata` and
    /// `fact_metadata` that both do — is refused naming it: merged, one of the values was lost without a word.
    @Test(arguments: [
        #"{"statement":"P(a).","fact_metadata":{"a":1,"b":2},"b":3}"#,
        #"{"statement":"P(a).","fact_metadata":{"k":1,"a":1},"metadata":{"k":2,"b":2}}"#,
        #"{"statement":"P(a).","fact_metadata":"{\"k\":1}","k":5}"#,
    ])
    func aMetadataKeyGivenTwiceIsRefused(_ record: String) throws {
        let (reason, message) = try refused(validate(record))
        #expect(reason == .invalidMetadata)
        #expect(message.contains("is given twice for fact_metadata"), "\(message)")
        #expect(message.hasPrefix("b ") || message.hasPrefix("k "), "\(message)")
    }

    /// Past 16 names the repeat is found through a set, not by comparing every pair (a CSV row of 30,000
    /// columns took 1.3 s): the first name given twice is still the one named.
    @Test func aMetadataKeyGivenTwiceAmongManyIsRefused() throws {
        let extras = (0..<20).map { "\"c\($0)\":\($0)" }.joined(separator: ",")
        let (reason, message) = try refused(validate(#"{"statement":"P(a).","fact_metadata":{"c5":1,"c7":2},"# + extras + "}"))
        #expect(reason == .invalidMetadata)
        #expect(message.hasPrefix("c5 is given twice for fact_metadata"), "\(message)")
        let many = try accepted(validate(#"{"statement":"P(a).","fact_metadata":{"x":1},"# + extras + "}"))
        #expect(try object(many.fact.metadata).count == 21)
    }

    /// Parts that disagree with the statement go under `given_parts`, or `given_parts_2` when the record's
    /// own metadata has a `given_parts`: its value is kept.
    @Test func disagreeingPartsNeverReplaceTheRecordsOwnGivenParts() throws {
        let (fact, warning) = try accepted(
            validate(#"{"statement":"P(a).","fact_metadata":{"given_parts":"mine"},"subject":"zzz"}"#))
        #expect(try object(fact.metadata) == ["given_parts": "mine", "given_parts_2": ["subject": "zzz"]])
        #expect(warning?.contains("kept in fact_metadata.given_parts_2") == true, "\(String(describing: warning))")
    }

    // MARK: Limits

    @Test func refusesMoreArgumentsThanTheLimit() throws {
        var limits = FactLimits()
        limits.maxArgs = 3
        #expect(try accepted(validate(#"{"statement":"P(a, b, c)."}"#, limits: limits)).fact.arity == 3)
        let refusal = try refused(validate(#"{"statement":"P(a, b, c, d)."}"#, limits: limits))
        #expect(refusal.reason == .limitExceeded)
        #expect(refusal.message.contains("at most 3 arguments"))
        let assembled = try refused(validate(#"{"predicate":"P","args":["a","b","c","d"]}"#, limits: limits))
        #expect(assembled.reason == .limitExceeded)
    }

    @Test func refusesAnArgumentLongerThanTheLimit() throws {
        var limits = FactLimits()
        limits.maxArgLength = 5
        #expect(try accepted(validate(#"{"statement":"P(äöüßé, b)."}"#, limits: limits)).fact.subject == "äöüßé")
        let refusal = try refused(validate(#"{"statement":"P(abcdef)."}"#, limits: limits))
        #expect(refusal.reason == .limitExceeded)
        #expect(refusal.message.contains("longer than 5 characters"))
    }

    @Test func refusesAPredicateLongerThanTheLimit() throws {
        let ok = String(repeating: "P", count: 100)
        #expect(try accepted(validate("{\"statement\":\"\(ok)(a).\"}")).fact.predicate == ok)
        let refusal = try refused(validate("{\"statement\":\"\(ok)Q(a).\"}"))
        #expect(refusal.reason == .limitExceeded)
        #expect(refusal.message.contains("predicate is longer than 100"))
    }

    @Test func refusesAStatementOverTheByteLimit() throws {
        var limits = FactLimits()
        limits.maxStatementBytes = 20
        // 20 bytes fit, 21 do not.
        #expect(try accepted(validate(#"{"statement":"P(abcdefghijklmnop)."}"#, limits: limits)).fact.arity == 1)
        let refusal = try refused(validate(#"{"statement":"P(abcdefghijklmnopq)."}"#, limits: limits))
        #expect(refusal.reason == .limitExceeded)
        #expect(refusal.message.contains("over the limit of 20 bytes"))
    }

    @Test func defaultLimitsRefuseElevenArgumentsAndA501CharacterArgument() throws {
        let eleven = (1...11).map { "a\($0)" }.joined(separator: ", ")
        #expect(try refused(validate("{\"statement\":\"P(\(eleven)).\"}")).reason == .limitExceeded)
        let long = String(repeating: "x", count: 501)
        #expect(try refused(validate("{\"statement\":\"P(\(long)).\"}")).reason == .limitExceeded)
        let fits = String(repeating: "x", count: 500)
        #expect(try accepted(validate("{\"statement\":\"P(\(fits)).\"}")).fact.subject == fits)
    }
}
