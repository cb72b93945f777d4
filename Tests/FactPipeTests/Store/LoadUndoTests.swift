import Foundation
import Testing

@testable import FactPipe

/// Undo of one load: which facts go, which stay, and what the ledger says.
@Suite struct LoadUndoTests {
    /// Three loads: 1 inserts A and B; 2 (under `policy`) changes B and inserts C and D; 3 (under
    /// `policy`) changes D. Undoing 2 must delete C only: B and D were brought by live loads too.
    private func threeLoads(_ policy: ConflictPolicy) throws -> LoadWorkspace {
        let work = try LoadWorkspace()
        let first = try work.write("1.ndjson", """
            {"statement":"Has(A, x).","confidence":0.5,"source":"one","context":{"k":"one","keep":1}}
            {"statement":"Has(B, x).","confidence":0.5,"source":"one","context":{"k":"one","keep":1}}

            """)
        let second = try work.write("2.ndjson", """
            {"statement":"Has(B, x).","confidence":0.7,"source":"two","context":{"k":"two"}}
            {"statement":"Has(C, x).","confidence":0.7,"source":"two","context":{"k":"two"}}
            {"statement":"Has(D, x).","confidence":0.7,"source":"two","context":{"k":"two"}}

            """)
        let third = try work.write("3.ndjson", """
            {"statement":"Has(D, x).","confidence":0.9,"source":"three","context":{"k":"three"}}

            """)
        #expect(work.load(first).inserted == 2)
        let two = work.load(second) { $0.conflictPolicy = policy }
        #expect([two.inserted, two.updated] as [Int] == [2, 1])
        let three = work.load(third) { $0.conflictPolicy = policy }
        #expect(three.updated == 1)
        return work
    }

    @Test(arguments: [ConflictPolicy.update, .replace])
    func undoDeletesOnlyWhatNoOtherLiveLoadBrought(_ policy: ConflictPolicy) throws {
        let work = try threeLoads(policy)
        let before = try work.database().facts()
        let b = try #require(before.first { $0.statement == "Has(B, x)." })
        let d = try #require(before.first { $0.statement == "Has(D, x)." })
        // What the loads did to B and D, under each policy.
        #expect(b.confidence == 0.7 && b.source == "two" && b.loadID == 1)
        #expect(d.confidence == 0.9 && d.source == "three" && d.loadID == 2)
        let merged: [String: Any] = policy == .update ? ["k": "two", "keep": 1] : ["k": "two"]
        #expect(try jsonObject(b.context) == NSDictionary(dictionary: merged))

        let result = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(result == LoadUndo.Result(deleted: 1, keptForOtherLoads: 1, leftUpdated: 1))

        let after = try work.database().facts()
        #expect(after.map(\.statement) == ["Has(A, x).", "Has(B, x).", "Has(D, x)."])
        // B existed before load 2 and keeps what load 2 made of it; D stays as load 3 left it, now load 3's.
        #expect(after.first { $0.statement == "Has(B, x)." } == b)
        var dOfLoad3 = d
        dOfLoad3.loadID = 3
        #expect(after.first { $0.statement == "Has(D, x)." } == dOfLoad3)
        #expect(after.first { $0.statement == "Has(A, x)." } == before.first { $0.statement == "Has(A, x)." })

        let ledger = try work.database().ledger()
        #expect(ledger.map(\.status) == ["done", "undone", "done"])
        let row = ledger[1]
        #expect(row.message == "undone: 1 facts deleted, 1 kept because another load also brought them, "
            + "1 updated facts left as they are")
        #expect(row.finishedAt.map(isISO8601UTC) == true)
        // The counts of what the load did stay as they were.
        #expect([row.records, row.inserted, row.updated] as [Int] == [3, 2, 1])
    }

    @Test func undoOfTheLastLoadAfterAnotherWasUndone() throws {
        let work = try threeLoads(.update)
        _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        // D was inserted by 2 and updated by 3; with 2 undone it is 3's alone, and goes with it.
        let result = try LoadUndo.undo(loadID: 3, databasePath: work.databasePath)
        #expect(result == LoadUndo.Result(deleted: 1, keptForOtherLoads: 0, leftUpdated: 0))
        #expect(try work.database().statements() == ["Has(A, x).", "Has(B, x)."])
        // Undoing 1 deletes A, and B too: the only other load that brought it (2) is undone.
        let first = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(first == LoadUndo.Result(deleted: 2, keptForOtherLoads: 0, leftUpdated: 0))
        #expect(try work.database().statements() == [])
    }

    @Test func aFactInsertedAndThenChangedByTheSameLoadIsUndoneWithIt() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.ndjson", """
            {"statement":"P(a).","confidence":0.1}
            {"statement":"P(a).","confidence":0.2}
            {"statement":"P(b).","confidence":0.3}

            """)
        let summary = work.load(input) { $0.conflictPolicy = .replace }
        #expect([summary.inserted, summary.updated] as [Int] == [2, 1])
        #expect(try work.database().fact("P(a).")?.confidence == 0.2)
        let result = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(result.deleted == 2)
        #expect(try work.database().int("SELECT count(*) FROM facts") == 0)
    }

    @Test func undoingTwiceOrAnUnknownLoadFails() throws {
        let work = try threeLoads(.update)
        _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        let facts = try work.database().facts()
        do {
            _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
            Issue.record("undid load 2 twice")
        } catch let error as StoreError {
            #expect(error.message == "load 2 was already undone")
        }
        do {
            _ = try LoadUndo.undo(loadID: 99, databasePath: work.databasePath)
            Issue.record("undid a load that does not exist")
        } catch let error as StoreError {
            #expect(error.message == "there is no load 99")
        }
        #expect(try work.database().facts() == facts)
        #expect(try work.database().ledger().map(\.status) == ["done", "undone", "done"])
    }

    @Test func undoCompletesWhatAKilledLoadLeftThenTakesItOut() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("in.txt", "P(a).\n"))
        // What a load killed before its merge leaves: a running ledger row, staged facts, and the secondary
        // indexes it dropped for its bulk load.
        try work.database().execute("""
            INSERT INTO factpipe_loads(source, conflict_policy, started_at, status) VALUES ('killed.txt', 'ignore',
            '2025-01-01T00:00:00Z', 'running');
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, args, arity, confidence,
            context, fact_metadata, created_at) VALUES (2, 1, 0, 'Q(b).', 'Q', 'b', '["b"]', 1, 1.0, '{}', '{}',
            '2025-01-01T00:00:00Z');
            DROP INDEX facts_subject_predicate;
            """)
        let indexes = "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts' ORDER BY name"
        #expect(try work.database().column(indexes) == ["facts_statement"])
        // An undo of a load that does not exist changes nothing.
        #expect(throws: StoreError.self) { try LoadUndo.undo(loadID: 99, databasePath: work.databasePath) }
        #expect(try work.database().column(indexes) == ["facts_statement"])
        #expect(try work.database().int("SELECT count(*) FROM factpipe_staging") == 1)
        // The undo merges the load's staged facts, as the next import would, takes them out again and
        // completes the rest of what the kill left.
        let result = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        #expect(result.deleted == 1 && result.discardedStaged == 0, "\(result)")
        #expect(try work.database().ledger().map(\.status) == ["done", "undone"])
        #expect(try work.database().int("SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try work.database().statements() == ["P(a)."])
        #expect(try work.database().column(indexes) == ["facts_statement", "facts_subject_predicate"])
    }

    @Test func undoWaitsForTheWriterLockAndNamesItsHolder() throws {
        let work = try LoadWorkspace()
        _ = work.load(try work.write("in.txt", "P(a).\n"))
        let holder = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "a test's load")
        do {
            _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath, lockTimeoutSeconds: 0.2)
            Issue.record("undid a load while another writer held the lock")
        } catch let error as StoreError {
            #expect(error.kind == .busy)
            #expect(error.message.contains("(pid \(getpid()), a test's load)"), "\(error.message)")
        }
        withExtendedLifetime(holder) {}
        #expect(try work.database().int("SELECT count(*) FROM facts") == 1)
    }
    /// Another connection with the file open as a writer closes (the monitor between two of its reads): SQLite's
    /// close then leaves the log, and the undo's whole change was in the `-wal` only; the database file,
    /// copied or moved alone, still said the load was done. The writer empties the log as it closes.
    @Test func anUndoWhileAReaderHasTheFileOpenLeavesNothingOnlyInTheLog() throws {
        let work = try LoadWorkspace()
        let input = try work.write("facts.txt", (1...2_000).map { "Rel(Ent\($0), X)." }.joined(separator: "\n") + "\n")
        #expect(work.load(input).inserted == 2_000)
        let reader = try SQLiteConnection(path: work.databasePath, readOnly: true, create: false)
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2_000)

        let result = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        #expect(result.deleted == 2_000)
        // The file alone, its log left out.
        let alone = try SQLiteConnection(
            path: work.databasePath, readOnly: true, create: false,
            uri: ReadOnlyDatabase.uri(for: work.databasePath, mode: .immutable))
        #expect(try alone.scalarInt("SELECT count(*) FROM facts") == 0)
        #expect(try alone.textColumn("SELECT status FROM factpipe_loads") == ["undone"])
        withExtendedLifetime(reader) {}
    }
    /// Staged rows of a load the ledger has no row for are discarded, not merged: the next load's note said
    /// "merged the batches load 99 committed … counted in its row of `factpipe loads`", a row that is not there.
    @Test func stagedRowsOfALoadWithoutALedgerRowGiveNoNote() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("a.txt", "P(a).\n")).inserted == 1)
        try work.database().execute("""
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
                confidence, source, context, fact_metadata, created_at)
            VALUES (99, 1, 0, 'P(z).', 'P', 'z', NULL, '["z"]', 1, 1.0, NULL, '{}', '{}', '2025-01-01T00:00:00Z');
            """)
        let next = work.load(try work.write("b.txt", "P(b).\n"))
        #expect(next.inserted == 1)
        #expect(!next.notes.contains { $0.contains("load 99") }, "\(next.notes)")
        #expect(try work.database().int("SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try work.database().int("SELECT count(*) FROM facts WHERE statement = 'P(z).'") == 0)
    }
    /// A load killed before its first batch committed leaves a ledger row `running` and nothing staged: the
    /// next writer merged nothing, so the row said `running` for ever (in `loads`, `stats`, the monitor).
    /// Under the writer lock no load runs: the next import or undo marks it `interrupted`.
    @Test(arguments: [false, true])
    func aLoadThatDiedBeforeItsFirstCommitIsMarkedInterrupted(byUndo: Bool) throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("a.txt", "P(a).\n")).inserted == 1)
        #expect(work.load(try work.write("b.txt", "P(b).\n")).inserted == 1)
        // As the kill leaves it: the row begun, nothing committed after it.
        try work.database().execute("""
            INSERT INTO factpipe_loads(source, format, compression, conflict_policy, status, started_at)
            VALUES ('dead.txt', 'text', 'none', 'ignore', 'running', '2025-01-01T00:00:00Z')
            """)
        if byUndo {
            _ = try LoadUndo.undo(loadID: 2, databasePath: work.databasePath)
        } else {
            #expect(work.load(try work.write("c.txt", "P(c).\n")).inserted == 1)
        }
        #expect(try work.database().rows("SELECT status, finished_at IS NOT NULL FROM factpipe_loads WHERE source = 'dead.txt'")
            == [["interrupted", "1"]])
    }

    /// An admin who deletes the newest load's ledger row by hand (to forget a failed load, say) leaves its
    /// facts naming it. SQLite gives the largest rowid plus one, so the next load got that id again, and
    /// `undo` of the next load deleted both loads' facts. Ids are never given again.
    @Test func theIDOfALedgerRowDeletedByHandIsNeverGivenAgain() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("a.txt", "A(x, 1).\n")).inserted == 1)
        #expect(work.load(try work.write("b.txt", "B(y, 1).\nB(y, 2).\n")).inserted == 2)
        try work.database().execute("DELETE FROM factpipe_loads WHERE id = 2")
        let third = work.load(try work.write("c.txt", "C(z, 1).\n"))
        #expect(third.inserted == 1)
        #expect(try work.database().column("SELECT id FROM factpipe_loads ORDER BY id") == ["1", "3"])

        let result = try LoadUndo.undo(loadID: 3, databasePath: work.databasePath)
        #expect(result.deleted == 1)
        #expect(try work.database().statements() == ["A(x, 1).", "B(y, 1).", "B(y, 2)."])
        #expect(throws: StoreError.self) { try LoadUndo.undo(loadID: 2, databasePath: work.databasePath) }
    }

    /// Where a load's id may survive its ledger row, in a database made before ids were kept
    /// (`factpipe_sequence`): the facts it inserted, the facts it updated, only its assertions, or the rows
    /// it staged before it was killed.
    enum Trace: String, CaseIterable { case inserted, updated, asserted, staged }

    /// The database is brought up to date from the largest id that any of its tables names, so a ledger
    /// row deleted before that still keeps its id from the next load.
    @Test(arguments: Trace.allCases)
    func aDatabaseMadeBeforeKeepsTheIDsItsTablesName(_ trace: Trace) throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("a.txt", "A(x, 1).\nA(x, 2).\n")).inserted == 2)
        switch trace {
        case .inserted: _ = work.load(try work.write("b.txt", "B(y, 1).\n"))
        case .updated:
            _ = work.load(try work.write("b.ndjson", "{\"statement\":\"A(x, 1).\",\"confidence\":0.5}\n")) {
                $0.conflictPolicy = .update
            }
        case .asserted: _ = work.load(try work.write("b.txt", "A(x, 2).\n"))
        case .staged:
            // As load 2 leaves it, killed after its first batch committed, once its row is deleted.
            try work.database().execute("""
                INSERT INTO factpipe_loads(id, source, format, compression, conflict_policy, status, started_at)
                VALUES (2, 'b.txt', 'text', 'none', 'ignore', 'running', '2025-01-01T00:00:00Z');
                INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, object, args, arity,
                    confidence, source, context, fact_metadata, created_at)
                VALUES (2, 1, 0, 'B(y, 1).', 'B', 'y', '1', '["y","1"]', 2, 1.0, NULL, '{}', '{}', '2025-01-01T00:00:00Z');
                """)
        }
        try work.database().execute("""
            DELETE FROM factpipe_loads WHERE id = 2;
            DROP TABLE factpipe_sequence;
            """)
        // Load 2's trace is there, and nowhere else than where this case puts it.
        let traces = try work.database().rows("""
            SELECT (SELECT count(*) FROM facts WHERE load_id = 2), (SELECT count(*) FROM facts WHERE updated_load_id = 2),
            (SELECT count(*) FROM factpipe_assertions WHERE load_id = 2), (SELECT count(*) FROM factpipe_staging WHERE load_id = 2)
            """)
        #expect(traces == [[
            trace == .inserted ? "1" : "0", trace == .updated ? "1" : "0",
            trace == .updated || trace == .asserted ? "1" : "0", trace == .staged ? "1" : "0",
        ]])

        #expect(work.load(try work.write("c.txt", "C(z, 1).\n")).inserted == 1)
        #expect(try work.database().column("SELECT id FROM factpipe_loads ORDER BY id") == ["1", "3"])
        #expect(try work.database().int("SELECT seq FROM factpipe_sequence WHERE name = 'factpipe_loads'") == 3)
    }

    /// After the largest id, 2^63 - 1, no load id is left: SQLite's arithmetic made the next one a real
    /// number, read back as the largest again, and the load after a delete by hand got it a second time.
    @Test func noLoadIDIsGivenPastTheLargest() throws {
        let work = try LoadWorkspace()
        #expect(work.load(try work.write("a.txt", "A(1).\n")).inserted == 1)
        try work.database().execute("UPDATE factpipe_sequence SET seq = 9223372036854775806 WHERE name = 'factpipe_loads'")
        #expect(work.load(try work.write("b.txt", "B(1).\nB(2).\n")).inserted == 2)
        #expect(try work.database().column("SELECT id FROM factpipe_loads ORDER BY id") == ["1", "9223372036854775807"])
        try work.database().execute("DELETE FROM factpipe_loads WHERE id = 9223372036854775807")

        let refused = work.load(try work.write("c.txt", "C(1).\n"))
        #expect(refused.status == .failed)
        #expect(refused.message?.contains("no load id is left") == true, "\(refused.message ?? "")")
        #expect(try work.database().column("SELECT id FROM factpipe_loads ORDER BY id") == ["1"])
        #expect(try work.database().statements() == ["A(1).", "B(1).", "B(2)."])
        #expect(try work.database().rows("SELECT typeof(seq), seq FROM factpipe_sequence WHERE name = 'factpipe_loads'")
            == [["integer", "9223372036854775807"]])
    }
}
