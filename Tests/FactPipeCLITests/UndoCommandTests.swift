import Foundation
import Testing

/// `factpipe undo` after `update` and `replace` loads, through the built binary.
@Suite struct UndoCommandTests {
    /// Load 1 inserts Old(a) and Old(b); load 2 (`policy`) changes Old(b) and inserts New(c), New(d);
    /// load 3 (`policy`) changes New(d).
    private func threeLoads(_ work: CLIWorkspace, policy: String) throws {
        let first = try work.write("1.ndjson", """
            {"statement":"Old(a).","confidence":0.5,"source":"first","context":{"from":"first","kept":true}}
            {"statement":"Old(b).","confidence":0.5,"source":"first","context":{"from":"first","kept":true}}

            """)
        let second = try work.write("2.ndjson", """
            {"statement":"Old(b).","confidence":0.6,"source":"second","context":{"from":"second"}}
            {"statement":"New(c).","confidence":0.6,"source":"second","context":{"from":"second"}}
            {"statement":"New(d).","confidence":0.6,"source":"second","context":{"from":"second"}}

            """)
        let third = try work.write("3.ndjson", """
            {"statement":"New(d).","confidence":0.8,"source":"third","context":{"from":"third"}}

            """)
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        let two = try Factpipe.run(["import", second, "--db", work.database, "--on-conflict", policy, "--json", "-q"])
        #expect(two.status == 0)
        let twoJSON = try two.json()
        #expect(int(twoJSON, "inserted") == 2 && int(twoJSON, "updated") == 1)
        let three = try Factpipe.run(["import", third, "--db", work.database, "--on-conflict", policy, "--json", "-q"])
        #expect(int(try three.json(), "updated") == 1)
    }

    private func facts(_ database: String) throws -> [String: [String: Any]] {
        let rows = try SQLiteFile.rows(database, "SELECT statement, confidence, source, context, load_id FROM facts")
        var byStatement: [String: [String: Any]] = [:]
        for row in rows { byStatement[row["statement"] as? String ?? ""] = row }
        return byStatement
    }

    @Test(arguments: ["update", "replace"])
    func undoDeletesWhatTheLoadInsertedAndLeavesWhatOthersChanged(_ policy: String) throws {
        let work = try CLIWorkspace()
        try threeLoads(work, policy: policy)
        let before = try facts(work.database)
        #expect(before["Old(b)."]?["source"] as? String == "second")
        #expect(before["New(d)."]?["source"] as? String == "third")

        let run = try Factpipe.run(["undo", "2", "--db", work.database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "load_id") == 2)
        #expect(int(json, "deleted") == 1)
        #expect(int(json, "kept_for_other_loads") == 1)
        #expect(int(json, "left_updated") == 1)
        #expect(run.stderr.contains("factpipe: load 2 undone: 1 fact deleted, 1 kept (another load also brought them), "
            + "1 updated facts left as they are"), "\(run.stderr)")

        let after = try facts(work.database)
        #expect(after.keys.sorted() == ["New(d).", "Old(a).", "Old(b)."])
        // Inserted by load 2 and changed by load 3: kept as load 3 left it, and now load 3's.
        var newD = try #require(before["New(d)."])
        newD["load_id"] = 3
        #expect((after["New(d)."] as NSDictionary?) == (newD as NSDictionary))
        // Existed before load 2, which changed it: left as load 2 made it.
        #expect((after["Old(b)."] as NSDictionary?) == (before["Old(b)."] as NSDictionary?))
        #expect((after["Old(a)."] as NSDictionary?) == (before["Old(a)."] as NSDictionary?))

        let ledger = try SQLiteFile.ledger(work.database)
        #expect(ledger.map { $0["status"] as? String } == ["done", "undone", "done"])
        #expect(ledger[1]["message"] as? String == "undone: 1 facts deleted, 1 kept because another load also brought them, "
            + "1 updated facts left as they are")
        #expect(ledger[1]["conflict_policy"] as? String == policy)

        let loads = try Factpipe.run(["loads", "--db", work.database, "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: loads.stdout) as? [[String: Any]])
        #expect(list.map { $0["status"] as? String } == ["done", "undone", "done"])
        #expect(int(list[1], "id") == 2)
        #expect((list[1]["message"] as? String)?.hasPrefix("undone: 1 facts deleted") == true)
        #expect((list[1]["finished_at"] as? String).map { !$0.isEmpty } == true)
    }

    /// A merge the user's own UNIQUE index refuses left the load's batches staged, and every later load,
    /// and the undo of that load, failed on the same rows. Undoing it discards them.
    @Test func undoDiscardsTheStagedRowsOfALoadWhoseMergeCannotSucceed() throws {
        let work = try CLIWorkspace()
        let first = try work.write("y.txt", "Y(y).\n")
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, "CREATE UNIQUE INDEX mine ON facts(predicate, subject)"])
        let clash = try work.write("x.txt", "P(a, 1).\nP(a, 2).\n")
        let failed = try Factpipe.run(["import", clash, "--db", work.database])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("`factpipe undo 2` discards them"), "\(failed.stderr)")
        let next = try work.write("z.txt", "Z(z).\n")
        #expect(try Factpipe.run(["import", next, "--db", work.database, "-q"]).status == 1, "the staged rows block it")
        // A second load wedged the same way (its rows written here as a failed merge leaves them): each undo
        // must get past the other's rows.
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            INSERT INTO factpipe_loads(id, source, conflict_policy, started_at, status, records)
            VALUES (9, 'w.txt', 'ignore', '2025-01-01T00:00:00Z', 'failed', 2);
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
            confidence, context, fact_metadata, created_at) VALUES
            (9, 1, 0, 'Q(b, 1).', 'Q', 'b', '1', '["b","1"]', 2, 1.0, '{}', '{}', '2025-01-01T00:00:00Z'),
            (9, 2, 9, 'Q(b, 2).', 'Q', 'b', '2', '["b","2"]', 2, 1.0, '{}', '{}', '2025-01-01T00:00:00Z');
            """])
        let undo = try Factpipe.run(["undo", "2", "--db", work.database, "--json"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try undo.json()["discarded_staged"] as? Int == 2, "\(undo.stdoutText)")
        #expect(undo.stderr.contains("2 staged records discarded unmerged"), "\(undo.stderr)")
        // Load 9's rows, which still cannot merge, are named: every load fails on them until they go.
        #expect(try undo.json()["other_loads_left_staged"] as? [Int] == [9], "\(undo.stdoutText)")
        #expect(undo.stderr.contains("load 9's staged records still cannot be merged"), "\(undo.stderr)")
        #expect(undo.stderr.contains("`factpipe undo 9` discards them"), "\(undo.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT DISTINCT load_id FROM factpipe_staging") == ["9"])
        let second = try Factpipe.run(["undo", "9", "--db", work.database])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("still cannot be merged"), "\(second.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_staging") == 0)
        let loaded = try Factpipe.run(["import", next, "--db", work.database, "-q"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == ["Y(y).", "Z(z)."])
    }

    /// A database holding `P(a).` from "old" (load 1) and a killed `update` load 2 that staged `P(a).` from
    /// "new" and `N(b).` in two committed batches.
    private func killedUpdateLoad(_ work: CLIWorkspace) throws {
        let base = try work.write("base.ndjson", "{\"statement\": \"P(a).\", \"source\": \"old\"}\n")
        #expect(try Factpipe.run(["import", base, "--db", work.database, "-q"]).status == 0)
        let fifo = try HeldOpenFIFO(work.path("in.fifo"))
        let load = try BackgroundProcess(
            BinaryLocator.factpipe,
            ["import", fifo.path, "--db", work.database, "--on-conflict", "update", "--batch-size", "1", "-q"])
        try #require(fifo.openWhenReaderArrives())
        try fifo.write("{\"statement\": \"P(a).\", \"source\": \"new\"}\n{\"statement\": \"N(b).\"}\n")
        let committed = poll(timeout: 60) {
            (readOnlyInt(work.database, "SELECT count(*) FROM factpipe_staging") ?? 0) == 2 || !load.isRunning
        }
        load.killNine()
        try load.wait()
        fifo.close()
        try #require(committed && load.wasKilled, "the load did not stage both records before the kill")
    }

    /// A killed `update` load's committed batches wait staged. Its undo merges them first, as any later
    /// import would: the fact it updated keeps its value whether or not another load came between the kill
    /// and the undo (undo discarded them unmerged, so the same `undo 2` gave "old" or "new" depending on an
    /// unrelated import), what it inserted goes, and the undone row's counts add up.
    @Test func undoOfAKilledLoadGivesTheSameFactsWhetherOrNotAnotherLoadCameBetween() throws {
        var sources: [[String]] = []
        for between in [false, true] {
            let work = try CLIWorkspace()
            try killedUpdateLoad(work)
            if between {
                let other = try work.write("other.txt", "Q(z).\n")
                #expect(try Factpipe.run(["import", other, "--db", work.database, "-q"]).status == 0)
            }
            let undo = try Factpipe.run(["undo", "2", "--db", work.database, "--json"])
            #expect(undo.status == 0, "\(undo.stderr)")
            #expect(try undo.json()["discarded_staged"] as? Int == 0, "\(undo.stdoutText)")
            sources.append(try SQLiteFile.strings(work.database, "SELECT source FROM facts WHERE statement = 'P(a).'"))
            #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement")
                == (between ? ["P(a).", "Q(z)."] : ["P(a)."]))
            let row = try #require(try SQLiteFile.ledger(work.database).first { int($0, "id") == 2 })
            #expect(row["status"] as? String == "undone")
            #expect(int(row, "records") == 2 && int(row, "inserted") == 1 && int(row, "updated") == 1, "\(row)")
        }
        #expect(sources == [["new"], ["new"]])
    }

    /// A merge of the undone load's own batches that fails on anything (here a trigger's error, as a full disk
    /// would) must not keep the load from being undone: its batches are discarded unmerged, out of its
    /// records, and the next load finds nothing of it.
    @Test func undoDiscardsTheBatchesOfAKilledLoadWhoseMergeFails() throws {
        let work = try CLIWorkspace()
        try killedUpdateLoad(work)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            CREATE TRIGGER boom BEFORE UPDATE ON facts WHEN NEW.updated_load_id = 2 BEGIN
            SELECT abs(-9223372036854775808); END;
            """])
        let undo = try Factpipe.run(["undo", "2", "--db", work.database, "--json"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try undo.json()["discarded_staged"] as? Int == 2, "\(undo.stdoutText)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement || ' ' || source FROM facts") == ["P(a). old"])
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_staging") == 0)
        let row = try #require(try SQLiteFile.ledger(work.database).first { int($0, "id") == 2 })
        #expect(row["status"] as? String == "undone")
        #expect(int(row, "records") == 0 && int(row, "inserted") == 0 && int(row, "updated") == 0, "\(row)")
    }

    @Test func undoingTwiceOrAnUnknownLoadFailsWithExitOne() throws {
        let work = try CLIWorkspace()
        try threeLoads(work, policy: "update")
        #expect(try Factpipe.run(["undo", "2", "--db", work.database]).status == 0)
        let facts = try SQLiteFile.rows(work.database, "SELECT * FROM facts ORDER BY id")

        let twice = try Factpipe.run(["undo", "2", "--db", work.database, "--json"])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("load 2 was already undone"), "\(twice.stderr)")
        // Under --json the error is one object on standard output.
        let error = try twice.json()
        #expect(error["status"] as? String == "failed")
        #expect((error["error"] as? String)?.contains("load 2 was already undone") == true)

        let unknown = try Factpipe.run(["undo", "42", "--db", work.database])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("there is no load 42"), "\(unknown.stderr)")

        #expect((try SQLiteFile.rows(work.database, "SELECT * FROM facts ORDER BY id") as NSArray) == (facts as NSArray))
        #expect(try SQLiteFile.ledger(work.database).map { $0["status"] as? String } == ["done", "undone", "done"])

        let usage = try Factpipe.run(["undo", "two", "--db", work.database])
        #expect(usage.status == 64)
        // A wait that is no number of seconds is a usage error, as for import (NaN used to end in a trap
        // when the lock was held).
        for wait in ["nan", "-1"] {
            let badWait = try Factpipe.run(["undo", "1", "--db", work.database, "--wait", wait])
            #expect(badWait.status == 64, "\(wait): \(badWait.stderr)")
            #expect(badWait.stderr.contains("--wait must be 0 or more"), "\(badWait.stderr)")
        }
        let missing = try Factpipe.run(["undo", "1", "--db", work.path("missing.sqlite")])
        #expect(missing.status == 1)
    }

    @Test func anUndoneFileCanBeLoadedAgain() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "Again(a).\nAgain(b).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        #expect(try Factpipe.run(["undo", "1", "--db", work.database, "--json"]).status == 0)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        let again = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect((try again.json()["skipped"] as? [Any])?.isEmpty == true)
        #expect(int(try again.json(), "inserted") == 2)
        #expect(try SQLiteFile.ledger(work.database).map { $0["status"] as? String } == ["undone", "done"])
    }
}
