import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `import --resume` after `kill -9`: the result is the database an uninterrupted load gives.
@Suite struct ResumeCommandTests {
    /// Generates `facts` records, starts `import` into `database` and kills it with SIGKILL once at least
    /// `afterRecords` are committed; doubles the input and tries again (up to three times) when the
    /// load finished first. `prepare` fills the new database before the load (given the input and the
    /// database). Returns the input and how many records the killed load had committed.
    private func killedLoad(
        _ work: CLIWorkspace, facts: Int, seed: Int, format: String = "ndjson", database: String,
        afterRecords: Int, extra: [String] = [], generating: [String] = [],
        prepare: (String, String) throws -> Void = { _, _ in }
    ) throws -> (input: String, committed: Int) {
        var count = facts
        for attempt in 1...3 {
            let input = work.path("facts-\(count).\(format)")
            let generate = try Factpipe.run([
                "generate", "--facts", "\(count)", "--seed", "\(seed)", "--format", format, "--invalid-rate", "0.01",
                "-o", input, "-q",
            ] + generating)
            try #require(generate.status == 0, "\(generate.stderr)")
            try? FileManager.default.removeItem(atPath: database)
            try? FileManager.default.removeItem(atPath: database + "-wal")
            try? FileManager.default.removeItem(atPath: database + "-shm")
            try prepare(input, database)
            let load = try BackgroundProcess(BinaryLocator.factpipe,
                                             ["import", input, "--db", database, "--batch-size", "1000", "-q"] + extra)
            let query = "SELECT coalesce(max(records), 0) FROM factpipe_loads WHERE status = 'running'"
            poll(timeout: 60) { !load.isRunning || (readOnlyInt(database, query) ?? 0) >= afterRecords }
            load.killNine()
            try load.wait()
            if load.wasKilled {
                let committed = try SQLiteFile.int(
                    database, "SELECT records FROM factpipe_loads WHERE status = 'running' ORDER BY id DESC LIMIT 1")
                return (input, committed)
            }
            Issue.record("attempt \(attempt): the load of \(count) facts finished before the kill; trying with more")
            count *= 2
        }
        throw CLITestFailure(description: "every load finished before it could be killed")
    }

    @Test func resumeAfterKillNineGivesTheDatabaseOfAnUninterruptedLoad() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, committed) = try killedLoad(work, facts: 200_000, seed: 17, database: victim, afterRecords: 20_000)

        // What kill -9 left: the ledger row still running, its committed batches staged, nothing merged.
        let killed = try #require(try SQLiteFile.ledger(victim).first)
        #expect(killed["status"] as? String == "running")
        #expect(committed >= 20_000 && committed % 1_000 == 0, "\(committed)")
        #expect(int(killed, "checkpoint_line") == committed + 1)
        let staged = try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging")
        #expect(staged > 0)
        let lockText = try String(contentsOfFile: victim + "-factpipe.lock", encoding: .utf8)
        #expect(lockText.hasPrefix("pid ") && lockText.contains("import of \(input)"), "\(lockText)")

        // The reference load runs beside the resume (other database, same input).
        let referenceDB = work.path("reference.sqlite")
        let reference = try BackgroundProcess(BinaryLocator.factpipe,
                                              ["import", input, "--db", referenceDB, "--batch-size", "1000", "-q"])
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000", "--resume", "--json", "-q"])
        let referenceRun = try reference.wait()
        #expect(referenceRun.status == 2, "\(referenceRun.stderr)")
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect(json["status"] as? String == "done")
        let records = try SQLiteFile.int(referenceDB, "SELECT records FROM factpipe_loads")
        #expect(int(json, "records") == records - committed, "the resumed run reads only what was not committed")
        let loads = try #require(json["loads"] as? [[String: Any]])
        #expect(loads.map { int($0, "load_id") } == [1], "the interrupted ledger row is continued")
        // The staged batches merged first are not this run's counts: a note says what their merge did.
        let merge = (json["notes"] as? [String] ?? []).filter { $0.hasPrefix("merged the batches load 1 committed") }
        #expect(merge.count == 1, "\(json["notes"] ?? "")")
        let said = (merge.first ?? "").split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(said.count == 4 && said[1] + said[2] + said[3] == staged, "\(merge) of \(staged) staged rows")

        #expect(try factDump(victim) == (try factDump(referenceDB)))
        #expect(try ledgerDump(victim) == (try ledgerDump(referenceDB)))
        #expect(try SQLiteFile.strings(victim, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_loads") == 1)
        let row = try #require(try SQLiteFile.ledger(victim).first)
        expectCountsAddUp(row)
        #expect(row["started_at"] as? String == killed["started_at"] as? String)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts") == int(row, "inserted"))
        // The secondary indexes are there, as after an uninterrupted load.
        let indexes = "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts' AND sql IS NOT NULL ORDER BY name"
        #expect(try SQLiteFile.strings(victim, indexes) == (try SQLiteFile.strings(referenceDB, indexes)))
    }

    /// `--max-errors` counts the refusals before the kill: the resumed load stops where an uninterrupted
    /// one stops. (The resume counted only its own, read on past the limit and ended `done`.)
    @Test func aResumedLoadStopsAtMaxErrorsWhereAnUninterruptedOneStops() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let limit = ["--max-errors", "1200"]
        let (input, committed) = try killedLoad(
            work, facts: 200_000, seed: 23, database: victim, afterRecords: 30_000, extra: limit)
        let rejectedBeforeKill = try SQLiteFile.int(victim, "SELECT rejected FROM factpipe_loads")
        #expect(rejectedBeforeKill > 100, "the killed load had refused records: \(rejectedBeforeKill) by record \(committed)")

        let referenceDB = work.path("reference.sqlite")
        let reference = try Factpipe.run(["import", input, "--db", referenceDB, "--batch-size", "1000", "-q"] + limit)
        #expect(reference.status == 3, "the limit stops the uninterrupted load: \(reference.stderr)")
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000", "--resume", "-q"] + limit)
        #expect(resumed.status == 3, "\(resumed.stderr)")
        #expect(try ledgerDump(victim) == (try ledgerDump(referenceDB)))
        #expect(try factDump(victim) == (try factDump(referenceDB)))
    }

    /// A load the limit stopped, resumed with the same limit, stops again at its next refusal; with a
    /// higher one, it ends as a load given that limit from the start.
    @Test func aLoadStoppedByMaxErrorsResumesWithinTheSameBudget() throws {
        let work = try CLIWorkspace()
        var text = ""
        for line in 1...12_000 { text += line % 1_000 == 500 ? "bad line \(line)\n" : "P(a\(line)).\n" }
        let input = try work.write("input.txt", text)
        func load(_ database: String, _ extra: [String]) throws -> FactpipeRun {
            try Factpipe.run(["import", input, "--db", database, "--batch-size", "1000", "-q"] + extra)
        }
        let stopped = try load(work.database, ["--max-errors", "5"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        #expect(try SQLiteFile.ledger(work.database).map { int($0, "rejected") } == [5])

        let again = try load(work.database, ["--max-errors", "5", "--resume"])
        #expect(again.status == 3, "\(again.stderr)")
        #expect(again.stderr.contains("input.txt:5500"), "it stops at the next refusal: \(again.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 4_995)

        let reference = work.path("reference.sqlite")
        #expect(try load(reference, ["--max-errors", "8"]).status == 3)
        let higher = try load(work.database, ["--max-errors", "8", "--resume"])
        #expect(higher.status == 3, "\(higher.stderr)")
        #expect(try ledgerDump(work.database) == (try ledgerDump(reference)))
        // The input gives no created_at: each load stamps its own time, so the rest is compared.
        let facts = "SELECT statement || ' ' || confidence || ' ' || load_id FROM facts ORDER BY statement"
        #expect(try SQLiteFile.strings(work.database, facts) == (try SQLiteFile.strings(reference, facts)))
        #expect(try SQLiteFile.int(reference, "SELECT count(*) FROM facts") == 7_992)
    }

    /// Each assertion as its load and the statement it asserts, but for those of a fact's own load
    /// (a resumed load may assert its own earlier facts, which means nothing to undo).
    private func assertionDump(_ database: String) throws -> [String] {
        try SQLiteFile.strings(database, """
            SELECT a.load_id || ' ' || f.statement FROM factpipe_assertions AS a JOIN facts AS f ON f.id = a.fact_id
            WHERE f.load_id IS NOT a.load_id ORDER BY 1
            """)
    }

    /// A load into a table smaller than the load appends straight to `facts`, its unique index dropped;
    /// killed and resumed, it ends as an uninterrupted load into the same table does.
    @Test func resumeAfterKillNineOfALoadIntoASmallTable() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let seedDB = work.path("seed.sqlite")
        let (input, committed) = try killedLoad(
            work, facts: 200_000, seed: 29, database: victim, afterRecords: 20_000
        ) { input, database in
            // The table: every 50th record of the input, so that repeats of it come before and after the kill.
            try seedWithEveryFiftiethRecord(of: input, seedDB: seedDB, database: database, work)
        }
        // What kill -9 left: the load running, the unique index dropped for its direct appends.
        let killed = try #require(try SQLiteFile.ledger(victim).last)
        #expect(killed["status"] as? String == "running")
        #expect(int(killed, "id") == 2)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM sqlite_schema WHERE name = 'facts_statement'") == 0)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE load_id = 2") > 0)

        let referenceDB = work.path("reference.sqlite")
        try FileManager.default.copyItem(atPath: seedDB, toPath: referenceDB)
        let reference = try Factpipe.run(["import", input, "--db", referenceDB, "--batch-size", "1000", "-q"])
        #expect(reference.status == 2, "\(reference.stderr)")
        let resumed = try Factpipe.run(
            ["import", input, "--db", victim, "--batch-size", "1000", "--resume", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect(json["status"] as? String == "done")
        let records = try SQLiteFile.int(referenceDB, "SELECT records FROM factpipe_loads WHERE id = 2")
        #expect(int(json, "records") == records - committed, "the resumed run reads only what was not committed")

        #expect(try factDump(victim) == (try factDump(referenceDB)))
        #expect(try ledgerDump(victim) == (try ledgerDump(referenceDB)))
        let assertions = try assertionDump(referenceDB)
        #expect(assertions.count >= 1_000, "the load brings the table's facts again")
        #expect(try assertionDump(victim) == assertions)
        #expect(try SQLiteFile.strings(victim, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
        let row = try #require(try SQLiteFile.ledger(victim).last)
        expectCountsAddUp(row)
        let indexes = "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts' "
            + "AND sql IS NOT NULL ORDER BY name"
        #expect(try SQLiteFile.strings(victim, indexes) == (try SQLiteFile.strings(referenceDB, indexes)))
        #expect(try SQLiteFile.strings(victim, indexes).contains("facts_statement"))
    }

    /// Recovery of a direct load killed in a non-empty table moves only rows appended after the load
    /// began: an old fact keeps its id, a copy another program added while the unique index was out is
    /// dropped (as the index would have ignored it), and the load's staged rows are all merged.
    /// Loads every 50th record of `input` into `seedDB` (kept as the reference's starting point) and copies
    /// it to `database`: a table smaller than the load, whose facts the load repeats before and after a kill.
    private func seedWithEveryFiftiethRecord(
        of input: String, seedDB: String, database: String, _ work: CLIWorkspace
    ) throws {
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n")
        let existing = work.path("existing.ndjson")
        try lines.enumerated().filter { $0.offset % 50 == 7 }.map { $0.element + "\n" }.joined()
            .write(toFile: existing, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: seedDB)
        let seeded = try Factpipe.run(["import", existing, "--db", seedDB, "-q"])
        try #require(seeded.status == 0 || seeded.status == 2, "\(seeded.stderr)")
        try FileManager.default.copyItem(atPath: seedDB, toPath: database)
    }

    @Test func resumeAfterKillNineKeepsOldIdsAndTheLoadsStagedRows() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let seedDB = work.path("seed.sqlite")
        let (input, _) = try killedLoad(
            work, facts: 60_000, seed: 37, database: victim, afterRecords: 5_000,
            extra: ["--on-conflict", "replace"]
        ) { input, database in
            try seedWithEveryFiftiethRecord(of: input, seedDB: seedDB, database: database, work)
        }
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM sqlite_schema WHERE name = 'facts_statement'") == 0)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging WHERE load_id = 2") > 0)
        let first = try SQLiteFile.strings(victim, "SELECT statement FROM facts WHERE id = 1")
        let second = try SQLiteFile.strings(victim, "SELECT statement FROM facts WHERE id = 2")
        // Another program copies fact 2 between the index's drop and the load's first batch: its row sits
        // just below the load's first one (the load's rows are moved up one id to make room).
        try RawDatabase(victim).execute("""
            UPDATE facts SET id = -id WHERE load_id = 2;
            UPDATE facts SET id = 1 - id WHERE id < 0;
            INSERT INTO facts(id, statement, predicate, subject, object, args, arity, confidence, source, context,
            fact_metadata, created_at, load_id) SELECT (SELECT min(id) - 1 FROM facts WHERE load_id = 2), statement,
            predicate, subject, object, args, arity, 0.25, 'another program', context, fact_metadata, created_at, 1
            FROM facts WHERE id = 2
            """)
        // And fact 1 later, while the unique index is still out: nothing stops either duplicate.
        try RawDatabase(victim).execute("""
            INSERT OR IGNORE INTO facts(statement, predicate, subject, object, args, arity, confidence, source,
            context, fact_metadata, created_at, load_id) SELECT statement, predicate, subject, object, args, arity,
            confidence, source, context, fact_metadata, created_at, load_id FROM facts WHERE id = 1
            """)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE statement = (SELECT statement "
            + "FROM facts WHERE id = 1)") == 2)

        let referenceDB = work.path("reference.sqlite")
        try FileManager.default.copyItem(atPath: seedDB, toPath: referenceDB)
        let reference = try Factpipe.run(
            ["import", input, "--db", referenceDB, "--batch-size", "1000", "--on-conflict", "replace", "-q"])
        #expect(reference.status == 2, "\(reference.stderr)")
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000",
                                        "--on-conflict", "replace", "--resume", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")

        #expect(try SQLiteFile.strings(victim, "SELECT statement FROM facts WHERE id = 1") == first)
        #expect(try SQLiteFile.strings(victim, "SELECT statement FROM facts WHERE id = 2") == second)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE source = 'another program'") == 0)
        #expect(try factDump(victim) == (try factDump(referenceDB)))
        #expect(try ledgerDump(victim) == (try ledgerDump(referenceDB)))
        #expect(try assertionDump(victim) == (try assertionDump(referenceDB)))
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts")
            == (try SQLiteFile.int(referenceDB, "SELECT count(*) FROM facts")))
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try SQLiteFile.strings(victim, "PRAGMA integrity_check") == ["ok"])
        for row in try SQLiteFile.ledger(victim) { expectCountsAddUp(row) }
    }

    @Test func resumeRefusesASourceThatChangedAfterTheKill() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, committed) = try killedLoad(work, facts: 60_000, seed: 23, database: victim, afterRecords: 5_000)
        let before = try sha256sum(input)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((#"{"statement":"AppendedAfter(TheKill, 1)."}"# + "\n").utf8))
        try handle.close()
        let after = try sha256sum(input)

        let run = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000", "--resume", "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let message = "\(input) cannot be resumed: it changed since load 1 (SHA-256 \(before.prefix(12))… then, "
            + "\(after.prefix(12))… now); load it again without --resume"
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(try run.json()["status"] as? String == "failed")
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE statement = 'AppendedAfter(TheKill, 1).'") == 0)
        // Opening the database merged what the killed load had committed; its row says so.
        let row = try #require(try SQLiteFile.ledger(victim).first)
        #expect(row["status"] as? String == "interrupted")
        #expect(int(row, "records") == committed)
        expectCountsAddUp(row)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts") == int(row, "inserted"))
        #expect(try SQLiteFile.ledger(victim).count == 1)

        // Loaded again without --resume, it is a new load of the whole file.
        let fresh = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "10000", "--json", "-q"])
        #expect(fresh.status == 2, "\(fresh.stderr)")
        let rows = try SQLiteFile.ledger(victim)
        #expect(rows.map { $0["status"] as? String } == ["interrupted", "done"])
        #expect(rows.last?["source_sha256"] as? String == after)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE statement = 'AppendedAfter(TheKill, 1).'") == 1)
    }

    /// The rejects lines of `text`, parsed.
    private func rejectLines(_ text: Substring) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
        }
    }

    /// A load of `a.txt` (every fifth of its 40 lines refused) into `work`'s database with `rejects.ndjson`,
    /// stopped past 2 refusals at the checkpoint after line 12; returns the input, the rejects file and the
    /// rejects offset its ledger row recorded.
    private func stoppedLoadWithRejects(_ work: CLIWorkspace) throws -> (input: String, rejects: String, committed: Int) {
        let input = try work.write("a.txt", (1...40).map { $0 % 5 == 0 ? "bad line \($0)" : "Has(x\($0), y\($0))." }
            .joined(separator: "\n") + "\n")
        let rejects = work.path("rejects.ndjson")
        let stopped = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects,
                                        "--batch-size", "4", "--max-errors", "2", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        let committed = try #require(try SQLiteFile.ledger(work.database).first.flatMap { int($0, "rejects_offset") })
        #expect(committed > 0)
        return (input, rejects, committed)
    }

    /// A resume cuts its rejects file back to the size of its last checkpoint: the lines past it came
    /// from a batch that never committed. A file that another load has written since holds that load's
    /// rejects there: it is kept as it is, the resumed rejects follow, and the summary says so.
    @Test func resumeDoesNotCutARejectsFileAnotherLoadWroteSince() throws {
        let work = try CLIWorkspace()
        let (input, rejects, committedSize) = try stoppedLoadWithRejects(work)
        let other = try work.write("b.txt", (1...30).map { "oops \($0)" }.joined(separator: "\n") + "\n")

        // Another load, into another database, starts the same rejects file afresh with its own rejects.
        let otherLoad = try Factpipe.run(["import", other, "--db", work.path("other.sqlite"), "--rejects", rejects, "-q"])
        #expect(otherLoad.status == 1 || otherLoad.status == 2, "\(otherLoad.stderr)")
        let written = try work.read("rejects.ndjson")
        #expect(written.utf8.count > committedSize)

        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let note = "\(input): the rejects file \(rejects) holds lines of other loads past this load's last checkpoint "
            + "(from byte \(committedSize)), so nothing was cut and the resumed rejects follow them"
        // Beside the note on the refusals before the resume (aResumeWhoseRefusalsAllCameBeforeItExitsTwo).
        let notes = try resumed.json()["notes"] as? [String]
        #expect(notes?.filter { !$0.contains("before this run resumed it") } == [note], "\(resumed.stdoutText)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 32)
        // The other load's rejects are all there, and the resumed load's follow: lines 15 to 40.
        let after = try work.read("rejects.ndjson")
        #expect(after.hasPrefix(written), "the other load's rejects were cut")
        let added = try rejectLines(after.dropFirst(written.count))
        #expect(added.map { $0["line"] as? Int } == [15, 20, 25, 30, 35, 40], "\(added)")
        #expect(added.allSatisfy { $0["source"] as? String == input })
    }

    /// A rejects file started afresh by another load (or removed) before the resume no longer holds the
    /// lines of the records refused before the checkpoint: the summary says so, instead of only counting them.
    @Test func aResumeSaysWhenItsRejectsFileLostTheLinesBeforeTheCheckpoint() throws {
        let work = try CLIWorkspace()
        let (input, rejects, committedSize) = try stoppedLoadWithRejects(work)
        try work.write("rejects.ndjson", "")

        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let notes = try #require(try resumed.json()["notes"] as? [String], "\(resumed.stdoutText)")
        #expect(notes.contains("\(input): the rejects file \(rejects) holds 0 bytes, fewer than the \(committedSize) the "
            + "interrupted load had written to it (it was removed or written afresh since): the lines of the records "
            + "refused before this resume are not in it"), "\(notes)")
        let lines = try rejectLines(try work.read("rejects.ndjson")[...])
        #expect(lines.map { $0["line"] as? Int } == [15, 20, 25, 30, 35, 40], "\(lines)")
    }

    /// A kill between writing a batch's rejects and its commit leaves their lines past the checkpoint,
    /// the last one maybe cut short: the resume cuts them and writes them again, so the file is the one
    /// an uninterrupted load writes.
    @Test func aResumeCutsTheLinesItsInterruptedBatchWroteAndEndsAsAnUninterruptedLoad() throws {
        let work = try CLIWorkspace()
        let input = try work.write("a.txt", (1...40).map { $0 % 5 == 0 ? "bad line \($0)" : "Has(x\($0), y\($0))." }
            .joined(separator: "\n") + "\n")
        let reference = work.path("reference.ndjson")
        let whole = try Factpipe.run(["import", input, "--db", work.path("reference.sqlite"), "--rejects", reference, "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        let expected = try work.read("reference.ndjson")
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)

        let rejects = work.path("rejects.ndjson")
        let stopped = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects,
                                        "--batch-size", "4", "--max-errors", "2", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        // What the kill left: the lines of lines 15 and 20 (the batch it lost), the second one cut short.
        let committed = try work.read("rejects.ndjson")
        #expect(committed == expectedLines[0..<2].joined(separator: "\n") + "\n")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: rejects))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((expectedLines[2] + "\n" + expectedLines[3].prefix(30)).utf8))
        try handle.close()

        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect((try resumed.json()["notes"] as? [String])?.filter { !$0.contains("before this run resumed it") } == [])
        #expect(try work.read("rejects.ndjson") == expected)
    }

    /// Forty lines, every fifth refused, loaded into `work`'s database in batches of 4 with its rejects in
    /// `first.ndjson` until its error budget of 2 runs out (exit 3); `second.ndjson` is the other rejects path.
    private func loadStoppedByItsErrorBudget(_ work: CLIWorkspace) throws -> (input: String, first: String, second: String) {
        let input = try work.write("a.txt", (1...40).map { $0 % 5 == 0 ? "bad line \($0)" : "Has(x\($0), y\($0))." }
            .joined(separator: "\n") + "\n")
        let first = work.path("first.ndjson"), second = work.path("second.ndjson")
        let stopped = try Factpipe.run(["import", input, "--db", work.database, "--rejects", first,
                                        "--batch-size", "4", "--max-errors", "2", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        return (input, first, second)
    }

    /// A resume that names another rejects file (or none) records it in the load's row, with its size:
    /// the next resume cuts that file, not the first one at the second one's size. A device or a pipe
    /// as the rejects file has nothing to cut: resuming with `/dev/null` failed ("Invalid argument").
    @Test func aResumeWithAnotherRejectsFileRecordsItAndDevNullResumes() throws {
        let work = try CLIWorkspace()
        let (input, first, second) = try loadStoppedByItsErrorBudget(work)
        try work.write("second.ndjson", "{\"kept\": \"a line of the user's\"}\n")
        let kept = try work.read("second.ndjson")
        let again = try Factpipe.run(["import", input, "--db", work.database, "--rejects", second,
                                      "--batch-size", "4", "--max-errors", "0", "--resume", "-q"])
        #expect(again.status == 3, "\(again.stderr)")
        let row = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(row["rejects_path"] as? String == second)
        #expect(int(row, "rejects_offset") == kept.utf8.count, "nothing of this run committed past the user's line")

        let devNull = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "/dev/null",
                                        "--batch-size", "4", "--max-errors", "0", "--resume", "-q"])
        #expect(devNull.status == 3, "\(devNull.stderr)")
        let finished = try Factpipe.run(["import", input, "--db", work.database, "--rejects", "/dev/null",
                                         "--resume", "--json"])
        #expect(finished.status == 2, "\(finished.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 32)
        #expect(try work.read("second.ndjson") == kept)
    }

    /// A resume writing its rejects to another file than the interrupted load's (a pipeline's `{date}` the next
    /// night) leaves the lines the killed batch had written past its checkpoint in the old one, silently: they
    /// were in both files. The summary says so, with the command that removes them; the old file is not cut,
    /// since the file of that name now may be another load's.
    @Test func aResumeIntoAnotherRejectsFileSaysWhatTheOldOneHoldsPastTheCheckpoint() throws {
        let work = try CLIWorkspace()
        let (input, first, second) = try loadStoppedByItsErrorBudget(work)
        let checkpoint = try work.read("first.ndjson")
        let row = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(int(row, "rejects_offset") == checkpoint.utf8.count)
        // What a batch killed between its rejects' flush and its commit leaves: its line past the checkpoint,
        // the last one cut short.
        let line = try #require(int(row, "checkpoint_line"))
        let torn = "{\"source\":\"\(input)\",\"line\":\(line + 4),\"offset\":1,\"reason\":\"syntax_error\"}\n"
            + "{\"source\":\"\(input)\",\"line\":\(line + 9),\"off"
        try Data((checkpoint + torn).utf8).write(to: URL(fileURLWithPath: first))
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--rejects", second, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try work.read("first.ndjson") == checkpoint + torn)
        let notes = try #require(try resumed.json()["notes"] as? [String])
        #expect(notes.contains { $0.contains("\(first) of the interrupted load holds lines past its last checkpoint")
            && $0.contains("truncate -s \(checkpoint.utf8.count) \(first)") }, "\(notes)")
        // Cut as the note says, the two files hold each refused record once.
        _ = try Factpipe.tool("/usr/bin/truncate", ["-s", "\(checkpoint.utf8.count)", first])
        let lines = (checkpoint + (try work.read("second.ndjson"))).split(separator: "\n")
        #expect(lines.count == 8, "\(lines)")
        #expect(Set(lines).count == lines.count)
    }

    /// The rejects file's size is recorded when a source's load starts: one that stops before its first
    /// commit is resumed from there. It used to record nothing until that commit, so a resume cut the file
    /// to nothing, and the rejects an earlier input of the same run had written were lost.
    @Test func aSourceStoppedBeforeItsFirstCommitKeepsTheRejectsOfTheInputsBeforeIt() throws {
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "A(1).\nbad a2\nA(3).\nbad a4\n")
        let second = try work.write("b.txt", "bad b1\nbad b2\nB(3).\nB(4).\n")
        let rejects = work.path("rejects.ndjson")
        // The budget counts across inputs: b.txt's second refusal passes it, inside b.txt's first batch.
        let stopped = try Factpipe.run(["import", first, second, "--db", work.database, "--rejects", rejects,
                                        "--batch-size", "2", "--max-errors", "3", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { $0["status"] as? String } == ["done", "aborted"])
        let afterFirst = try work.read("rejects.ndjson")
        #expect(int(ledger[1], "rejects_offset") == afterFirst.utf8.count)

        let resumed = try Factpipe.run(["import", first, second, "--db", work.database, "--rejects", rejects,
                                        "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect((try resumed.json()["notes"] as? [String])?.filter { !$0.contains("before this run resumed it") } == [])
        let lines = try rejectLines(try work.read("rejects.ndjson")[...])
        #expect(lines.map { "\($0["source"] as? String == first ? "a" : "b")\($0["line"] as? Int ?? 0)" }
            == ["a2", "a4", "b1", "b2"], "\(lines)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 4)
    }

    /// Under `fail` each batch is checked for conflicts when it commits, and merged later. A statement
    /// another program wrote into `facts` in between merges as a duplicate: the merge used to fail, and so
    /// did the recovery every later command runs first, so the database took no load any more.
    @Test func aFailLoadWhoseStagedFactAnotherProgramWroteMeanwhileStillResumes() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(work, facts: 60_000, seed: 31, database: victim, afterRecords: 5_000,
                                        extra: ["--on-conflict", "fail"], generating: ["--duplicate-rate", "0"])
        let staged = try #require(try SQLiteFile.strings(victim, "SELECT statement FROM factpipe_staging LIMIT 1").first)
        let other = try Factpipe.tool("/usr/bin/sqlite3", [victim, """
            INSERT INTO facts(statement, predicate, subject, args, arity, created_at)
            SELECT statement, predicate, subject, args, arity, created_at FROM factpipe_staging
            WHERE statement = '\(staged.replacingOccurrences(of: "'", with: "''"))' LIMIT 1
            """])
        #expect(other.status == 0)
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--resume", "--on-conflict", "fail",
                                        "--batch-size", "1000", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try resumed.json()["status"] as? String == "done")
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE statement = '\(staged.replacingOccurrences(of: "'", with: "''"))'") == 1)
        let row = try #require(try SQLiteFile.ledger(victim).first)
        #expect(row["status"] as? String == "done")
        expectCountsAddUp(row)
        #expect(int(row, "duplicates") == 1, "\(row)")
    }

    /// An atomic load that stopped committed nothing, but its ledger row names the input's content: a
    /// --resume after it loads the input (it was refused as "changed, SHA-256 unknown").
    @Test func resumeAfterAnAtomicLoadThatStoppedLoadsTheInput() throws {
        let work = try CLIWorkspace()
        let input = try work.write("facts.txt", "A(1).\nB(2).\nbroken(\nC(3).\n")
        let atomic = try Factpipe.run(["import", input, "--db", work.database, "--atomic", "--max-errors", "0", "-q"])
        #expect(atomic.status == 3, "\(atomic.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--resume", "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(int(try resumed.json(), "inserted") == 3)
        #expect(try SQLiteFile.ledger(work.database).map { $0["status"] as? String } == ["done"])
    }

    /// A CSV or TSV load that committed nothing (an atomic load stopped, a load killed before its first
    /// commit) keeps its checkpoint at the start: its resume reads the header row as a header. Read as
    /// a record, `predicate(subject, object).` was stored as a fact.
    @Test(arguments: [("facts.csv", ","), ("facts.tsv", "\t")])
    func resumeOfACSVLoadThatCommittedNothingReadsItsHeaderAsAHeader(name: String, separator: String) throws {
        let work = try CLIWorkspace()
        let rows = [["predicate", "subject", "object"], ["HasPart", "Car", "Wheel"], ["IsA", "Dog", "Animal"],
                    ["bad(", "x", "y"]]
        let input = try work.write(name, rows.map { $0.joined(separator: separator) + "\n" }.joined())
        let atomic = try Factpipe.run(["import", input, "--db", work.database, "--atomic", "--max-errors", "0", "-q"])
        #expect(atomic.status == 3, "\(atomic.stderr)")
        #expect(try SQLiteFile.ledger(work.database).first.flatMap { int($0, "checkpoint_line") } == 1)
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--resume", "--json"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect((int(json, "records"), int(json, "inserted"), int(json, "rejected")) == (3, 2, 1), "\(json)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id")
                == ["HasPart(Car, Wheel).", "IsA(Dog, Animal)."])
        #expect(resumed.stderr.contains("\(name):4: "), "the bad row keeps its line: \(resumed.stderr)")
    }

    @Test func resumeOfAKilledCSVLoadKeepsItsHeader() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, committed) = try killedLoad(
            work, facts: 100_000, seed: 31, format: "csv", database: victim, afterRecords: 10_000)
        #expect(committed >= 10_000)
        let referenceDB = work.path("reference.sqlite")
        let reference = try BackgroundProcess(BinaryLocator.factpipe,
                                              ["import", input, "--db", referenceDB, "--batch-size", "1000", "-q"])
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000", "--resume", "--json", "-q"])
        let referenceRun = try reference.wait()
        #expect(referenceRun.status == 2, "\(referenceRun.stderr)")
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try SQLiteFile.ledger(victim).first?["format"] as? String == "csv")
        // Columns after the checkpoint were matched by the header's names: the same facts, field for field.
        #expect(try factDump(victim) == (try factDump(referenceDB)))
        #expect(try ledgerDump(victim) == (try ledgerDump(referenceDB)))
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM facts WHERE source IS NULL OR source != 'generator'") == 0)
        #expect(try SQLiteFile.strings(victim, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(victim, "SELECT count(*) FROM factpipe_staging") == 0)
    }

    @Test func faultInjectionScriptAtSmallSize() throws {
        let script = packageRootURL().appendingPathComponent("scripts/fault-inject")
        let run = try Factpipe.runProcess(script, [
            "--facts", "20000", "--kills", "6", "--bin", BinaryLocator.factpipe.path,
        ])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderr)")
        #expect(run.stdoutText.contains("fault-inject: identical to the uninterrupted load"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("fault-inject: 20000 facts, batch 5000"), "\(run.stdoutText)")
        #expect(!run.stdoutText.contains("DIFFER"))
    }

    @Test func aResumeGoesOnUnderThePolicyItsLoadBeganWith() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(
            work, facts: 60_000, seed: 23, database: victim, afterRecords: 5_000, extra: ["--on-conflict", "update"])
        // Without the load's policy (ignore is the default) the resume would merge the rest another way.
        let refused = try Factpipe.run(["import", input, "--db", victim, "--resume", "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("began with --on-conflict update"), "\(refused.stderr)")
        #expect(try SQLiteFile.ledger(victim).map { $0["status"] as? String } != ["done"])
        #expect(try SQLiteFile.ledger(victim).count == 1)
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--resume", "--on-conflict", "update", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")  // done, with the generator's invalid records
        let rows = try SQLiteFile.ledger(victim)
        #expect(rows.count == 1 && rows.first?["status"] as? String == "done")
        #expect(rows.first?["conflict_policy"] as? String == "update")
    }

    /// A resume checks the rest of its input by the rules its load began with (`--max-args`, `--strict-parts`
    /// and the others): under other rules it went on without a word, the input checked one way up to the
    /// checkpoint and another after it. A load recorded before the rules were (NULL) resumes as before.
    @Test func aResumeGoesOnUnderTheRulesItsLoadBeganWith() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(
            work, facts: 60_000, seed: 29, database: victim, afterRecords: 5_000, extra: ["--max-args", "20"])
        #expect(try SQLiteFile.strings(victim, "SELECT rules FROM factpipe_loads").first?.contains("--max-args 20") == true)
        let refused = try Factpipe.run(["import", input, "--db", victim, "--resume", "--strict-parts", "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot be resumed under other rules: load 1 checked its records up to the "
            + "checkpoint with --max-args 20,"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--max-args 10, --max-arg-length 500"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--strict-parts"), "\(refused.stderr)")
        #expect(try SQLiteFile.ledger(victim).map { $0["status"] as? String } != ["done"])
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--resume", "--max-args", "20", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try SQLiteFile.ledger(victim).map { $0["status"] as? String } == ["done"])

        let earlier = work.path("earlier.sqlite")
        let (other, _) = try killedLoad(work, facts: 60_000, seed: 31, database: earlier, afterRecords: 5_000)
        // A database made before the column: its next load adds it, and the load it resumes has no rules.
        try RawDatabase(earlier).execute("ALTER TABLE factpipe_loads DROP COLUMN rules")
        let unrecorded = try Factpipe.run(["import", other, "--db", earlier, "--resume", "--max-args", "20", "-q"])
        #expect(unrecorded.status == 2, "\(unrecorded.stderr)")
        #expect(try SQLiteFile.strings(earlier, "SELECT coalesce(rules, 'none') FROM factpipe_loads") == ["none"])
    }

    /// Content a done load refused records of is skipped as loaded; when the rules are other now (a pipeline's
    /// `[mapping]` or limits mended after a night of rejects) the skip says that load refused them under other
    /// rules: it said only "loaded", exit 0, and the refused records were never stored.
    @Test func aSkipOfContentLoadedUnderOtherRulesSaysWhatThatLoadRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("day.txt", "Two(a, b).\nThree(a, b, c).\nAlso(a, b).\n")
        let first = try Factpipe.run(["import", input, "--db", work.database, "--max-args", "2", "-q"])
        #expect(first.status == 2, "\(first.stderr)")
        let mended = try Factpipe.run(["import", input, "--db", work.database, "--json"])
        #expect(mended.status == 0, "\(mended.stderr)")
        let skipped = try #require(try mended.json()["skipped"] as? [[String: Any]])
        let reason = try #require(skipped.first?["reason"] as? String)
        #expect(reason.contains("was loaded by load 1 from \(input), which refused 1 record under other rules "
            + "(--max-args 2, "), "\(reason)")
        #expect(reason.contains("than this run's (--max-args 10, ") && reason.hasSuffix("--force loads it again under these"),
                "\(reason)")
        #expect(mended.stderr.contains("which refused 1 record under other rules"), "\(mended.stderr)")
        // Under the same rules, the skip says only that the content was loaded.
        let same = try Factpipe.run(["import", input, "--db", work.database, "--max-args", "2", "--json"])
        let again = try #require(try same.json()["skipped"] as? [[String: Any]])
        #expect((again.first?["reason"] as? String)?.hasSuffix("from \(input); --force loads it again") == true, "\(again)")
        let forced = try Factpipe.run(["import", input, "--db", work.database, "--force", "-q"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 3)
    }

    /// A plain rerun after a kill reads the input from line 1 (its refusals up to the stop written again), and
    /// a file whose load was undone is loaded again: both said nothing. Each now says so in a note, as a dry
    /// run's plan does; a first load has none.
    @Test func aLoadFromLineOneAfterAStoppedOrUndoneLoadOfItsContentSaysSo() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, committed) = try killedLoad(work, facts: 60_000, seed: 37, database: victim, afterRecords: 5_000)
        let rerun = try Factpipe.run(["import", input, "--db", victim, "--json"])
        #expect(rerun.status == 2, "\(rerun.stderr)")
        let notes = try #require(try rerun.json()["notes"] as? [String])
        #expect(notes.contains("\(input): load 1 of the same content stopped after committing \(committed) records; "
            + "this load reads it from line 1, meeting those as stored facts and refusing again what they refused "
            + "(--resume goes on from where load 1 stopped)"), "\(notes)")

        let other = work.path("other.sqlite")
        let day = try work.write("day.txt", "A(b).\nC(d).\n")
        let first = try Factpipe.run(["import", day, "--db", other, "--json"])
        #expect(try first.json()["notes"] as? [String] == [], "\(first.stdoutText)")
        #expect(try Factpipe.run(["undo", "1", "--db", other]).status == 0)
        let pipeline = try work.write("p.toml", "name = \"p\"\ndatabase = \"other.sqlite\"\n[sources]\npaths = [\"day.txt\"]\n")
        let planned = try Factpipe.run(["run", pipeline, "--dry-run"])
        let again = try Factpipe.run(["import", day, "--db", other, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let undone = "load 1 of the same content was undone; it is loaded again (undo removes the facts, it does not "
            + "keep the content out)"
        #expect(try again.json()["notes"] as? [String] == ["\(day): " + undone], "\(again.stdoutText)")
        #expect(planned.stderr.contains("day.txt: would load — " + undone), "\(planned.stderr)")
        #expect(try SQLiteFile.int(other, "SELECT count(*) FROM facts") == 2)
    }

    /// The exit code says a load refused records even when every refusal came before its resume: it said 0.
    @Test func aResumeWhoseRefusalsAllCameBeforeItExitsTwo() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let clean = work.path("clean.ndjson")
        let generate = try Factpipe.run([
            "generate", "--facts", "400000", "--seed", "41", "--invalid-rate", "0", "-o", clean, "-q",
        ])
        try #require(generate.status == 0, "\(generate.stderr)")
        // The first 3,000 lines hold the generator's invalid records; every line after them is valid.
        let (input, committed) = try killedLoad(work, facts: 3_000, seed: 43, database: victim, afterRecords: 3_000) {
            input, _ in
            let head = try String(contentsOfFile: input, encoding: .utf8)
            try (head + (try String(contentsOfFile: clean, encoding: .utf8))).write(
                toFile: input, atomically: true, encoding: .utf8)
        }
        let before = try SQLiteFile.int(victim, "SELECT rejected FROM factpipe_loads")
        #expect(committed >= 3_000 && before > 0, "\(committed) committed, \(before) refused")
        let metrics = work.path("load.prom")
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--resume", "--json", "--metrics-file", metrics])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect(json["rejected"] as? Int == 0 && json["rejected_before_resume"] as? Int == before, "\(json)")
        // Alerting on the metrics file hears of them too.
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("factpipe_import_rejected_before_resume \(before)"))
        #expect(resumed.stderr.contains("refused \(before) records before this run resumed it"), "\(resumed.stderr)")
        #expect(try SQLiteFile.int(victim, "SELECT rejected FROM factpipe_loads WHERE status = 'done'") == before)
    }

    /// A refused resume still completes the killed load (its row says `interrupted`, its unique index is
    /// back) but never reached the end of a load, where the secondary index a bulk load drops is built: `facts`
    /// was left without it, and lookups by subject scanned the table, until a later load or `optimize`.
    @Test func aRefusedResumeLeavesTheTableWithAllItsIndexes() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(work, facts: 60_000, seed: 53, database: victim, afterRecords: 5_000)
        let indexes = "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'facts_%' ORDER BY name"
        #expect(try SQLiteFile.strings(victim, indexes) != ["facts_statement", "facts_subject_predicate"])
        let refused = try Factpipe.run(["import", input, "--db", victim, "--resume", "--max-args", "9", "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot be resumed under other rules"), "\(refused.stderr)")
        #expect(try SQLiteFile.ledger(victim).map { $0["status"] as? String } == ["interrupted"])
        #expect(try SQLiteFile.strings(victim, indexes) == ["facts_statement", "facts_subject_predicate"])
    }

    /// Read on in another format, every record after the checkpoint was refused and the load ended done,
    /// which later runs skipped as loaded.
    @Test func aResumeGoesOnInTheFormatItsLoadReadTheInputIn() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(work, facts: 60_000, seed: 37, database: victim, afterRecords: 5_000)
        let refused = try Factpipe.run(["import", input, "--db", victim, "--resume", "--format", "text", "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("cannot be resumed with --format text: load 1 read it as ndjson up to its checkpoint"),
            "\(refused.stderr)")
        #expect(try SQLiteFile.ledger(victim).map { $0["status"] as? String } != ["done"])
        // `run --resume` names the pipeline file's keys, which its user wrote, not `import`'s flags.
        for (setting, value) in [("format", "text"), ("on_conflict", "replace")] {
            let section = setting == "format" ? "" : "[load]\n"
            let job = try work.write("job.toml", """
                name = "resumed"
                database = "\(victim)"
                [sources]
                paths = ["\(input)"]
                \(section)\(setting) = "\(value)"
                """)
            let run = try Factpipe.run(["run", job, "--resume"])
            let key = (setting == "format" ? "sources." : "load.") + setting
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("cannot be resumed with \(key) = \"\(value)\": load 1 "), "\(run.stderr)")
            #expect(!run.stderr.contains("--format") && !run.stderr.contains("--on-conflict"), "\(run.stderr)")
        }
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--resume", "--format", "ndjson", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let row = try #require(try SQLiteFile.ledger(victim).first)
        #expect(row["status"] as? String == "done" && row["records"] as? Int == 60_000, "\(row)")
        #expect((row["rejected"] as? Int ?? 0) < 1_000, "\(row)")

        // A load that read nothing in the wrong format (its header refused) resumes in the right one.
        let database = work.path("nothing-read.sqlite")
        let small = try work.write("small.ndjson", "{\"statement\":\"P(a).\"}\n{\"statement\":\"P(b).\"}\n")
        #expect(try Factpipe.run(["import", small, "--db", database, "--format", "csv", "-q"]).status == 1)
        let right = try Factpipe.run(["import", small, "--db", database, "--format", "ndjson", "--resume", "-q"])
        #expect(right.status == 0, "\(right.stderr)")
        #expect(try SQLiteFile.rows(database, "SELECT status, format, inserted FROM factpipe_loads") as NSArray
                == [["status": "done", "format": "ndjson", "inserted": 2]] as NSArray)
        // Nor is the format of a load that read nothing the one a resume without --format keeps to.
        let other = work.path("nothing-read-2.sqlite")
        #expect(try Factpipe.run(["import", small, "--db", other, "--format", "tsv", "-q"]).status == 1)
        let detected = try Factpipe.run(["import", small, "--db", other, "--resume", "-q"])
        #expect(detected.status == 0, "\(detected.stderr)")
        #expect(try SQLiteFile.strings(other, "SELECT format FROM factpipe_loads") == ["ndjson"])
    }

    /// A resume given no format reads on in the format its load read, not in what detection makes of the
    /// file: a text load of a file whose first line is `statement` (which detection takes for a CSV
    /// header) went on as CSV, and every statement with a comma after the checkpoint was refused.
    @Test func aResumeWithoutAFormatReadsOnInItsLoadsFormat() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let (input, _) = try killedLoad(
            work, facts: 60_000, seed: 47, format: "text", database: victim, afterRecords: 5_000,
            extra: ["--format", "text"]
        ) { input, _ in
            let text = try String(contentsOfFile: input, encoding: .utf8)
            try ("statement\n" + text).write(toFile: input, atomically: true, encoding: .utf8)
        }
        let resumed = try Factpipe.run(["import", input, "--db", victim, "--batch-size", "1000", "--resume", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let reference = work.path("reference.sqlite")
        let whole = try Factpipe.run(["import", input, "--db", reference, "--batch-size", "1000", "--format", "text", "-q"])
        #expect(whole.status == 2, "\(whole.stderr)")
        let counts = "SELECT status, format, records, inserted, duplicates, rejected FROM factpipe_loads"
        #expect(try SQLiteFile.rows(victim, counts) as NSArray == (try SQLiteFile.rows(reference, counts) as NSArray))
    }

    /// The same bytes read in another format are other records: a load that read a CSV file as text
    /// (and refused every line) does not make the same file, given as CSV, one to skip.
    @Test func contentLoadedInAnotherFormatIsNotSkippedWhenAFormatIsGiven() throws {
        let work = try CLIWorkspace()
        let database = work.path("kb.sqlite")
        let input = work.path("facts.csv")
        try "statement,confidence\n\"HasPart(Car, Wheel).\",0.9\n\"HasPart(Car, Door).\",0.8\n".write(
            toFile: input, atomically: true, encoding: .utf8)
        let asText = try Factpipe.run(["import", input, "--db", database, "--format", "text", "-q"])
        #expect(asText.status == 2, "\(asText.stderr)")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == 0)
        let asCSV = try Factpipe.run(["import", input, "--db", database, "--format", "csv", "-q"])
        #expect(asCSV.status == 0, "\(asCSV.stderr)")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == 2)
        // Read once as CSV, it is skipped as CSV; with no format given, any load of the content counts.
        let again = try Factpipe.run(["import", input, "--db", database, "--format", "csv"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("was loaded by load 2"), "\(again.stderr)")
        let auto = try Factpipe.run(["import", input, "--db", database])
        #expect(auto.status == 0 && auto.stderr.contains("was loaded by load 1"), "\(auto.stderr)")
        #expect(try SQLiteFile.ledger(database).count == 2)
    }

    @Test func aResumeFindsItsLoadWhateverThePathsSpelling() throws {
        let work = try CLIWorkspace()
        let victim = work.path("victim.sqlite")
        let rejects = work.path("rejects.ndjson")
        let (input, committed) = try killedLoad(
            work, facts: 60_000, seed: 29, database: victim, afterRecords: 5_000, extra: ["--rejects", rejects])
        let name = (input as NSString).lastPathComponent
        let respelled = work.url.path + "/./" + name
        let resumed = try Factpipe.run([
            "import", respelled, "--db", victim, "--resume", "--rejects", work.url.path + "/./rejects.ndjson", "--json",
            "-q",
        ])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        let summary = try resumed.json()
        // It went on after the checkpoint, in the interrupted row, instead of loading it all again.
        let rows = try SQLiteFile.ledger(victim)
        #expect(rows.count == 1, "\(rows)")
        #expect(rows.first?["status"] as? String == "done")
        #expect(int(summary, "records").map { $0 < 60_000 && $0 == 60_000 - committed } == true, "\(summary)")

        // Its rejects file is the one an uninterrupted load writes: each refused record once.
        let reference = work.path("reference.sqlite")
        let referenceRejects = work.path("reference-rejects.ndjson")
        let uninterrupted = try Factpipe.run(["import", input, "--db", reference, "--rejects", referenceRejects, "-q"])
        #expect(uninterrupted.status == 2, "\(uninterrupted.stderr)")
        let lines = { (path: String) throws -> Int in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        }
        #expect(try lines(rejects) == (try lines(referenceRejects)))
        #expect(try lines(rejects) > 0)
        #expect(try factDump(victim) == (try factDump(reference)))
    }

}
