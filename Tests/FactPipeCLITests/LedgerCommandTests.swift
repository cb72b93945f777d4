import Foundation
import Testing

/// The load ledger through the command line: what `import` records, `loads`, and skipping content
/// that was loaded before.
@Suite struct LedgerCommandTests {
    private static let facts = """
        {"statement":"HasPart(Computer, CPU).","confidence":0.9}
        {"statement":"HasPart(Computer, RAM)."}
        free text, not a fact
        {"statement":"HasPart(Computer,CPU)"}

        """

    private func isISO8601UTC(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        return text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z/) != nil
    }

    /// A row that says `running` while no process holds the writer lock is a load stopped by a kill or a
    /// crash: `loads` says so (it showed a dead load as live until the next writer came); while a process
    /// holds the lock, it says nothing.
    @Test func loadsSaysWhenARunningLoadHasNoProcessLeft() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["import", try work.write("a.txt", "P(a).\n"), "--db", work.database, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        try RawDatabase(work.database).execute("UPDATE factpipe_loads SET status = 'running'")
        let note = "load 1 says running, but no process holds the database's writer lock: it was stopped"
        for arguments in [["loads", "--db", work.database], ["loads", "--db", work.database, "--json"]] {
            let listed = try Factpipe.run(arguments)
            #expect(listed.status == 0 && listed.stderr.contains(note), "\(listed.stderr)")
        }
        let lock = open(work.database + "-factpipe.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        let held = try Factpipe.run(["loads", "--db", work.database])
        #expect(held.status == 0 && !held.stderr.contains("says running"), "\(held.stderr)")
    }

    /// A load running or stopped has records committed but not yet merged: its counts did not add up in
    /// `loads`, and nothing said how many were staged. `staged` says it, in the JSON always and in the table
    /// when a load has some.
    @Test func loadsSaysHowManyRecordsALoadHasStaged() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["import", try work.write("a.txt", "P(a).\nQ(b).\n"), "--db", work.database, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        let plain = try Factpipe.run(["loads", "--db", work.database])
        #expect(!plain.stdoutText.contains("staged"), "\(plain.stdoutText)")
        #expect(int(try #require(try JSONSerialization.jsonObject(with: try Factpipe.run(
            ["loads", "--db", work.database, "--json"]).stdout) as? [[String: Any]]).first ?? [:], "staged") == 0)
        // As a stopped load leaves its row: 5 more records committed than merged.
        try RawDatabase(work.database).execute("UPDATE factpipe_loads SET records = records + 5, status = 'running'")
        let json = try Factpipe.run(["loads", "--db", work.database, "--json"])
        let entry = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]]).first ?? [:]
        #expect(int(entry, "staged") == 5, "\(entry)")
        let table = try Factpipe.run(["loads", "--db", work.database])
        let lines = table.stdoutText.split(separator: "\n")
        #expect(lines.first?.contains("rejected  staged  started") == true, "\(table.stdoutText)")
        #expect(lines.last?.contains(" 0         5       ") == true, "\(table.stdoutText)")
    }

    /// Counts another program wrote into the ledger (or a damaged file holds) whose difference overflows: `loads`
    /// trapped on the subtraction (132, arithmetic overflow). The staged figure is held at the bound.
    @Test func loadsShowsALedgerRowWhoseCountsOverflow() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["import", try work.write("a.txt", "P(a).\n"), "--db", work.database, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        for (update, staged) in [("records = -9223372036854775808", Int.min),
                                 ("records = 9223372036854775807, inserted = -9223372036854775807", Int.max)] {
            try RawDatabase(work.database).execute("UPDATE factpipe_loads SET \(update)")
            let json = try Factpipe.run(["loads", "--db", work.database, "--json"])
            #expect(json.status == 0, "\(update): \(json.stderr)")
            let entry = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]]).first ?? [:]
            #expect(int(entry, "staged") == staged, "\(entry)")
            let table = try Factpipe.run(["loads", "--db", work.database])
            #expect(table.status == 0, "\(update): \(table.stderr)")
        }
    }

    @Test func importRecordsPathSizeHashTimesStatusCountsAndCheckpoint() throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.count == 1)
        let row = try #require(ledger.first)
        #expect(row["source"] as? String == input)
        #expect(int(row, "source_size") == Self.facts.utf8.count)
        #expect(row["source_sha256"] as? String == (try sha256sum(input)))
        #expect(row["format"] as? String == "ndjson")
        #expect(row["compression"] as? String == "none")
        #expect(row["conflict_policy"] as? String == "ignore")
        #expect(row["status"] as? String == "done")
        #expect(isISO8601UTC(row["started_at"]) && isISO8601UTC(row["finished_at"]), "\(row)")
        #expect((row["started_at"] as? String ?? "~") <= (row["finished_at"] as? String ?? ""))
        #expect(int(row, "records") == 4 && int(row, "inserted") == 2 && int(row, "duplicates") == 1)
        #expect(int(row, "rejected") == 1 && int(row, "updated") == 0 && int(row, "warnings") == 0)
        expectCountsAddUp(row)
        #expect(int(row, "checkpoint_offset") == Self.facts.utf8.count)
        #expect(int(row, "checkpoint_line") == 5)
        // The summary's loads name the row.
        let loads = try #require(try run.json()["loads"] as? [[String: Any]])
        #expect(loads.count == 1 && int(loads[0], "load_id") == int(row, "id"))
        #expect((try run.json()["skipped"] as? [Any])?.isEmpty == true)
    }

    @Test func loadsListsTheLedgerAsTextAndJSON() throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        _ = try Factpipe.run(["import", input, "--db", work.database, "-q"])
        let json = try Factpipe.run(["loads", "--db", work.database, "--json"])
        #expect(json.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        let stored = try SQLiteFile.ledger(work.database)
        #expect(list.count == 1)
        let entry = try #require(list.first)
        let row = try #require(stored.first)
        #expect(int(entry, "id") == int(row, "id"))
        #expect(entry["source"] as? String == input)
        #expect(int(entry, "size") == int(row, "source_size"))
        #expect(entry["sha256"] as? String == (try sha256sum(input)))
        #expect(entry["status"] as? String == "done")
        #expect(entry["started_at"] as? String == row["started_at"] as? String)
        #expect(entry["finished_at"] as? String == row["finished_at"] as? String)
        for key in ["records", "inserted", "updated", "duplicates", "rejected", "warnings", "checkpoint_offset",
                    "checkpoint_line"] {
            #expect(int(entry, key) == int(row, key), "\(key)")
        }
        #expect(entry["message"] is NSNull)

        let text = try Factpipe.run(["loads", "--db", work.database])
        #expect(text.status == 0)
        let lines = text.stdoutText.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("id  status") == true, "\(text.stdoutText)")
        #expect(lines.last?.hasPrefix("1   done    4") == true, "\(text.stdoutText)")
        #expect(lines.last?.hasSuffix(input) == true)
    }

    /// `loads` printed the whole ledger (161 MB for 100,000 loads): `--last N` lists the newest N, oldest first.
    @Test func loadsListsTheNewestLoadsWithLast() throws {
        let work = try CLIWorkspace()
        for index in 1...4 {
            let input = try work.write("f\(index).txt", "IsA(x\(index), y).\n")
            #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        }
        let json = try Factpipe.run(["loads", "--db", work.database, "--json", "--last", "2"])
        #expect(json.status == 0, "\(json.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        #expect(list.compactMap { int($0, "id") } == [3, 4])
        let text = try Factpipe.run(["loads", "--db", work.database, "--last", "9"])
        #expect(text.stdoutText.split(separator: "\n").count == 5, "\(text.stdoutText)")
        let zero = try Factpipe.run(["loads", "--db", work.database, "--last", "0"])
        #expect(zero.status == 64 && zero.stderr.contains("--last must be at least 1"), "\(zero.stderr)")
    }

    /// `loads --json` writes its array a load at a time (the whole ledger as one document took 305 MB at
    /// 100,000 loads): a row with a status factpipe never writes still fails it before a byte is printed.
    @Test func aLedgerRowWithAStatusFactpipeNeverWritesFailsLoadsBeforeItPrints() throws {
        let work = try CLIWorkspace()
        for index in 1...3 {
            let input = try work.write("f\(index).txt", "IsA(x\(index), y).\n")
            #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        }
        let edit = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "UPDATE factpipe_loads SET status = 'paused' WHERE id = 3"])
        #expect(edit.status == 0, "\(edit.stderr)")
        for arguments in [["--json"], []] {
            let run = try Factpipe.run(["loads", "--db", work.database] + arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("load 3 has the status \"paused\", which factpipe does not write"), "\(run.stderr)")
            #expect(!run.stdoutText.contains("f1.txt"), "\(arguments): \(run.stdoutText)")
        }
        // Only the rows shown are judged.
        let shown = try Factpipe.run(["loads", "--db", work.database, "--json", "--last", "2"])
        #expect(shown.status == 1, "\(shown.stderr)")
        let fine = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "UPDATE factpipe_loads SET status = 'paused' WHERE id = 1"])
        #expect(fine.status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "UPDATE factpipe_loads SET status = 'done' WHERE id = 3"])
        let window = try Factpipe.run(["loads", "--db", work.database, "--json", "--last", "2"])
        #expect(window.status == 0, "\(window.stderr)")
    }

    @Test func loadsOfAMissingOrForeignDatabaseFailsWithExitOne() throws {
        let work = try CLIWorkspace()
        let missing = try Factpipe.run(["loads", "--db", work.path("missing.sqlite")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: work.path("missing.sqlite")))
        try Factpipe.tool("/usr/bin/sqlite3", [work.path("other.db"), "CREATE TABLE t(x)"])
        let foreign = try Factpipe.run(["loads", "--db", work.path("other.db")])
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("not a factpipe database"), "\(foreign.stderr)")
    }

    @Test func contentLoadedBeforeIsSkippedAndReportedUnlessForced() throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.ndjson", Self.facts)
        _ = try Factpipe.run(["import", input, "--db", work.database, "-q"])
        let sha = try sha256sum(input)
        let reason = "the same content (SHA-256 \(sha.prefix(12))…) was loaded by load 1 from \(input); --force loads it again"

        let again = try Factpipe.run(["import", input, "--db", work.database, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let json = try again.json()
        #expect(json["status"] as? String == "done")
        #expect(int(json, "records") == 0)
        #expect((json["loads"] as? [Any])?.isEmpty == true)
        let skipped = try #require(json["skipped"] as? [[String: Any]])
        #expect(skipped.count == 1)
        #expect(skipped.first?["source"] as? String == input)
        #expect(skipped.first?["reason"] as? String == reason)
        #expect(again.stderr.contains("  skipped \(input): \(reason)\n"), "\(again.stderr)")
        #expect(try SQLiteFile.ledger(work.database).count == 1)

        // The same bytes under another name.
        let copy = work.path("yesterday-again.ndjson")
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let renamed = try Factpipe.run(["import", copy, "--db", work.database, "--json", "-q"])
        #expect(renamed.status == 0)
        let renamedSkip = try #require((try renamed.json()["skipped"] as? [[String: Any]])?.first)
        #expect(renamedSkip["source"] as? String == copy)
        #expect(renamedSkip["reason"] as? String == reason)
        #expect(try SQLiteFile.ledger(work.database).count == 1)

        // --force loads it: everything is a duplicate or a reject, in a new row with the same hash.
        let forced = try Factpipe.run(["import", copy, "--db", work.database, "--force", "--json", "-q"])
        #expect(forced.status == 2)
        let forcedJSON = try forced.json()
        #expect((forcedJSON["skipped"] as? [Any])?.isEmpty == true)
        #expect(int(forcedJSON, "records") == 4 && int(forcedJSON, "duplicates") == 3 && int(forcedJSON, "inserted") == 0)
        let rows = try SQLiteFile.ledger(work.database)
        #expect(rows.map { $0["source"] as? String } == [input, copy])
        #expect(rows.map { $0["source_sha256"] as? String } == [sha, sha])
        #expect(rows.map { $0["status"] as? String } == ["done", "done"])
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
    }

    @Test func changedContentUnderTheSameNameIsLoaded() throws {
        let work = try CLIWorkspace()
        let input = try work.write("daily.txt", "P(a).\n")
        _ = try Factpipe.run(["import", input, "--db", work.database, "-q"])
        try work.write("daily.txt", "P(a).\nP(b).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0)
        #expect((try run.json()["skipped"] as? [Any])?.isEmpty == true)
        #expect(int(try run.json(), "inserted") == 1)
        let hashes = try SQLiteFile.strings(work.database, "SELECT source_sha256 FROM factpipe_loads ORDER BY id")
        #expect(hashes.count == 2 && hashes[0] != hashes[1])
        #expect(hashes[1] == (try sha256sum(input)))
    }

    @Test func aCopyGivenInTheSameCommandIsSkippedToo() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.ndjson", Self.facts)
        let copy = work.path("b.ndjson")
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let run = try Factpipe.run(["import", input, copy, "--db", work.database, "--json", "-q"])
        let json = try run.json()
        // By the time the copy is read, its content is in the ledger as loaded by the first input.
        let skipped = (json["skipped"] as? [[String: Any]])?.compactMap { $0["source"] as? String }
        #expect(skipped == [copy], "\(json)")
        #expect(try SQLiteFile.ledger(work.database).count == 1)
    }
}
