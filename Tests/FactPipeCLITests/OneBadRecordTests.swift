import Foundation
import Testing

/// One bad record costs one record: a quote that never closes, near the start of a large file, is
/// refused at its line and every good line after it loads; a record that swallows most of an input
/// fails the load instead of passing for `done`.
@Suite struct OneBadRecordTests {
    private func goodCSVLines(_ count: Int, from first: Int = 0, quoted: Bool) -> String {
        var text = ""
        text.reserveCapacity(count * 24)
        for index in first..<first + count { text += quoted ? "\"P(a\(index), b)\",0.5\n" : "P(a\(index)),0.5\n" }
        return text
    }

    /// Good lines without quotes: the quote runs past --max-record-bytes (200,000 lines after it) or to
    /// the end of the input (2,000). Good lines with quotes: the next line's quote seems to close it.
    @Test(arguments: [(200_000, false), (2_000, false), (200_000, true), (2_000, true)])
    func anUnterminatedCSVQuoteCostsOneRecord(_ after: Int, _ quoted: Bool) throws {
        let work = try CLIWorkspace()
        let text = "statement,confidence\n" + goodCSVLines(2, quoted: quoted) + "\"P(bad, x),0.5\n"
            + goodCSVLines(after, from: 2, quoted: quoted)
        let input = try work.write("quote.csv", text)
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "--rejects", rejects])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "done")
        #expect(int(json, "inserted") == after + 2)
        #expect(int(json, "rejected") == 1)
        expectCountsAddUp(json)
        let reject = try #require(try JSONSerialization.jsonObject(with: Data(try work.read("rejects.ndjson").utf8))
            as? [String: Any])
        #expect(reject["line"] as? Int == 4)
        #expect(reject["reason"] as? String == "invalid_csv")
        #expect((reject["message"] as? String)?.contains("not closed") == true, "\(reject)")
        #expect(reject["record"] as? String == "\"P(bad, x),0.5")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == after + 2)
        // The checkpoint is the end of the file: nothing was skipped.
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(int(ledger, "checkpoint_line") == after + 5)
    }

    @Test func aClosedQuoteOverManyLinesIsStillOneRecord() throws {
        let work = try CLIWorkspace()
        let text = "statement,note\n\"P(a)\",\"line one\nline \"\"two\"\"\nline three\"\n\"P(b)\",\n"
        let input = try work.write("multi.csv", text)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 2)
    }

    /// Records split by something other than line ends (here spaces) read as one line over the limit.
    @Test(arguments: ["ndjson", "text"])
    func oneRefusalThatTookMostOfTheInputFailsTheLoad(_ format: String) throws {
        let work = try CLIWorkspace()
        let records = (0..<20_000).map { format == "ndjson" ? "{\"statement\":\"P(a\($0))\"}" : "P(a\($0))." }
        let text = (format == "ndjson" ? "{\"statement\":\"P(first)\"}\n" : "P(first).\n")
            + records.joined(separator: " ") + "\n"
        let input = try work.write("spaced.\(format)", text)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "--max-record-bytes", "10000"])
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        #expect(message.hasPrefix("\(input): line 2: one record of "), "\(message)")
        #expect(message.contains("took most of the input"), "\(message)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["failed"])
    }

    /// NDJSON whose first line is not a record (a log line, the tail of a half-written record), plain and
    /// zstd-compressed: read as NDJSON all the same, the first line is the one refusal, for its JSON.
    /// (Judged from the first line alone, the file was text and every record was refused as a statement; a
    /// first line of 15 bytes or less was too, as only the bytes of the input's first small read were looked at.)
    @Test(arguments: ["export started at 02:00", #"tement":"P(torn)."}"#, "BEGIN", "id"])
    func aForeignFirstLineCostsOneRecordOfAnNDJSONFile(_ firstLine: String) throws {
        let work = try CLIWorkspace()
        let records = (0..<2_000).map { #"{"statement":"P(a\#($0))."}"# }
        let plain = try work.write("facts.ndjson", ([firstLine] + records).joined(separator: "\n") + "\n")
        try Factpipe.tool("/usr/bin/zstd", ["-q", "-f", plain, "-o", work.path("facts.ndjson.zst")])
        for input in [plain, work.path("facts.ndjson.zst")] {
            let database = work.path("\((input as NSString).lastPathComponent).sqlite")
            let rejects = work.path("\((input as NSString).lastPathComponent).rejects")
            let run = try Factpipe.run(["import", input, "--db", database, "--rejects", rejects, "--json", "-q"])
            #expect(run.status == 2, "\(run.stderr)")
            let json = try run.json()
            #expect((int(json, "inserted"), int(json, "rejected")) == (2_000, 1), "\(input)")
            let loads = try #require(json["loads"] as? [[String: Any]])
            #expect(loads.first?["format"] as? String == "ndjson")
            let refused = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: rejects))) as? [String: Any])
            #expect(int(refused, "line") == 1)
            #expect(refused["record"] as? String == firstLine)
            #expect(refused["reason"] as? String == "invalid_json", "\(refused)")
        }
    }

    /// The bad line near the start of a large file is one refusal; every good line loads.
    @Test(arguments: ["ndjson", "text"])
    func aBadLineNearTheStartCostsOneRecord(_ format: String) throws {
        let work = try CLIWorkspace()
        var text = format == "ndjson" ? "{\"statement\":\"P(first)\"}\n{\"statement\":\"P(bad\n" : "P(first).\nP(bad\n"
        for index in 0..<200_000 {
            text += format == "ndjson" ? "{\"statement\":\"P(a\(index))\"}\n" : "P(a\(index)).\n"
        }
        let input = try work.write("bad.\(format)", text)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json"])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "inserted") == 200_001)
        #expect(int(json, "rejected") == 1)
    }
}
