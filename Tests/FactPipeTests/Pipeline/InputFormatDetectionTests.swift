import Foundation
import Testing

@testable import FactPipe

private func detect(_ text: String) -> InputFormat {
    InputFormat.detect(from: Array(text.utf8))
}

@Suite struct InputFormatDetectionTests {
    @Test(arguments: [
        (#"{"statement":"P(a)."}"#, InputFormat.ndjson),
        ("\n\n  \t{\"s\":\"P(a).\"}\n", .ndjson),
        ("statement,confidence\nP(a),1\n", .csv),
        ("\"Statement\",\"Source\"\r\n\"P(a)\",x\r\n", .csv),
        ("rowid,statement,context\n1,P(a),{}\n", .csv),
        ("predicate,subject,object\nP,a,b\n", .csv),
        ("statement\nP(a)\n", .csv),
        ("predicate\tsubject\tobject\nP\ta\tb\n", .tsv),
        ("Statement\tconfidence\nP(a)\t1\n", .tsv),
        ("HasPart(Computer, CPU).\nIsA(Socrates).\n", .text),
        ("# Tool Synchronization Facts for Knowledge Base Import\nToolCount(A, 1).\n", .text),
        ("", .text),
        ("   \n\n", .text),
        ("Statement(a, b).\n", .text),
        // A statement whose argument is spelled as a column name is no header (its fact was lost).
        ("Abbrev(second, s, time).\nMeasure(x, Mass(1), kg).\n", .text),
        ("HasType(claim1, fact, verified)\nIsA(dog, animal).\n", .text),
        ("Rel(a\tpredicate).\n", .text),
        ("statement,s2\n\"P(a)\",1\n", .csv),
    ])
    func recognisesTheFormatFromTheFirstBytes(text: String, expected: InputFormat) {
        #expect(detect(text) == expected, "\(text.debugDescription)")
    }

    /// The file of the first case above was read as CSV: 2 records, the first fact taken for a header, and
    /// `Mass(1).` stored for `Measure(x, Mass(1), kg).`, exit 0.
    @Test func aTextFileWhoseFirstFactNamesAColumnLoadsEveryFact() throws {
        let work = try LoadWorkspace()
        let input = try work.write("units.txt", "Abbrev(second, s, time).\nMeasure(x, Mass(1), kg).\nMeasure(y, Mass(2), kg).\n")
        let summary = work.load(input)
        #expect(summary.status == .done && summary.inserted == 3 && summary.rejected == 0, "\(summary.message ?? "")")
        #expect(try work.database().column("SELECT statement FROM facts ORDER BY statement") == [
            "Abbrev(second, s, time).", "Measure(x, Mass(1), kg).", "Measure(y, Mass(2), kg).",
        ])
    }

    /// A JSON array of objects (`json.dump(list)`, pandas `orient="records"`, `sqlite3 -json`) was read as
    /// text: every line refused for the grammar's reason (or as NDJSON lines, "expected '{'"), the load done.
    @Test(arguments: [#"[{"statement":"IsA(dog, animal)","confidence":0.9}]"#, "\n  [\n  {\"statement\": \"IsA(a, b)\"}\n]\n"])
    func aJSONArrayFailsNamingWhatToGiveInstead(text: String) throws {
        let work = try LoadWorkspace()
        let summary = work.load(try work.write("dump.json", text))
        #expect(summary.status == .failed && summary.records == 0)
        #expect((summary.message ?? "").contains("is a JSON array, which factpipe does not read as one"), "\(summary.message ?? "")")
        #expect((summary.message ?? "").contains("jq -c '.[]'"))
    }

    /// Only an array of objects (or an empty one) is taken for a JSON array: NDJSON whose first line is a
    /// log line in brackets still loads, its first line refused alone.
    @Test func aFirstLineInBracketsIsNoJSONArray() throws {
        let work = try LoadWorkspace()
        let input = try work.write("log.ndjson", "[2024-05-01 10:00:00] export started\n"
            + #"{"statement":"P(a)"}"# + "\n" + #"{"statement":"P(b)"}"# + "\n" + #"{"statement":"P(c)"}"# + "\n")
        let summary = work.load(input)
        #expect(summary.inserted == 3 && summary.rejected == 1, "\(summary.message ?? "")")
    }

    /// A header the mapping renames is a header, though the grammar reads it as a statement (`Claim(s)`).
    @Test func aHeaderTheMappingNamesStaysAHeaderThoughItReadsAsAStatement() {
        let csv = Array("Claim(s)\n\"P(a)\"\n".utf8)
        #expect(InputFormat.detect(from: csv, mapping: ["Claim(s)": "statement"]) == .csv)
        #expect(InputFormat.detect(from: csv) == .text)
    }

    /// A pipeline's `[mapping]` renames a header's columns before they are judged: with
    /// `fact_text = "statement"` the CSV was read as text, its header a record and every line refused.
    @Test func aHeaderTheMappingRenamesIsCSV() {
        let csv = Array("fact_text,conf\n\"IsA(a, b)\",0.5\n".utf8)
        #expect(InputFormat.detect(from: csv) == .text)
        #expect(InputFormat.detect(from: csv, mapping: ["fact_text": "statement"]) == .csv)
        #expect(InputFormat.detect(from: Array("Fact_Text\tx\nP(a)\t1\n".utf8), mapping: ["fact_text": "statement"]) == .tsv)
        let header = try? CSVHeader(names: ["Fact_Text", "conf"], mapping: ["fact_text": "statement", "conf": "confidence"])
        #expect(header != nil, "the mapping matches the column whatever its case")
    }

    /// A `#` line is a comment of a text export (DESIGN 2), never a CSV header row, whatever words it holds.
    @Test func aFirstCommentLineThatNamesColumnsIsStillText() {
        #expect(detect("# Columns: subject, predicate, object\nHasPart(Computer, CPU).\n") == .text)
    }

    /// No statement begins with `{`: lines that mostly do are NDJSON, whatever the first line is (a log
    /// line, a half-written record). Comments and blank lines do not vote; a tie stays text.
    @Test(arguments: [
        ("2026-12-06 02:00 export started\n{\"statement\":\"P(a).\"}\n{\"statement\":\"P(b).\"}\n", InputFormat.ndjson),
        ("statement\":\"P(a).\"}\n{\"statement\":\"P(b).\"}\n\n  {\"statement\":\"P(c).\"}", .ndjson),
        ("# dump of kb\n{\"statement\":\"P(a).\"}\n", .ndjson),
        ("junk\n{\"statement\":\"P(a).\"}\n", .text),
        ("HasPart(Computer, CPU).\n{broken\nIsA(Socrates).\n", .text),
        ("# {\"a\":1}\n# {\"b\":2}\nIsA(Socrates).\n", .text),
        ("junk\r{\"statement\":\"P(a).\"}\r{\"statement\":\"P(b).\"}\r", .ndjson),
    ])
    func linesThatMostlyBeginWithABraceAreNDJSONWhateverTheFirstLine(text: String, expected: InputFormat) {
        #expect(detect(text) == expected, "\(text.debugDescription)")
    }

    /// CSVHeader reads `s` and `fact` as the statement column, so detection must recognise such a header too.
    @Test func aCSVHeaderWithTheStatementColumnNamedFactIsCSV() {
        #expect(detect("fact,confidence\n\"P(a, b).\",0.5\n") == .csv)
        #expect(detect("s,source\nP(a),x\n") == .csv)
    }
}
