import FactPipeTestSupport
import Foundation
import Testing

@testable import FactPipe

/// Another program's SQLite file read as an input gives every row it holds, as it holds it, or fails the
/// load: each case here lost or changed facts while the load said done.
@Suite struct SQLiteSourceReadingTests {
    /// The statements stored in the workspace's database, sorted.
    private func statements(_ work: LoadWorkspace) throws -> [String?] {
        try work.database().column("SELECT statement FROM facts ORDER BY statement")
    }

    /// Another program's WAL database, kept open by it (`theirs`) with one fact, loaded once.
    private func loadedWALSource(
        _ work: LoadWorkspace, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (path: String, theirs: RawDatabase) {
        let input = work.path("theirs.db")
        let theirs = try RawDatabase(input, create: true)
        try theirs.execute("PRAGMA journal_mode = wal; CREATE TABLE facts(statement TEXT)")
        try theirs.execute("INSERT INTO facts VALUES ('IsA(one, x)')")
        #expect(work.load(input, sourceLocation: sourceLocation).inserted == 1, sourceLocation: sourceLocation)
        return (input, theirs)
    }

    /// A program that keeps its WAL database open leaves its writes in the `-wal` until a checkpoint: the
    /// file itself stays the same, and the next load was skipped as "the same content", its new fact never
    /// loaded.
    @Test func aWALSourceWhoseNewRowsAreOnlyInItsLogIsLoadedAgain() throws {
        let work = try LoadWorkspace()
        let (input, theirs) = try loadedWALSource(work)
        let file = try Data(contentsOf: URL(fileURLWithPath: input))
        try theirs.execute("INSERT INTO facts VALUES ('IsA(two, x)')")
        try #require(try Data(contentsOf: URL(fileURLWithPath: input)) == file, "the new row is only in the -wal")

        let second = work.load(input)
        #expect(second.status == .done, "\(second.message ?? "")")
        #expect(second.inserted == 1 && second.duplicates == 1, "\(second.message ?? "")")
        #expect(try statements(work) == ["IsA(one, x).", "IsA(two, x)."])
        // With nothing new, the same content is skipped again.
        let third = work.load(input)
        #expect(third.records == 0 && third.sources.isEmpty, "\(third.message ?? "")")
    }

    /// Releases before the `-wal` counted recorded the SHA-256 of the file alone. A load one of them left
    /// killed, of a source whose program holds writes in its `-wal`, was refused "it changed since load 1"
    /// while not a byte of the file or the log had changed: the message now says what differs.
    @Test func aResumeOfALoadHashedWithoutTheLogSaysSo() throws {
        let work = try LoadWorkspace()
        let (input, theirs) = try loadedWALSource(work)
        let withLog = try #require(try FileHasher.sha256(path: input))
        let fileAlone = try #require(FileHasher.sha256WithoutLog(path: input), "the source has a -wal")
        #expect(fileAlone != withLog)
        // The ledger as an earlier release left it: the load killed, the file's hash alone.
        try work.database().execute("UPDATE factpipe_loads SET status = 'interrupted', source_sha256 = '\(fileAlone)'")
        let resumed = work.load(input) { $0.resume = true }
        #expect(resumed.status == .failed)
        let message = resumed.message ?? ""
        #expect(message.contains("cannot be resumed exactly: load 1 recorded the SHA-256 of the database file alone"), "\(message)")
        #expect(!message.contains("it changed since"), "\(message)")
        // Another hash is still a change.
        try work.database().execute("UPDATE factpipe_loads SET source_sha256 = '\(String(repeating: "0", count: 64))'")
        let changed = work.load(input) { $0.resume = true }
        #expect((changed.message ?? "").contains("cannot be resumed: it changed since load 1"), "\(changed.message ?? "")")
        _ = theirs
    }

    /// Paging by rowid started at 0: rows with negative rowids were never read, and the largest rowid made
    /// `rowid + 1` overflow (a crash on every run and resume).
    @Test func rowsAtEveryRowidAreReadOnce() throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute("""
            CREATE TABLE facts(statement TEXT);
            INSERT INTO facts(rowid, statement) VALUES
              (-9223372036854775808, 'IsA(smallest, x)'), (-7, 'IsA(negative, x)'), (0, 'IsA(zero, x)'),
              (5, 'IsA(positive, x)'), (9223372036854775807, 'IsA(largest, x)');
            """)
        let summary = work.load(input)
        #expect(summary.status == .done && summary.records == 5 && summary.inserted == 5, "\(summary.message ?? "")")
        #expect(try statements(work) == [
            "IsA(largest, x).", "IsA(negative, x).", "IsA(positive, x).", "IsA(smallest, x).", "IsA(zero, x).",
        ])
    }

    /// After the row at the largest rowid the checkpoint pointed before it (no rowid + 1), so a resume of a
    /// load killed after its last batch read that row again (4 records for a source of 3).
    @Test(arguments: [[1, 2, Int64.max], [Int64.max]])
    func aResumePastTheLargestRowidReadsNothingAgain(rowids: [Int64]) throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute(
            "CREATE TABLE facts(statement TEXT); INSERT INTO facts(rowid, statement) VALUES "
                + rowids.map { "(\($0), 'IsA(r\($0), x)')" }.joined(separator: ", "))
        let whole = work.load(input) { $0.batchSize = 3 }
        #expect(whole.status == .done && whole.inserted == rowids.count, "\(whole.message ?? "")")
        // As a kill after the last batch's commit, before the row was marked done, leaves it.
        try work.database().execute("UPDATE factpipe_loads SET status = 'interrupted'")
        let resumed = work.load(input) { options in
            options.batchSize = 3
            options.resume = true
        }
        #expect(resumed.records == 0, "\(resumed.message ?? "")")
        #expect(try work.database().rows("SELECT status, records, duplicates FROM factpipe_loads")
            == [["done", "\(rowids.count)", "0"]])
    }

    /// A load of negative rowids stopped at a bad row resumes exactly: after its last committed row, and from
    /// the smallest rowid when it committed nothing (a checkpoint of 0 said "from rowid 0").
    @Test(arguments: [1, 1_700])
    func aLoadOfNegativeRowidsResumesExactly(badRowOffset: Int) throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute("""
            CREATE TABLE facts(statement TEXT);
            WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
            INSERT INTO facts(rowid, statement) SELECT i - 3001, 'Rel(Ent' || i || ', X)' FROM c;
            UPDATE facts SET statement = 'bad((' WHERE rowid = \(badRowOffset - 3001);
            """)
        let stopped = work.load(input) { options in
            options.batchSize = 500
            options.maxErrors = 0
        }
        #expect(stopped.status == .aborted, "\(stopped.message ?? "")")
        #expect(stopped.inserted == (badRowOffset - 1) / 500 * 500, "whole batches before the bad row")
        let resumed = work.load(input) { options in
            options.batchSize = 500
            options.resume = true
        }
        #expect(resumed.records == 3_000 - stopped.inserted, "\(resumed.message ?? "")")
        #expect(try work.database().int("SELECT count(*) FROM facts") == 2_999)
        #expect(try work.database().int("SELECT count(DISTINCT statement) FROM facts") == 2_999)
    }

    /// `PRAGMA table_info` leaves generated columns out: a confidence and a source computed by the table
    /// were dropped (1.0 and none stored), and a generated `statement` was "no statement column".
    @Test func generatedColumnsAreReadAsAnyOther() throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute("""
            CREATE TABLE facts(
              name TEXT, pct REAL,
              statement TEXT GENERATED ALWAYS AS ('IsA(' || name || ', x)') VIRTUAL,
              confidence REAL GENERATED ALWAYS AS (pct / 100) VIRTUAL,
              source TEXT GENERATED ALWAYS AS ('wikidata') STORED);
            INSERT INTO facts(name, pct) VALUES ('g', 30);
            """)
        let summary = work.load(input)
        #expect(summary.inserted == 1, "\(summary.message ?? "")")
        let row = try work.database().rows("SELECT statement, confidence, source FROM facts")
        #expect(row == [["IsA(g, x).", "0.3", "wikidata"]])
    }

    /// A rollback-journal database is read a page at a time, each its own transaction: a `VACUUM` between
    /// two pages renumbers the rowids, moving rows behind the reading (20,000 rows were never read), and a
    /// dropped column read as its own name (`source = 'source'`). The page read under the new schema is
    /// not handed out, and the source says its schema changed.
    @Test(arguments: ["DELETE FROM facts WHERE rowid <= 500; VACUUM", "ALTER TABLE facts DROP COLUMN source"])
    func aSchemaChangeBetweenTwoPagesStopsTheReading(change: String) throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute("""
            CREATE TABLE facts(statement TEXT, source TEXT);
            WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
            INSERT INTO facts SELECT 'Rel(Ent' || i || ', X)', 'wikidata' FROM c;
            """)
        let source = try SQLiteFactSource(path: input)
        let first = try #require(try source.nextChunk(targetBytes: 1))
        #expect(first.records.count == 1_024)
        try RawDatabase(input).execute(change)
        #expect(try source.nextChunk(targetBytes: 1 << 20) == nil)
        #expect(source.schemaChanged)

        // Opened after the change, the source reads to its end without a word.
        let unchanged = try SQLiteFactSource(path: input)
        _ = try unchanged.nextChunk(targetBytes: 1 << 30)
        #expect(!unchanged.schemaChanged, "reading without a change says nothing")
    }

    /// The text of a UTF-16 database: SQLite's conversion to UTF-8 joins a lone surrogate with the character
    /// after it, so `IsA(a=<U+D800>, b)` became `IsA(a=𐀬 b).`, one argument, loaded. The row is refused;
    /// text with real pairs and other letters loads as written, in either byte order.
    @Test(arguments: ["UTF-16le", "UTF-16be"])
    func aLoneSurrogateInAUTF16DatabaseRefusesItsRow(encoding: String) throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        let lone = encoding == "UTF-16le" ? "00D8" : "D800"
        try RawDatabase(input, create: true).execute("""
            PRAGMA encoding = '\(encoding)';
            CREATE TABLE facts(statement TEXT, note TEXT);
            INSERT INTO facts VALUES ('IsA(a=' || CAST(X'\(lone)' AS TEXT) || ', b)', 'n');
            INSERT INTO facts VALUES ('IsA(ä, 😀)', 'ok ü');
            """)
        let summary = work.load(input) { $0.rejectsPath = work.path("rejects.ndjson") }
        #expect(summary.inserted == 1 && summary.rejected == 1, "\(summary.message ?? "")")
        #expect(try work.database().rows("SELECT statement, json_extract(fact_metadata, '$.note') FROM facts")
            == [["IsA(ä, 😀).", "ok ü"]])
        let rejected = try rejectLines(work.path("rejects.ndjson"))
        #expect(rejected.map { $0["reason"] as? String } == ["invalid_utf8"])
        #expect(rejected.first?["line"] as? Int == 1)
    }

    /// A row is exempt from `--max-record-bytes` no longer: one that loaded gave an export that `import`
    /// refused whole. It is refused as an NDJSON line as long would be, its start kept; the load goes on.
    @Test func aRowLongerThanTheRecordLimitIsRefused() throws {
        let work = try LoadWorkspace()
        let input = work.path("theirs.db")
        try RawDatabase(input, create: true).execute("""
            CREATE TABLE facts(statement TEXT, note TEXT);
            INSERT INTO facts VALUES ('IsA(big, x)', printf('%.*c', 5000, 'a')), ('IsA(small, x)', 'n');
            """)
        let limited = work.load(input) { options in
            options.limits.maxRecordBytes = 4096
            options.rejectsPath = work.path("rejects.ndjson")
        }
        #expect(limited.inserted == 1 && limited.rejected == 1, "\(limited.message ?? "")")
        let rejected = try rejectLines(work.path("rejects.ndjson"))
        #expect(rejected.map { $0["reason"] as? String } == ["record_too_long"])
        #expect(((rejected.first?["record"] as? String) ?? "").hasPrefix("{\"statement\":\"IsA(big, x)\""))
        let raised = work.load(input) { options in
            options.limits.maxRecordBytes = 8192
            options.force = true
        }
        #expect(raised.inserted == 1 && raised.duplicates == 1, "\(raised.message ?? "")")
    }
}
