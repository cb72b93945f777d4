import Foundation
import Testing

/// `factpipe import` through the built binary: output, exit codes, inputs, rejects.
@Suite struct ImportCommandTests {
    static let clean = """
        HasPart(Computer, CPU).
        LäuftAuf(Windows)
        Einwohner(Berlin, 3669491).

        """
    static let withRejects = """
        HasPart(Computer, CPU).
        free text without brackets
        CausedBy(A, B(C, D).
        Einwohner(Berlin, 3669491).

        """

    @Test func jsonSummaryHasEveryKeyWithTheCounts() throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", """
            {"statement":"HasPart(Computer, CPU).","subject":"computer"}
            {"statement":"HasPart( Computer ,CPU )"}
            {"statement":"Broken(,"}
            {"predicate":"IsA","subject":"Socrates","object":"Human"}

            """)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "--quiet"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stdoutText.hasSuffix("}\n"))
        #expect(run.stdoutText.filter { $0 == "\n" }.count == 1, "one line of JSON")
        let json = try run.json()
        for key in [
            "status", "records", "inserted", "updated", "duplicates", "rejected", "warnings", "seconds",
            "facts_per_second", "peak_rss_bytes",
        ] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["status"] as? String == "done")
        #expect(int(json, "records") == 4)
        #expect(int(json, "inserted") == 2)
        #expect(int(json, "updated") == 0)
        #expect(int(json, "duplicates") == 1)
        #expect(int(json, "rejected") == 1)
        #expect(int(json, "warnings") == 1)
        expectCountsAddUp(json)
        let seconds = try #require(json["seconds"] as? NSNumber).doubleValue
        #expect(seconds >= 0 && seconds < 60)
        #expect(try #require(json["facts_per_second"] as? NSNumber).doubleValue >= 0)
        #expect(try #require(int(json, "peak_rss_bytes")) > 1_000_000)
        #expect(json["interrupted"] as? Bool == false)
        let loads = try #require(json["loads"] as? [[String: Any]])
        #expect(loads.count == 1)
        #expect(loads.first?["source"] as? String == input)
        #expect(loads.first?["format"] as? String == "ndjson")
        #expect(loads.first?["compression"] as? String == "none")
        #expect(loads.first?["status"] as? String == "done")
        #expect(int(loads[0], "load_id") == 1)
        expectCountsAddUp(loads[0])
    }

    /// The peak RSS a load reports is its own, also when the program that started it is large: it was the
    /// starting program's (`getrusage` counts the memory of the process before `exec`), 643 MB for a load
    /// of 33 MB started by a Python script of 600 MB.
    @Test func thePeakRSSIsTheLoadsOwnWhenALargeProgramStartedIt() throws {
        let work = try CLIWorkspace()
        let input = try work.write("clean.txt", Self.clean)
        let size = 768 << 20
        let held = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4_096)
        defer { held.deallocate() }
        for offset in stride(from: 0, to: size, by: 4_096) { held[offset] = 1 }
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let peak = try #require(int(try run.json(), "peak_rss_bytes"))
        #expect(peak > 1_000_000 && peak < 384 << 20, "peak RSS \(peak) bytes")
        withExtendedLifetime(held) {}
    }

    @Test func cleanLoadExitsZeroWithAHumanSummaryOnStandardError() throws {
        let work = try CLIWorkspace()
        let input = try work.write("clean.txt", Self.clean)
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("factpipe: done: 3 records: 3 inserted, 0 updated, 0 duplicates, 0 rejected, 0 warnings in "))
        #expect(run.stderr.contains("facts/s, peak RSS "))
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == [
            "Einwohner(Berlin, 3669491).", "HasPart(Computer, CPU).", "LäuftAuf(Windows).",
        ])
    }

    @Test func loadWithRejectsExitsTwoAndNamesThemOnStandardError() throws {
        let work = try CLIWorkspace()
        let input = try work.write("rejects.txt", Self.withRejects)
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 2)
        #expect(run.stderr.contains("  rejected \(input):2: syntax_error: statement: column "))
        #expect(run.stderr.contains("  rejected \(input):3: syntax_error: statement: column 9: '(' is never closed"))
        #expect(run.stderr.contains("factpipe: done: 4 records: 2 inserted, 0 updated, 0 duplicates, 2 rejected"))
    }

    @Test func quietPrintsNothingOnStandardError() throws {
        let work = try CLIWorkspace()
        let input = try work.write("rejects.txt", Self.withRejects)
        let quiet = try Factpipe.run(["import", input, "--db", work.database, "--quiet"])
        #expect(quiet.status == 2)
        #expect(quiet.stderr.isEmpty)
        #expect(quiet.stdout.isEmpty)
        let short = try Factpipe.run(["import", input, "--db", work.path("other.sqlite"), "-q", "--json"])
        #expect(short.stderr.isEmpty)
        #expect(try short.json()["status"] as? String == "done")
    }

    /// `--quiet` leaves out the summary, not the reason a load stopped: a job's log must say why it failed.
    @Test func quietStillSaysWhyALoadStopped() throws {
        let work = try CLIWorkspace()
        let missing = work.path("no-such-input.ndjson")
        let failed = try Factpipe.run(["import", missing, "--db", work.database, "--quiet"])
        #expect(failed.status == 1)
        #expect(failed.stderr == "factpipe: \(missing): cannot open: No such file or directory\n", "\(failed.stderr)")

        let input = try work.write("rejects.txt", Self.withRejects)
        let aborted = try Factpipe.run(["import", input, "--db", work.path("other.sqlite"), "-q", "--max-errors", "0"])
        #expect(aborted.status == 3)
        let lines = aborted.stderr.split(separator: "\n")
        #expect(lines.count == 1 && !lines[0].contains("records:"), "\(aborted.stderr)")

        _ = try work.write("broken.ndjson.gz", Data([0x1F, 0x8B, 0x08, 0x00] + Array("garbage".utf8)))
        let pipeline = try work.write("nightly.toml", """
            name = "nightly"
            database = "kb.sqlite"
            [sources]
            paths = ["broken.ndjson.gz"]
            """)
        let run = try Factpipe.run(["run", pipeline, "--quiet"])
        #expect(run.status == 1, "\(run.stderr)")
        let runLines = run.stderr.split(separator: "\n")
        #expect(runLines.count == 1 && runLines[0].hasPrefix("factpipe: nightly: ")
                && runLines[0].contains("broken.ndjson.gz: gzip"), "\(run.stderr)")
    }

    @Test func maxErrorsZeroWithABadRecordExitsThree() throws {
        let work = try CLIWorkspace()
        let input = try work.write("rejects.txt", Self.withRejects)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--max-errors", "0", "--json"])
        #expect(run.status == 3)
        let json = try run.json()
        #expect(json["status"] as? String == "aborted")
        expectCountsAddUp(json)
        #expect((json["message"] as? String)?.contains("more than 0 records rejected (--max-errors 0)") == true)
        // It counts what was committed: the refusal that stopped it was rolled back with its batch.
        #expect(run.stderr.contains("factpipe: aborted: 0 records committed: 0 inserted, "), "\(run.stderr)")
        #expect(run.stderr.contains("--max-errors 0"))
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "aborted")
    }

    @Test func aConflictUnderOnConflictFailExitsThree() throws {
        let work = try CLIWorkspace()
        let first = try work.write("first.txt", "HasPart(Computer, CPU).\n")
        let second = try work.write("second.txt", "IsA(Socrates, Human).\nHasPart(Computer,CPU)\n")
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        let run = try Factpipe.run(["import", second, "--db", work.database, "--on-conflict", "fail", "--json"])
        #expect(run.status == 3)
        let json = try run.json()
        #expect(json["status"] as? String == "aborted")
        #expect(json["message"] as? String == "\(second):2: HasPart(Computer, CPU). is already in the database (--on-conflict fail)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 1)
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { $0["status"] as? String } == ["done", "aborted"])
        #expect(ledger.last?["conflict_policy"] as? String == "fail")
    }

    @Test func onConflictReplaceAndUpdateAreAccepted() throws {
        let work = try CLIWorkspace()
        let first = try work.write("first.ndjson", #"{"statement":"P(a).","confidence":0.2,"context":{"a":1}}"# + "\n")
        let second = try work.write("second.ndjson", #"{"statement":"P(a).","confidence":0.7,"context":{"b":2}}"# + "\n")
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        let update = try Factpipe.run(["import", second, "--db", work.database, "--on-conflict", "UPDATE", "--json", "-q"])
        #expect(update.status == 0)
        #expect(int(try update.json(), "updated") == 1)
        let row = try #require(try SQLiteFile.rows(work.database, "SELECT confidence, context FROM facts").first)
        // sqlite3 -json prints 20 significant digits; compare as a number.
        #expect(abs(((row["confidence"] as? NSNumber)?.doubleValue ?? 0) - 0.7) < 1e-12)
        #expect(row["context"] as? String == #"{"a":1,"b":2}"#)
        // The ledger has first.ndjson's content as loaded: --force loads it again.
        let replace = try Factpipe.run(
            ["import", first, "--db", work.database, "--on-conflict", "replace", "--force", "--json", "-q"])
        #expect(int(try replace.json(), "updated") == 1)
        #expect(try SQLiteFile.strings(work.database, "SELECT context FROM facts") == [#"{"a":1}"#])
    }

    @Test func aMissingInputFileExitsOneAndNamesIt() throws {
        let work = try CLIWorkspace()
        let missing = work.path("missing.ndjson")
        let run = try Factpipe.run(["import", missing, "--db", work.database, "--json"])
        #expect(run.status == 1)
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        #expect(json["message"] as? String == "\(missing): cannot open: No such file or directory")
        #expect(run.stderr.contains("factpipe: \(missing): cannot open: No such file or directory"))
    }

    @Test func truncatedZstdInputExitsOneAfterCommittingWholeBatches() throws {
        let work = try CLIWorkspace()
        let generated = work.path("generated.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "20000", "-o", generated, "-q"]).status == 0)
        let compressed = work.path("generated.ndjson.zst")
        try Factpipe.tool("/usr/bin/zstd", ["-q", "-f", generated, "-o", compressed])
        let whole = try Data(contentsOf: URL(fileURLWithPath: compressed))
        let truncated = try work.write("truncated.ndjson.zst", whole.prefix(whole.count * 2 / 3))
        let run = try Factpipe.run(["import", truncated, "--db", work.database, "--batch-size", "1000", "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        #expect(message.hasPrefix("\(truncated): "))
        #expect(message.contains("zstd"))
        #expect(run.stderr.contains("factpipe: \(truncated): "))
        expectCountsAddUp(json)
        let records = try #require(int(json, "records"))
        #expect(records > 0 && records < 20_000)
        #expect(records % 1_000 == 0)
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        expectCountsAddUp(ledger)
        #expect(ledger["status"] as? String == "failed")
        #expect(ledger["compression"] as? String == "zstd")
        #expect(int(ledger, "records") == records)
        #expect(int(ledger, "inserted") == int(json, "inserted"))
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == int(json, "inserted"))
    }

    @Test(arguments: [
        ["import", "--db", "DB"],
        ["import", "IN", "--db", "DB", "--frobnicate"],
        ["import", "IN", "--db", "DB", "--batch-size", "0"],
        ["import", "IN", "--db", "DB", "--batch-size", "-5"],
        ["import", "IN", "--db", "DB", "--batch-size", "many"],
        ["import", "IN"],
        ["import", "IN", "--db", "DB", "--format", "xml"],
        ["import", "IN", "--db", "DB", "--on-conflict", "merge"],
        ["import", "IN", "--db", "DB", "--max-errors", "-1"],
        ["import", "-", "-", "--db", "DB"],
        ["import", "IN", "--db", "DB", "--max-record-bytes", "10"],
    ])
    func usageErrorsExitSixtyFourWithoutTouchingTheDatabase(arguments: [String]) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", Self.clean)
        let resolved = arguments.map { $0 == "IN" ? input : $0 == "DB" ? work.database : $0 }
        let run = try Factpipe.run(resolved)
        #expect(run.status == 64, "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains("Error:"))
        #expect(run.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work.database))
    }

    @Test func readsStandardInputFromADash() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["import", "-", "--db", work.database, "--json", "-q"], stdin: Data(Self.clean.utf8))
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "inserted") == 3)
        let load = try #require((json["loads"] as? [[String: Any]])?.first)
        #expect(load["source"] as? String == "-")
        #expect(load["format"] as? String == "text")
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(ledger["source"] as? String == "-")
        #expect(ledger["source_size"] is NSNull)
        #expect(int(ledger, "checkpoint_offset") == Self.clean.utf8.count)
    }

    @Test func readsCompressedCSVFromStandardInput() throws {
        let work = try CLIWorkspace()
        let csv = "statement,confidence,source\n\"HasPart(Computer, CPU).\",0.5,stdin\nIsA(Socrates),1,stdin\n"
        let plain = try work.write("facts.csv", csv)
        let gzipped = try Factpipe.tool("/usr/bin/gzip", ["-c", plain]).stdout
        let run = try Factpipe.run(["import", "-", "--db", work.database, "--format", "csv", "--json", "-q"], stdin: gzipped)
        #expect(run.status == 0, "\(run.stderr)")
        let load = try #require((try run.json()["loads"] as? [[String: Any]])?.first)
        #expect(load["compression"] as? String == "gzip")
        #expect(load["format"] as? String == "csv")
        let rows = try SQLiteFile.rows(work.database, "SELECT statement, confidence, source FROM facts ORDER BY id")
        #expect(rows.map { $0["statement"] as? String } == ["HasPart(Computer, CPU).", "IsA(Socrates)."])
        #expect(rows.map { ($0["confidence"] as? NSNumber)?.doubleValue } == [0.5, 1.0])
        #expect(rows.map { $0["source"] as? String } == ["stdin", "stdin"])
    }

    /// A slow pipe's first record is committed as it comes, however short: the reader looks for another
    /// compression's magic number in what has arrived, never waiting for more bytes.
    @Test func aShortFirstRecordFromASlowPipeIsCommittedAsItComes() throws {
        let work = try CLIWorkspace()
        let load = try PipedLoad(["import", "-", "--db", work.database, "--format", "text", "--batch-size", "1", "-q"])
        try load.feed("P(a).\n", committing: 1, in: work.database)
        try load.feed("Q(b).\n", committing: 2, in: work.database)
        #expect(try load.finish().status == 0)
    }

    /// `-hourly.txt` read as `-h -o -u …` printed the help and exited 0, loading nothing; `run` and
    /// `--json` alike. It is refused (64) with how to name such a file; `-h` alone is still the help.
    @Test func aFileNameThatReadsAsTheHelpFlagIsRefused() throws {
        let work = try CLIWorkspace()
        for arguments in [["import", "-hourly.txt", "--db", work.database], ["run", "-nightly.toml", "--dry-run"]] {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 64, "\(arguments): \(run.stdoutText)")
            #expect(run.stderr.contains("is not an option; a file whose name starts with '-' is given as ./-"), "\(run.stderr)")
            #expect(!run.stdoutText.contains("OVERVIEW"))
        }
        let json = try Factpipe.run(["import", "--json", "-hourly.txt", "--db", work.database])
        let object = try json.json()
        #expect(json.status == 64 && object["exit_code"] as? Int == 64)
        #expect(try Factpipe.run(["import", "-h"]).stdoutText.contains("OVERVIEW"))
        #expect(try Factpipe.run(["import", "-qh"]).stdoutText.contains("OVERVIEW"))
        #expect(!FileManager.default.fileExists(atPath: work.database))
        // A short option's value given with `=` is a value, whatever letters it holds.
        let attached = try Factpipe.run(["generate", "--facts", "3", "-o=\(work.path("hourly.ndjson"))", "-q"])
        #expect(attached.status == 0, "\(attached.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.path("hourly.ndjson")))
    }

    /// An input this user may not read fails the load before the database and its lock are made, as a
    /// missing one does (they were left behind).
    @Test func anUnreadableInputFailsBeforeTheDatabaseIsMade() throws {
        let work = try CLIWorkspace()
        let input = try work.write("secret.txt", "P(a, b).\n")
        try openToEveryone(work)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: input)
        let run = try runFactpipeUnprivileged(["import", input, "--db", work.path("kb.sqlite")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("secret.txt: cannot open: Permission denied"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path) == ["secret.txt"])
    }

    @Test func gzipAndZstdFilesMadeByTheirToolsAreRecognisedByContent() throws {
        let work = try CLIWorkspace()
        let plain = try work.write("facts.ndjson", (0..<500).map { #"{"statement":"Item(n\#($0), \#($0 * 3))."}"# }
            .joined(separator: "\n") + "\n")
        try Factpipe.tool("/usr/bin/zstd", ["-q", "-f", plain, "-o", work.path("facts.zst")])
        let gz = try Factpipe.tool("/usr/bin/gzip", ["-c", plain]).stdout
        let gzPath = try work.write("facts.data", gz)
        let run = try Factpipe.run(["import", gzPath, work.path("facts.zst"), plain, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect((int(json, "records"), int(json, "inserted"), int(json, "duplicates")) == (1_500, 500, 1_000))
        let loads = try #require(json["loads"] as? [[String: Any]])
        #expect(loads.map { $0["compression"] as? String } == ["gzip", "zstd", "none"])
        #expect(loads.map { $0["format"] as? String } == ["ndjson", "ndjson", "ndjson"])
        #expect(loads.map { int($0, "inserted") } == [500, 0, 0])
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { int($0, "checkpoint_offset") } == Array(repeating: try work.size(plain), count: 3))
        #expect(ledger.map { int($0, "source_size") } == [try work.size(gzPath), try work.size(work.path("facts.zst")), try work.size(plain)])
    }

    @Test func rejectsFileHoldsOneJSONLinePerRefusedRecord() throws {
        let work = try CLIWorkspace()
        let input = try work.write("rejects.txt", Self.withRejects)
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "-q"])
        #expect(run.status == 2)
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(lines.count == 2)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["source"] as? String } == [input, input])
        #expect(objects.map { int($0, "line") } == [2, 3])
        #expect(objects.map { int($0, "offset") } == [24, 51])
        #expect(objects.map { $0["reason"] as? String } == ["syntax_error", "syntax_error"])
        #expect(objects.map { $0["record"] as? String } == ["free text without brackets", "CausedBy(A, B(C, D)."])
        #expect(objects.allSatisfy { ($0["message"] as? String)?.hasPrefix("statement: column ") == true })
    }

    @Test func strictPartsAndLimitFlagsRefuseRecords() throws {
        let work = try CLIWorkspace()
        let input = try work.write("parts.ndjson", """
            {"statement":"HasPurpose(DNA, Replication).","subject":"Dna"}
            {"statement":"Composition(Symphony, Beethoven, 9th, Ode, Joy)."}
            {"statement":"Fine(a, b)."}

            """)
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run([
            "import", input, "--db", work.database, "--strict-parts", "--max-args", "4", "--rejects", rejects, "--json", "-q",
        ])
        #expect(run.status == 2)
        let json = try run.json()
        #expect((int(json, "inserted"), int(json, "rejected"), int(json, "warnings")) == (1, 2, 0))
        let reasons = try work.read("rejects.ndjson").split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["reason"] as? String
        }
        #expect(reasons == ["parts_disagree", "limit_exceeded"])
    }

    @Test func atomicLoadThatAbortsLeavesNoFacts() throws {
        let work = try CLIWorkspace()
        let input = try work.write("rejects.txt", Self.withRejects)
        let run = try Factpipe.run([
            "import", input, "--db", work.database, "--atomic", "--batch-size", "1", "--max-errors", "1", "--json", "-q",
        ])
        #expect(run.status == 3)
        #expect(int(try run.json(), "inserted") == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        #expect(try SQLiteFile.ledger(work.database).first?["status"] as? String == "aborted")
    }

    @Test func humanSummaryShowsTenRejectsAndCountsTheRest() throws {
        let work = try CLIWorkspace()
        let input = try work.write("many.txt", (1...12).map { "free text \($0)" }.joined(separator: "\n") + "\nP(a).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("  rejected \(input):") }.count == 10)
        #expect(lines.contains("  … 2 more rejected (see --rejects FILE)"))
        #expect(lines.last?.hasPrefix("factpipe: done: 13 records: 1 inserted, 0 updated, 0 duplicates, 12 rejected") == true)
    }

    @Test func anUnwritableRejectsFileOrDatabaseIsRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("clean.txt", Self.clean)
        // A rejects file in a folder that does not exist is a usage error, before the database is created.
        let rejects = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "/nonexistent-factpipe-dir/r.ndjson"])
        #expect(rejects.status == 64)
        #expect(rejects.stderr.contains("--rejects /nonexistent-factpipe-dir/r.ndjson: the directory /nonexistent-factpipe-dir does not exist"))
        #expect(!FileManager.default.fileExists(atPath: work.database))
        let database = try Factpipe.run(["import", input, "--db", "/nonexistent-factpipe-dir/kb.sqlite", "--json"])
        #expect(database.status == 1)
        let message = try #require(try database.json()["message"] as? String)
        #expect(message.hasPrefix("/nonexistent-factpipe-dir/kb.sqlite: cannot open database"))
    }

    @Test func aDatabaseFactpipeDidNotCreateIsRefusedWithExitOne() throws {
        let work = try CLIWorkspace()
        try Factpipe.tool("/usr/bin/sqlite3", [work.database, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1);"])
        let input = try work.write("clean.txt", Self.clean)
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a factpipe database (user_version 0, tables: notes)"))
        #expect(try SQLiteFile.strings(work.database, "SELECT name FROM sqlite_schema") == ["notes"])
    }

    /// A compressed input that fails its checksum at its end has its load undone; the summary said "failed:
    /// 32,000 records committed: 32,000 inserted" over a database holding none of them, and the report and
    /// metrics files counted them inserted. The head says they were taken back, and `deleted_by_undo` how many.
    @Test func aLoadUndoneForItsDamagedInputSaysWhatItTookBack() throws {
        let work = try CLIWorkspace()
        let plain = try work.write("in.txt", (0..<40_000).map { "IsA(E\($0), T).\n" }.joined())
        try Factpipe.tool("/usr/bin/zstd", ["-q", plain, "-o", work.path("in.zst")])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: work.path("in.zst"))))
        bytes[bytes.count - 2] ^= 0x10  // inside the frame's checksum
        let damaged = work.path("bad.zst")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let json = try Factpipe.run(["import", damaged, "--db", work.database, "--batch-size", "1000", "--json"])
        #expect(json.status == 1, "\(json.stderr)")
        let object = try json.json()
        let inserted = try #require(object["inserted"] as? Int)
        #expect(inserted > 0)
        #expect(object["deleted_by_undo"] as? Int == inserted, "\(object)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        let grouped = String(inserted).reversed().enumerated()
            .map { $0.offset > 0 && $0.offset % 3 == 0 ? ",\($0.element)" : "\($0.element)" }.joined().reversed()
        #expect(json.stderr.contains("records committed, then undone (\(String(grouped)) facts deleted again): "),
                "\(json.stderr)")
    }
}
