import Foundation
import Testing

/// Stored text never drives the terminal: `query`, `stats` and `loads` print control and invisible
/// characters of facts, sources and paths as escapes; and the canonical form reaches the commands.
@Suite struct TerminalEscapingCommandTests {
    /// Bytes a terminal acts on: C0 controls but line feed, DEL, and the C1 controls in UTF-8.
    static func terminalControls(_ data: Data) -> [UInt8] {
        var found: [UInt8] = []
        var previous: UInt8 = 0
        for byte in data {
            if (byte < 0x20 && byte != 0x0A) || byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte)) {
                found.append(byte)
            }
            previous = byte
        }
        return found
    }

    /// A database with an ESC in a source (the NDJSON input can give one), and a statement, a
    /// predicate and a ledger source holding ESC, BEL, a C1 CSI and a direction override, as a
    /// database written before control characters were refused holds them.
    static func databaseWithControls(_ work: CLIWorkspace) throws {
        let input = try work.write(
            "in.ndjson", "{\"statement\":\"IsA(Dog, Animal).\",\"source\":\"\\u001b]0;owned\\u0007\\u001b[2J\"}\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        try Factpipe.tool("/usr/bin/sqlite3", [
            work.database,
            """
            INSERT INTO facts(statement, predicate, subject, object, args, arity, created_at, source)
            VALUES ('Is' || char(155) || 'A(Z' || char(27) || 'c, Y).', 'Is' || char(155) || 'A', 'Z' || char(27) || 'c', 'Y',
                    '["Z\\u001bc","Y"]', 2, '2025-01-01T00:00:00Z', 'x' || char(8238) || 'y');
            UPDATE factpipe_loads SET source = source || char(27) || '[31m';
            """,
        ])
    }

    @Test func queryStatsAndLoadsEscapeWhatWouldDriveTheTerminal() throws {
        let work = try CLIWorkspace()
        try Self.databaseWithControls(work)
        let table = try Factpipe.run(["query", "--db", work.database])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(Self.terminalControls(table.stdout).isEmpty, "\(table.stdoutText.debugDescription)")
        #expect(table.stdoutText.contains("Is\\u{9b}A(Z\\u{1b}c, Y)."))
        #expect(table.stdoutText.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2J"))
        #expect(table.stdoutText.contains("x\\u{202e}y"))
        for format in ["ndjson", "csv"] {
            let run = try Factpipe.run(["query", "--db", work.database, "--format", format])
            #expect(run.status == 0)
            #expect(Self.terminalControls(run.stdout).isEmpty || format == "csv", "\(format)")
        }
        // NDJSON stays the same JSON: the escapes decode to the stored text.
        let ndjson = try ndjsonObjects(try Factpipe.run(["query", "--db", work.database, "--format", "ndjson"]))
        #expect(ndjson.compactMap { $0["statement"] as? String }.contains("Is\u{9B}A(Z\u{1B}c, Y)."))
        #expect(ndjson.compactMap { $0["source"] as? String }.contains("x\u{202E}y"))
        let stats = try Factpipe.run(["stats", "--db", work.database])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(Self.terminalControls(stats.stdout).isEmpty, "\(stats.stdoutText.debugDescription)")
        #expect(stats.stdoutText.contains("Is\\u{9b}A"))
        let statsJSON = try Factpipe.run(["stats", "--db", work.database, "--json"])
        #expect(Self.terminalControls(statsJSON.stdout).isEmpty)
        let top = try #require(try statsJSON.json()["top_predicates"] as? [[String: Any]])
        #expect(top.compactMap { $0["predicate"] as? String }.contains("Is\u{9B}A"))
        for arguments in [["loads", "--db", work.database], ["loads", "--db", work.database, "--json"]] {
            let loads = try Factpipe.run(arguments)
            #expect(loads.status == 0, "\(loads.stderr)")
            #expect(Self.terminalControls(loads.stdout).isEmpty, "\(loads.stdoutText.debugDescription)")
        }
        #expect(try Factpipe.run(["loads", "--db", work.database]).stdoutText.contains("in.ndjson\\u{1b}[31m"))
    }

    @Test func importsSummaryOfRefusalsEscapesTheInputsName() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in\u{1B}]0;owned\u{07}.txt", "IsA(Dog, Animal).\nfree text\n")
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(Self.terminalControls(Data(run.stderr.utf8)).isEmpty, "\(run.stderr.debugDescription)")
        #expect(run.stderr.contains("in\\u{1b}]0;owned\\u{7}.txt:2"), "\(run.stderr)")
    }

    @Test func importRefusesControlCharactersAndQueryFindsLookAlikesByTheirCanonicalForm() throws {
        let work = try CLIWorkspace()
        let input = try work.write(
            "in.txt", "IsA(Z\u{1B}c, Y).\nP(big  city, \"a\"\"b\").\n\u{FEFF}IsA(Dog, Animal).\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(Self.terminalControls(Data(run.stderr.utf8)).isEmpty, "\(run.stderr.debugDescription)")
        #expect(try work.read("rejects.ndjson").contains("\"reason\":\"control_character\""))
        let subject = try Factpipe.run([
            "query", "--db", work.database, "--subject", "big\tcity", "--object", "\"a\\\"b\"", "--format", "csv",
        ])
        #expect(subject.stdoutText.contains("P(big city, \"\"a\\\"\"b\"\")."), "\(subject.stdoutText)")
        let predicate = try Factpipe.run(["query", "--db", work.database, "--predicate", "IsA", "--format", "ndjson"])
        #expect(try ndjsonObjects(predicate).compactMap { $0["statement"] as? String } == ["IsA(Dog, Animal)."])
    }

    /// Messages quote text that is not factpipe's own — another program's table names, an archive's
    /// manifest, paths: on standard error nothing of it can drive the terminal, and a manifest's line feed
    /// cannot make a line of its own (a forged "verify: ok").
    @Test func messagesEscapeTableNamesAndAManifestsFields() throws {
        let work = try CLIWorkspace()
        let other = work.path("other.sqlite")
        try Factpipe.tool("/usr/bin/sqlite3", [other, "CREATE TABLE \"x\u{1b}]0;owned\u{07}\u{1b}[2J\"(a);"])
        let stats = try Factpipe.run(["stats", "--db", other])
        #expect(stats.status == 1, "\(stats.stderr)")
        #expect(Self.terminalControls(Data(stats.stderr.utf8)) == [], "\(stats.stderr.debugDescription)")
        #expect(stats.stderr.contains("x\\u{1b}]0;owned\\u{7}\\u{1b}[2J"), "\(stats.stderr)")

        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let snapshot = work.path("s.ndjson")
        try #require(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        let manifestPath = snapshot + ".manifest.json"
        var manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        manifest["source_database"] = "x\u{1b}[2J\nfactpipe verify: ok: forged.ndjson: snapshot of 999 facts"
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let verify = try Factpipe.run(["verify", snapshot])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(Self.terminalControls(Data(verify.stderr.utf8)) == [], "\(verify.stderr.debugDescription)")
        #expect(!verify.stderr.split(separator: "\n").contains { $0.hasPrefix("factpipe verify: ok: forged") },
                "\(verify.stderr)")
    }

    /// Under `TERM=dumb` (an Emacs shell, a CI runner's log) nothing moves the cursor or sets bold: the table's
    /// header is plain and the progress line is not drawn; on another terminal both are as before.
    @Test func aDumbTerminalGetsNoControlSequences() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "80000", "-o", input, "-q"]).status == 0)
        let binary = BinaryLocator.factpipe.path
        for term in ["dumb", "xterm"] {
            let database = work.path("\(term).sqlite")
            let load = "TERM=\(term) '\(binary)' import '\(input)' --db '\(database)'"
            let loaded = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", load, "/dev/null"])
            #expect(loaded.status == 0, "\(loaded.stdoutText)")
            let query = "env -u NO_COLOR TERM=\(term) '\(binary)' query --db '\(database)' --limit 3"
            let queried = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", query, "/dev/null"])
            #expect(queried.status == 0, "\(queried.stdoutText)")
            if term == "dumb" {
                #expect(!loaded.stdout.contains(0x1B) && !queried.stdout.contains(0x1B),
                        "\(loaded.stdoutText.debugDescription) \(queried.stdoutText.debugDescription)")
            } else {
                #expect(loaded.stdoutText.contains("\r\u{1B}[K"), "the progress line: \(loaded.stdoutText.debugDescription)")
                #expect(queried.stdoutText.contains("\u{1B}[1m"), "the bold header: \(queried.stdoutText.debugDescription)")
            }
        }
    }

    /// `export -o -` writes the snapshot as it is stored, escape sequences of facts included: to a terminal
    /// it is refused (64) before anything is written.
    @Test func exportToATerminalIsRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write(
            "in.ndjson", "{\"statement\":\"IsA(Dog, Animal).\",\"source\":\"\\u001b]0;owned\\u0007\\u001b[2J\"}\n")
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let command = "'\(BinaryLocator.factpipe.path)' export --db '\(work.database)' -o - --format csv -q"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        #expect(run.status == 64, "\(run.stdoutText)")
        #expect(run.stdoutText.contains("standard output is a terminal"), "\(run.stdoutText)")
        #expect(!run.stdoutText.contains("IsA(Dog"), "nothing of the snapshot was written: \(run.stdoutText)")
        // Named as a device that is the terminal, the same.
        for device in ["/dev/tty", "/dev/stderr"] {
            let named = "'\(BinaryLocator.factpipe.path)' export --db '\(work.database)' -o \(device) --format csv -q"
            let viaDevice = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", named, "/dev/null"])
            #expect(viaDevice.status == 64, "\(device): \(viaDevice.stdoutText)")
            #expect(!viaDevice.stdoutText.contains("IsA(Dog"), "\(device): \(viaDevice.stdoutText)")
        }
        // Through a pipe it goes out as stored.
        let piped = try Factpipe.run(["export", "--db", work.database, "-o", "-", "--format", "csv", "-q"])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.contains(0x1B), "the stored escape goes out as it is")
    }
}

/// Names the user gave (files, pipeline names, databases) are printed as escapes wherever they appear: a
/// usage error printed them raw (an OSC title, a clear screen), a line feed in a name forged a whole line
/// (`factpipe: after: snapshot OK …` in a cron log), and `--json` carried C1 controls and direction
/// overrides as they were.
@Suite struct NameEscapingCommandTests {
    private static let forged = "factpipe: done: 0 errors"

    /// The lines of `text` that start as the forged one does.
    private func forgedLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix(Self.forged) }
    }

    @Test func aNameWithControlsAndALineFeedPrintsAsEscapesOnOneLine() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.ndjson", #"{"statement":"A(a)."}"# + "\n")
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let hostile = "x\u{1b}]0;owned\u{7}\u{1b}[2J\n\(Self.forged)"
        // A usage error (ArgumentParser's wording) quoting the name, and its --json object.
        let usage = try Factpipe.run(["import", input, "--db", work.database, "--rejects", work.path(hostile + "/r.ndjson")])
        #expect(usage.status == 64)
        #expect(TerminalEscapingCommandTests.terminalControls(Data(usage.stderr.utf8)).isEmpty, "\(usage.stderr)")
        #expect(forgedLines(usage.stderr).isEmpty && usage.stderr.contains("does not exist"), "\(usage.stderr)")
        let json = try Factpipe.run(["export", "--db", work.database, "-o", work.path("s\n\u{9b}q.gz"), "--json"])
        #expect(json.status == 64)
        let failure = try json.json()
        #expect((failure["message"] as? String)?.contains("not gzip; name it") == true, "\(failure)")
        #expect(TerminalEscapingCommandTests.terminalControls(json.stdout).isEmpty, "\(json.stdoutText)")
        // A command's failure, and the lines of export, verify, optimize and run naming files and the pipeline.
        let failed = try Factpipe.run(["loads", "--db", work.path(hostile)])
        #expect(failed.status == 1 && forgedLines(failed.stderr).isEmpty, "\(failed.stderr)")
        _ = try work.write(hostile + "-file", "")  // a file: the report's folder below is no folder
        let report = try Factpipe.run([
            "import", input, "--db", work.database, "--report", work.path(hostile + "-file/r.json"),
        ])
        #expect(report.stderr.contains("factpipe import: error:") && forgedLines(report.stderr).isEmpty, "\(report.stderr)")
        let snapshot = work.path("s\n\(Self.forged)\u{202e}.ndjson.zst")
        let export = try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(forgedLines(export.stderr).isEmpty, "\(export.stderr)")
        #expect(!export.stdoutText.contains("\u{202e}") && export.stdoutText.contains(#"\u202e"#), "\(export.stdoutText)")
        let verify = try Factpipe.run(["verify", snapshot])
        #expect(verify.status == 0 && forgedLines(verify.stderr).isEmpty, "\(verify.stderr)")
        let optimize = try Factpipe.run(["optimize", "--db", try copyOfDatabase(work, named: hostile)])
        #expect(optimize.status == 0, "\(optimize.stderr)")
        #expect(TerminalEscapingCommandTests.terminalControls(optimize.stdout).isEmpty, "\(optimize.stdoutText)")
        try FileManager.default.createDirectory(atPath: work.path("data"), withIntermediateDirectories: false)
        _ = try work.write("data/a\n\(Self.forged).ndjson", #"{"statement":"B(b)."}"# + "\n")
        let pipeline = try work.write("p.toml", """
            name = "nightly\\n\(Self.forged)"
            database = "\(work.database)"
            [sources]
            paths = ["\(work.path("data"))/*.ndjson"]
            """)
        for _ in 0..<2 {  // loaded, then skipped as loaded
            let run = try Factpipe.run(["run", pipeline])
            #expect(run.status == 0 && forgedLines(run.stderr).isEmpty, "\(run.stderr)")
        }
        let failing = try Factpipe.run(["run", pipeline, "--db", work.path("nowhere/kb.sqlite")])
        #expect(failing.status != 0 && forgedLines(failing.stderr).isEmpty, "\(failing.stderr)")
    }

    private func copyOfDatabase(_ work: CLIWorkspace, named name: String) throws -> String {
        let copy = work.path(name)
        try FileManager.default.copyItem(atPath: work.database, toPath: copy)
        return copy
    }
}
