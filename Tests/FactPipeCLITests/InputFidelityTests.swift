import Foundation
import Testing

/// Nothing in an input is lost without a word: classic Mac line endings are read, an input with no
/// record is not `done`, a repeated column or key is refused, a view is read, rejects keep the
/// original bytes, and a gzip file padded with zeros reads as GNU gzip reads it.
@Suite struct InputFidelityTests {
    private func importJSON(_ work: CLIWorkspace, _ inputs: [String], _ extra: [String] = []) throws -> FactpipeRun {
        try Factpipe.run(["import"] + inputs + ["--db", work.database, "--json"] + extra)
    }

    // MARK: Line endings and empty loads

    @Test(arguments: [
        ("mac.csv", "statement,confidence\r\"IsA(a, b)\",0.9\r\"IsA(c, d)\",0.8\r\"IsA(e, f)\",0.7\r"),
        ("mac.txt", "# facts\rIsA(a, b).\rIsA(c, d).\rIsA(e, f)."),
        ("mac.ndjson", "{\"statement\":\"IsA(a, b)\"}\r{\"statement\":\"IsA(c, d)\"}\r{\"statement\":\"IsA(e, f)\"}\r"),
    ])
    func classicMacLineEndsAreReadAsLineEnds(_ name: String, _ text: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write(name, text)
        let run = try importJSON(work, [input])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 3, "\(run.stdoutText)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement")
                == ["IsA(a, b).", "IsA(c, d).", "IsA(e, f)."])
    }

    /// A CRLF in a file whose lines end with a lone CR is one line end: a reject after it names its own line,
    /// and a quoted field holding a CRLF keeps it as written (read as two line ends, it held CR LF LF).
    @Test func aCRLFInAMacCSVIsOneLineEnd() throws {
        let work = try CLIWorkspace()
        let input = try work.write(
            "mac.csv",
            "statement,note\r\"IsA(a, b)\",x\r\n\"IsA(c, d)\",\"two\r\nlines\"\r\n\"IsA(e\",y\r\"IsA(f, g)\",z\r")
        let run = try importJSON(work, [input], ["--rejects", work.path("rejects.ndjson")])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 3, "\(run.stdoutText)")
        let reject = try #require(
            try JSONSerialization.jsonObject(with: Data(try work.read("rejects.ndjson").utf8)) as? [String: Any])
        #expect(reject["line"] as? Int == 5, "\(reject)")
        #expect(reject["record"] as? String == "\"IsA(e\",y", "\(reject)")
        #expect(try SQLiteFile.strings(work.database, "SELECT fact_metadata FROM facts WHERE statement = 'IsA(c, d).'")
                == [#"{"note":"two\r\nlines"}"#])
    }

    @Test func aMacCSVResumesAtItsCheckpoint() throws {
        let work = try CLIWorkspace()
        let lines = (0..<50).map { "\"P(a\($0), b)\",0.5" } + ["\"P(x y z\",0.5"]
        let input = try work.write("mac.csv", "statement,confidence\r" + lines.joined(separator: "\r") + "\r")
        let first = try importJSON(work, [input], ["--batch-size", "10", "--max-errors", "0"])
        #expect(first.status == 3, "\(first.stderr)")
        let resumed = try importJSON(work, [input], ["--resume", "--max-errors", "1"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 50)
    }

    @Test(arguments: [
        ("blank.ndjson", "\n  \n\t\n"),
        ("header-only.csv", "statement,confidence\n"),
        ("comments.txt", "# nothing here\n# nor here\n"),
    ])
    func anInputWithBytesButNoRecordFailsAndIsLoadedAgainLater(_ name: String, _ text: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write(name, text)
        let run = try importJSON(work, [input])
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        #expect(message.hasPrefix("\(input): "), "\(message)")
        #expect(message.contains("no record"), "\(message)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["failed"])
        let again = try importJSON(work, [input])
        #expect(again.status == 1, "\(again.stderr)")
        #expect((try again.json()["skipped"] as? [Any])?.isEmpty == true)
    }

    @Test func anEmptyFileIsStillDone() throws {
        let work = try CLIWorkspace()
        let input = try work.write("empty.txt", "")
        let run = try importJSON(work, [input])
        #expect(run.status == 0, "\(run.stderr)")
    }

    // MARK: Repeated columns and keys

    @Test(arguments: [
        ("statement,confidence,confidence", "confidence"),
        ("statement,foo,foo", "foo"),
        ("statement,,foo", "column 2 has no name"),
        ("statement,fact", "fact"),
        ("predicate,subject,arg1", "arg1"),
        ("statement,Tags,tags", "tags"),
    ])
    func aCSVHeaderThatNamesAColumnTwiceIsRefused(_ header: String, _ named: String) throws {
        let work = try CLIWorkspace()
        let fields = header.split(separator: ",", omittingEmptySubsequences: false).count
        let row = ["P(a)"] + Array(repeating: "0.5", count: fields - 1)
        let input = try work.write("dup.csv", header + "\n" + row.joined(separator: ",") + "\n")
        let run = try importJSON(work, [input], ["--format", "csv"])
        #expect(run.status == 1, "\(run.stderr)")
        let message = try #require(try run.json()["message"] as? String)
        #expect(message.hasPrefix("\(input): line 1: "), "\(message)")
        #expect(message.contains(named), "\(message)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }

    @Test(arguments: [
        ("{\"statement\":\"P(a)\",\"confidence\":0.5,\"confidence\":0.9}", "confidence"),
        ("{\"statement\":\"P(a)\",\"foo\":1,\"foo\":2}", "foo"),
        ("{\"statement\":\"P(a)\",\"s\":\"P(b)\"}", "s"),
        ("{\"statement\":\"P(a)\",\"statement\":\"P(b)\"}", "statement"),
    ])
    func anNDJSONRecordWithARepeatedKeyIsRefusedWithTheKey(_ line: String, _ key: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("dup.ndjson", "{\"statement\":\"Q(x)\"}\n" + line + "\n")
        let rejects = work.path("rejects.ndjson")
        let run = try importJSON(work, [input], ["--rejects", rejects])
        #expect(run.status == 2, "\(run.stderr)")
        let reject = try #require(try JSONSerialization.jsonObject(
            with: Data(try work.read("rejects.ndjson").utf8)) as? [String: Any])
        #expect(reject["line"] as? Int == 2)
        #expect((reject["message"] as? String)?.contains("\"\(key)\"") == true, "\(reject)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts") == ["Q(x)."])
    }

    @Test func tagsBesideAContextWithTagsAreRefusedNotReplaced() throws {
        let work = try CLIWorkspace()
        let ndjson = try work.write("tags.ndjson", """
            {"statement":"P(a)","context":{"tags":["x"]},"tags":["y"]}
            {"statement":"P(b)","context":{"topic":"t"},"tags":["y"]}

            """)
        let csv = try work.write("tags.csv", "statement,context,tags\n\"P(c)\",\"{\"\"tags\"\":[\"\"x\"\"]}\",y\n"
            + "\"P(d)\",\"{\"\"topic\"\":\"\"t\"\"}\",y\n")
        let run = try importJSON(work, [ndjson, csv], ["--rejects", work.path("rejects.ndjson")])
        #expect(run.status == 2, "\(run.stderr)")
        let rejects = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(rejects.count == 2)
        #expect(rejects.allSatisfy { $0.contains("\"reason\":\"invalid_context\"") && $0.contains("tags") }, "\(rejects)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == ["P(b).", "P(d)."])
        let context = try SQLiteFile.strings(work.database, "SELECT context FROM facts WHERE statement = 'P(b).'")
        #expect(context.count == 1 && context[0].contains("\"topic\"") && context[0].contains("\"tags\""), "\(context)")
    }

    // MARK: A SQLite input whose facts is a view

    @Test func aFactsViewIsReadRowByRow() throws {
        let work = try CLIWorkspace()
        let source = work.path("view.db")
        try Factpipe.tool("/usr/bin/sqlite3", [source, """
            CREATE TABLE base (s TEXT, c REAL);
            INSERT INTO base VALUES ('P(a)', 0.5), ('P(b)', 0.6), ('P(c)', 0.7);
            CREATE VIEW facts AS SELECT s AS statement, c AS confidence FROM base;
            """])
        let run = try importJSON(work, [source])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 3)
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement")
                == ["P(a).", "P(b).", "P(c)."])
    }

    @Test func aFactsViewCannotBeResumedAndSaysWhy() throws {
        let work = try CLIWorkspace()
        let source = work.path("view.db")
        try Factpipe.tool("/usr/bin/sqlite3", [source, """
            CREATE TABLE base (s TEXT);
            INSERT INTO base VALUES ('P(a)'), ('P(b)'), ('P(c'), ('P(d)');
            CREATE VIEW facts AS SELECT s AS statement FROM base;
            """])
        let first = try importJSON(work, [source], ["--batch-size", "1", "--max-errors", "0"])
        #expect(first.status == 3, "\(first.stderr)")
        let resumed = try importJSON(work, [source], ["--resume"])
        #expect(resumed.status == 1, "\(resumed.stderr)")
        let message = try #require(try resumed.json()["message"] as? String)
        #expect(message.contains("view"), "\(message)")
        #expect(message.components(separatedBy: source).count == 2, "\(message)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    // MARK: Rejects keep the original bytes

    @Test func aRecordThatIsNotUTF8KeepsItsExactBytesInTheRejectsFile() throws {
        let work = try CLIWorkspace()
        let bad: [UInt8] = Array("{\"statement\":\"P(".utf8) + [0xFF, 0xC3, 0x28, 0xE2, 0x82] + Array(")\"}".utf8)
        var bytes = Array("{\"statement\":\"Q(x)\"}\n".utf8) + bad + [0x0A]
        bytes += Array("P(é)\n".utf8)
        let input = try work.write("bad.ndjson", Data(bytes))
        let run = try importJSON(work, [input], ["--rejects", work.path("rejects.ndjson"), "--format", "ndjson"])
        #expect(run.status == 2, "\(run.stderr)")
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        try #require(lines.count == 2)
        let invalid = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(invalid["reason"] as? String == "invalid_utf8")
        let encoded = try #require(invalid["record_base64"] as? String, "\(invalid)")
        #expect(Data(base64Encoded: encoded) == Data(bad))
        // A valid record is given as text only.
        let valid = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(valid["record"] as? String == "P(é)")
        #expect(valid["record_base64"] == nil)
    }

    // MARK: Smaller ones

    @Test func aGzipFilePaddedWithZerosIsReadAsGzipReadsIt() throws {
        let work = try CLIWorkspace()
        let plain = try work.write("facts.txt", (0..<100).map { "P(a\($0))." }.joined(separator: "\n") + "\n")
        var compressed = try Factpipe.tool("/usr/bin/gzip", ["-c", plain]).stdout
        compressed.append(Data(count: 1024))
        let input = try work.write("facts.txt.gz", compressed)
        #expect(try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/gzip"), ["-t", input]).status == 0)
        let run = try importJSON(work, [input])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 100)
        // Anything but zeros after the last member is still an error.
        var garbage = try Factpipe.tool("/usr/bin/gzip", ["-c", plain]).stdout
        garbage.append(contentsOf: [0, 0, 0x41, 0x42])
        let bad = try work.write("bad.txt.gz", garbage)
        let failed = try importJSON(work, [bad])
        #expect(failed.status == 1, "\(failed.stderr)")
    }

    @Test func aDamagedDatabaseInputIsNamedOnce() throws {
        let work = try CLIWorkspace()
        var bytes = Data("SQLite format 3\0".utf8)
        bytes.append(Data(repeating: 0x5A, count: 4096))
        let input = try work.write("mal2.db", bytes)
        let run = try importJSON(work, [input])
        #expect(run.status == 1, "\(run.stderr)")
        let message = try #require(try run.json()["message"] as? String)
        #expect(message.hasPrefix("\(input): "), "\(message)")
        #expect(message.components(separatedBy: "mal2.db").count == 2, "\(message)")
    }
}
