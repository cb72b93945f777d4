import Foundation
import Testing

@testable import FactPipe

private func header(_ names: [String]) throws -> CSVHeader {
    try CSVHeader(names: names)
}

private func fields(_ header: CSVHeader, _ values: [String]) -> Result<RecordFields, FieldError> {
    do throws(FieldError) {
        return .success(try header.fields(from: values))
    } catch {
        return .failure(error)
    }
}

@Suite struct CSVHeaderTests {
    @Test func matchesColumnNamesCaseInsensitivelyAndIgnoresSurroundingSpaces() throws {
        let mapped = try header([
            "Statement", " CONFIDENCE ", "Source", "created_at", "TimeStamp", "Context", "Fact_Metadata", "Tags",
            "certainty", "rowid",
        ])
        #expect(mapped.columns == [
            .statement, .confidence, .source, .createdAt, .timestamp, .context, .metadata, .contextExtra("tags"),
            .contextExtra("certainty"), .other("rowid"),
        ])
    }

    @Test func numberedArgumentColumnsFollowSubjectAndObject() throws {
        let mapped = try header(["predicate", "arg1", "arg2", "arg3", "ARG4", "arg64", "arg0", "argx", "args_note"])
        #expect(mapped.columns == [
            .predicate, .subject, .object, .extraArg(0), .extraArg(1), .extraArg(61), .other("arg0"), .other("argx"),
            .other("args_note"),
        ])
        // Other spellings of the same numbers are the same arguments (`arg01` was kept in fact_metadata while
        // `arg03` was the third argument).
        #expect(try header(["predicate", "arg01", "ARG02", "arg03", "arg+5"]).columns == [
            .predicate, .subject, .object, .extraArg(0), .extraArg(2),
        ])
    }

    /// `arg65` and later were kept in `fact_metadata`: a CSV of 100 argument columns loaded, exit 0 and no
    /// warning, as a fact of 64 arguments, the other 36 in its metadata.
    @Test(arguments: ["arg65", "ARG100", "arg99999999999999999999"])
    func aColumnPastTheLastArgumentByPositionIsRefused(_ name: String) {
        do throws(FieldError) {
            _ = try CSVHeader(names: ["predicate", "subject", name])
            Issue.record("accepted \(name)")
        } catch {
            #expect(error.reason == .invalidCSV)
            #expect(error.message.hasPrefix("column 3 (\(name)) gives an argument past arg64"), "\(error.message)")
        }
    }

    /// A header of 100,000 columns took 14 s: each column was compared with every one before it.
    @Test func aHeaderOfManyColumnsStillFindsOneNamedTwice() throws {
        let names = ["statement"] + (0..<100_000).map { "c\($0)" }
        #expect(try header(names).columns.count == 100_001)
        do throws(FieldError) {
            _ = try CSVHeader(names: names + ["c99998"])
            Issue.record("accepted a column named twice")
        } catch {
            #expect(error.message.hasPrefix("column 100002 (c99998) names the same field as column 100000 (c99998)"))
        }
    }

    @Test func statementAliasesAndASecondStatementColumn() throws {
        #expect(try header(["s"]).columns == [.statement])
        #expect(try header(["fact", "metadata"]).columns == [.statement, .metadata])
        #expect(try header(["predicate", "subject", "object", "args"]).columns == [.predicate, .subject, .object, .args])
    }

    @Test(arguments: [
        (["statement", "s"], "column 2 (s) names the same field as column 1 (statement)"),
        (["statement", "confidence", "Confidence"], "column 3 (Confidence) names the same field as column 2 (confidence)"),
        (["predicate", "subject", "arg1"], "column 3 (arg1) names the same field as column 2 (subject)"),
        (["statement", "foo", "foo"], "column 3 (foo) names the same field as column 2 (foo)"),
        (["statement", "fact_metadata", "metadata"], "column 3 (metadata) names the same field as column 2"),
        (["statement", " ", "foo"], "column 2 has no name"),
        (["predicate", "subject", "arg01"], "column 3 (arg01) names the same field as column 2 (subject)"),
    ])
    func aHeaderThatNamesAFieldTwiceIsRefused(_ names: [String], _ message: String) {
        do throws(FieldError) {
            _ = try CSVHeader(names: names)
            Issue.record("accepted \(names)")
        } catch {
            #expect(error.reason == .invalidCSV)
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test func namesThatDifferInCaseOnlyAreTwoMetadataKeys() throws {
        #expect(try header(["statement", "Foo", "foo"]).columns == [.statement, .other("Foo"), .other("foo")])
    }

    @Test func aHeaderWithoutStatementOrPredicateIsRefused() throws {
        do throws(FieldError) {
            _ = try CSVHeader(names: ["subject", "object", "confidence"])
            Issue.record("accepted a header without a statement column")
        } catch {
            #expect(error.reason == .invalidCSV)
            #expect(error.message.contains("no statement column and no predicate column"))
            #expect(error.message.contains("subject, object, confidence"))
        }
    }

    @Test func aRecordWithTheWrongNumberOfFieldsIsRefused() throws {
        let mapped = try header(["statement", "confidence", "source"])
        for values in [["P(a).", "1"], ["P(a).", "1", "x", "extra"]] {
            guard case .failure(let error) = fields(mapped, values) else {
                Issue.record("accepted \(values)")
                continue
            }
            #expect(error.reason == .invalidCSV)
            #expect(error.message == "expected 3 fields as in the header, found \(values.count)")
        }
    }

    @Test func mapsEveryFieldAndTreatsEmptyFieldsAsAbsent() throws {
        let mapped = try header([
            "statement", "confidence", "source", "created_at", "timestamp", "context", "fact_metadata", "rowid", "note",
        ])
        let parsed = try fields(mapped, [
            "P(a).", "0.5", "", "2024-01-01", "1700000000", #"{"source":"x"}"#, #"{"m":1}"#, "12", "",
        ]).get()
        #expect(parsed.statement == "P(a).")
        #expect(parsed.confidenceText == "0.5")
        #expect(parsed.source == nil)
        #expect(parsed.createdAt == "2024-01-01")
        #expect(parsed.timestampText == "1700000000")
        #expect(parsed.context == #"{"source":"x"}"#)
        #expect(parsed.metadata == #"{"m":1}"#)
        // Other columns go to fact_metadata as strings, even when they look like numbers; empty ones not at all.
        #expect(parsed.metadataExtras.map { "\($0.key)=\($0.json)" } == [#"rowid="12""#])
    }

    @Test func partsAndNumberedArguments() throws {
        let mapped = try header(["predicate", "subject", "object", "arg3", "arg4"])
        let parsed = try fields(mapped, ["Composition", "Symphony", "Beethoven", "9th", "Ode"]).get()
        #expect(parsed.predicate == "Composition")
        #expect(parsed.subject == "Symphony")
        #expect(parsed.object == "Beethoven")
        #expect(parsed.extraArgs == ["9th", "Ode"])

        let gap = try fields(mapped, ["Composition", "Symphony", "Beethoven", "", "Ode"]).get()
        #expect(gap.extraArgs == [nil, "Ode"])
    }

    @Test func argsColumnHoldsAJSONArray() throws {
        let mapped = try header(["predicate", "args"])
        #expect(try fields(mapped, ["P", #"["a", 2, "c d"]"#]).get().args == ["a", "2", "c d"])
        for bad in ["a, b", #"["a""#, #"[{"a":1}]"#, "{}"] {
            guard case .failure(let error) = fields(mapped, ["P", bad]) else {
                Issue.record("accepted args \(bad)")
                continue
            }
            #expect(error.reason == .invalidField)
        }
    }

    /// `["a","b"] junk` is not a JSON array: the text after it must not be dropped silently.
    @Test func argsColumnWithTextAfterTheArrayIsRefused() throws {
        let mapped = try header(["predicate", "args"])
        let result = fields(mapped, ["P", #"["a","b"] junk"#])
        guard case .failure(let error) = result else {
            Issue.record("args with trailing text were accepted as \(String(describing: try? result.get().args))")
            return
        }
        #expect(error.reason == .invalidField)
    }

    @Test func contextAndMetadataColumnsMustHoldObjects() throws {
        let mapped = try header(["statement", "context", "metadata"])
        #expect(try fields(mapped, ["P(a).", #" {"k": 1} "#, "{}"]).get().context == #"{"k": 1}"#)
        guard case .failure(let context) = fields(mapped, ["P(a).", "human", "{}"]) else {
            Issue.record("accepted a context that is not an object")
            return
        }
        #expect(context.reason == .invalidContext)
        guard case .failure(let metadata) = fields(mapped, ["P(a).", "{}", "[1]"]) else {
            Issue.record("accepted metadata that is not an object")
            return
        }
        #expect(metadata.reason == .invalidMetadata)
    }

    @Test func tagsThatAreJSONStayJSONAndOtherTextIsQuoted() throws {
        let mapped = try header(["statement", "tags", "certainty"])
        let json = try fields(mapped, ["P(a).", #"["kb","x"]"#, "0.9"]).get()
        #expect(json.contextExtras.map { "\($0.key)=\($0.json)" } == [#"tags=["kb","x"]"#, "certainty=0.9"])
        let text = try fields(mapped, ["P(a).", "python, kb", "high"]).get()
        #expect(text.contextExtras.map { "\($0.key)=\($0.json)" } == [#"tags="python, kb""#, #"certainty="high""#])
    }

    /// A cell `null` was a JSON null: stored on insert (`{"certainty":null}`), and under `update` it deleted the
    /// stored tags and certainty. It gives nothing, as `"tags": null` in NDJSON does.
    @Test func aNullCellOfTagsOrCertaintyGivesNothing() throws {
        let mapped = try header(["statement", "tags", "certainty"])
        #expect(try fields(mapped, ["P(a).", "null", " null "]).get().contextExtras.isEmpty)
        // So does a confidence cell `null`, which was refused as "not a number".
        let confidence = try fields(try header(["statement", "confidence"]), ["P(a).", "null"]).get()
        #expect(confidence.confidence == nil && confidence.confidenceText == nil)
        let work = try LoadWorkspace()
        let first = try work.write("first.csv", "statement,certainty,tags\n\"P(a)\",high,\"[\"\"x\"\"]\"\n")
        let second = try work.write("second.csv", "statement,certainty,tags\nP(a),null,null\n")
        #expect(work.load(first).inserted == 1)
        #expect(work.load(second) { $0.conflictPolicy = .update }.status == .done)
        #expect(try work.database().column("SELECT context FROM facts") == [#"{"certainty":"high","tags":["x"]}"#])
    }
}
