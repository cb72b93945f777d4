import Foundation
import Testing

/// Another program's SQLite file read as an input gives every row of its `facts`, once, or fails: a
/// column that takes the rowid's name, or a table page whose cell count was damaged, used to lose rows
/// while the load said done (a text one read the first rows for ever: hence the time limit).
@Suite(.timeLimit(.minutes(2))) struct SQLiteSourceRowTests {
    private func sqlite(_ database: String, _ sql: String) throws {
        let run = try Factpipe.tool("/usr/bin/sqlite3", [database, sql])
        try #require(run.status == 0, "\(run.stderr)")
    }

    /// `count` rows `Rel(EntN, X).` made by `values` (SQL over `i`, 0-based) for the other columns.
    private func source(_ work: CLIWorkspace, _ name: String, columns: String, values: String, count: Int) throws -> String {
        let path = work.path(name)
        try sqlite(path, """
            CREATE TABLE facts(\(columns), statement TEXT);
            WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < \(count - 1))
            INSERT INTO facts SELECT \(values), 'Rel(Ent' || i || ', X)' FROM c;
            """)
        return path
    }

    @Test(arguments: [
        ("ROWID INTEGER", "i / 1000", 5_000),  // repeated numbers: paging by them skipped rows
        ("RowId TEXT", "'r' || i", 2_000),  // text: the first rows were read for ever
        ("rowid TEXT, _rowid_ TEXT, oid TEXT", "'r' || i, 'x', i", 2_000),  // every name taken: one pass
    ])
    func aColumnNamedLikeTheRowidHidesNoRow(columns: String, values: String, count: Int) throws {
        let work = try CLIWorkspace()
        let input = try source(work, "other.db", columns: columns, values: values, count: count)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "records") == count, "\(run.stdoutText)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(DISTINCT statement) FROM facts") == count)
        // The column's own values are kept beside the fact, as every other column's.
        let firstName = try #require(columns.split(separator: " ").first.map(String.init))
        #expect(try SQLiteFile.int(
            work.database, "SELECT count(*) FROM facts WHERE json_type(fact_metadata, '$.\(firstName)') IS NOT NULL")
            == count)
    }

    /// A load of such a file stopped at a bad row resumes after its last committed row, by the real rowid.
    @Test func aLoadOfATableWithARowidColumnResumesExactly() throws {
        let work = try CLIWorkspace()
        let input = try source(work, "other.db", columns: "ROWID INTEGER", values: "3000 - i", count: 3_000)
        try sqlite(input, "UPDATE facts SET statement = 'bad((' WHERE rowid = 1501")
        let stopped = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "500",
                                        "--max-errors", "0", "--json", "-q"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        let kept = try #require(int(try stopped.json(), "inserted"))
        #expect(kept > 0 && kept <= 1_500 && kept % 500 == 0, "whole batches before the bad row: \(stopped.stdoutText)")
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "500", "--resume",
                                        "--json", "-q"])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(int(try resumed.json(), "records") == 3_000 - kept, "\(resumed.stdoutText)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2_999)
        #expect(try SQLiteFile.int(work.database, "SELECT count(DISTINCT statement) FROM facts") == 2_999)
    }

    /// A table leaf whose cell count was lowered hides its rows from a scan while the statement index still
    /// counts them: the load is refused before a row is read, naming the damage.
    /// The same behind a view: `facts` a view over the damaged table (every table is checked then).
    @Test(arguments: [false, true])
    func aTableWithADamagedPageIsRefusedNotLoadedInPart(behindAView: Bool) throws {
        let work = try CLIWorkspace()
        let input = work.path("damaged.db")
        let table = behindAView ? "real_facts" : "facts"
        try sqlite(input, """
            PRAGMA page_size = 4096;
            CREATE TABLE \(table)(statement TEXT);
            CREATE INDEX facts_by_statement ON \(table)(statement);
            WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 19999)
            INSERT INTO \(table) SELECT 'Rel(Ent' || i || ', X)' FROM c;
            \(behindAView ? "CREATE VIEW facts AS SELECT statement FROM real_facts;" : "")
            """)
        let leaf = try SQLiteFile.int(
            input, "SELECT pageno FROM dbstat WHERE name = '\(table)' AND pagetype = 'leaf' LIMIT 1 OFFSET 5")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: input))
        let header = (leaf - 1) * 4096
        let cells = Int(bytes[header + 3]) << 8 | Int(bytes[header + 4])
        try #require(cells > 5)
        bytes[header + 3] = 0
        bytes[header + 4] = 5
        try bytes.write(to: URL(fileURLWithPath: input))
        #expect(try SQLiteFile.int(input, "SELECT count(*) FROM \(table) NOT INDEXED") < 20_000, "a scan reads fewer rows")
        #expect(try SQLiteFile.int(
            input, "SELECT count(statement) FROM \(table) INDEXED BY facts_by_statement WHERE statement > ''") == 20_000)

        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 1, "\(run.stderr)")
        let message = try #require(try run.json()["message"] as? String)
        #expect(message.contains("damaged.db") && message.contains("is damaged"), "\(message)")
        #expect(message.contains("on page \(leaf)") && !message.contains("***"), "\(message)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
    }

    /// A database through a FIFO is copied to a temporary file first: the copy skips blocks of zeros (a
    /// database's free pages take no disk), and a signal while the producer stalls removes it (it stayed
    /// in `$TMPDIR`, the size of what had come).
    @Test func aCopyOfAPipedDatabaseIsSparseAndGoesWithASignal() throws {
        let work = try CLIWorkspace()
        let source = try self.source(work, "src.db", columns: "weight REAL", values: "i", count: 1_000)
        let script = """
            set -u
            export TMPDIR="$1/tmp"; mkdir "$TMPDIR"; mkfifo "$1/in"
            ( cat "$2"; head -c 67108864 /dev/zero; exec sleep 60 ) > "$1/in" 2> /dev/null & producer=$!
            "$3" import "$1/in" --db "$1/kb.sqlite" -q & loader=$!
            for i in $(seq 1 1200); do
                copy=$(ls -A "$TMPDIR" | head -n 1)
                if [ -n "$copy" ] && [ "$(stat -c %s "$TMPDIR/$copy")" -ge 67108864 ]; then break; fi
                sleep 0.05
            done
            echo "copy $copy $(stat -c '%s %b %B' "$TMPDIR/$copy")"
            kill -INT $loader; wait $loader; echo "exit $?"
            kill -KILL $producer 2> /dev/null; wait $producer 2> /dev/null
            echo "left $(ls -A "$TMPDIR" | wc -l)"
            """
        let run = try Factpipe.tool("/bin/bash", ["-c", script, "bash", work.path(""), source, BinaryLocator.factpipe.path])
        let lines = run.stdoutText.split(separator: "\n").map(String.init)
        let copy = try #require(lines.first { $0.hasPrefix("copy ") }?.split(separator: " "), "\(run.stdoutText)")
        try #require(copy.count == 5, "\(run.stdoutText)")
        #expect(copy[1].hasPrefix(".factpipe-copy.factpipe-tmp-"), "named as factpipe's temporaries: \(copy[1])")
        let size = Int(copy[2]) ?? 0, allocated = (Int(copy[3]) ?? 0) * (Int(copy[4]) ?? 0)
        #expect(size >= 67_108_864 && allocated < 8 << 20, "\(size) bytes, \(allocated) on disk")
        #expect(lines.contains("exit 130"), "\(run.stdoutText)")
        #expect(lines.contains("left 0"), "\(run.stdoutText)")
    }

    /// A WAL database without its log is read without locks: a program that opens it and checkpoints into
    /// the file while it is read changed pages under the reading (200,000 rows loaded as a mix of two
    /// states, exit 0). The change is seen, the load fails, and what it committed is undone.
    @Test func aWALSourceWrittenWhileItIsReadWithoutLocksFailsAndIsUndone() throws {
        let work = try CLIWorkspace()
        let input = try source(work, "wal.db", columns: "weight REAL", values: "i", count: 200_000)
        try sqlite(input, "PRAGMA journal_mode = wal;")
        try #require(!FileManager.default.fileExists(atPath: input + "-wal"))
        var wrote = false
        let run = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "5000", "--json", "-q"]) { _ in
            // Once its first batch is committed, the reading has more than half the file still to go.
            _ = poll(timeout: 60) { ((try? SQLiteFile.int(work.database, "SELECT count(*) FROM facts")) ?? 0) > 0 }
            wrote = (try? Factpipe.tool("/usr/bin/sqlite3", [input, """
                UPDATE facts SET statement = 'Upd(' || rowid || ').' WHERE rowid % 2 = 0;
                PRAGMA wal_checkpoint(TRUNCATE);
                """])) != nil
        }
        #expect(wrote)
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        let message = json["message"] as? String ?? ""
        #expect(message.contains("another program wrote the database while it was read"), "\(message)")
        #expect(message.contains("was undone"), "\(message)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 0)
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["undone"])
    }

    /// What is watched is the file being read, not the path: a copy renamed over the path while the load
    /// reads (a nightly job replacing it) leaves the file read as it was, and the load is done (it was
    /// undone as changed).
    @Test func aWALSourceReplacedByRenameWhileItIsReadLoadsWhole() throws {
        let work = try CLIWorkspace()
        let input = try source(work, "wal.db", columns: "weight REAL", values: "i", count: 200_000)
        try sqlite(input, "PRAGMA journal_mode = wal;")
        let copy = work.path("copy.db")
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        var renamed = false
        let run = try Factpipe.run(["import", input, "--db", work.database, "--batch-size", "5000", "--json", "-q"]) { _ in
            _ = poll(timeout: 60) { ((try? SQLiteFile.int(work.database, "SELECT count(*) FROM facts")) ?? 0) > 0 }
            renamed = rename(copy, input) == 0
        }
        #expect(renamed)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 200_000, "\(run.stdoutText)")
    }

    /// Behind a view, a table whose check cannot run here (an index on a collation only the sqlite3 shell
    /// has) does not refuse the load: the view does not read it.
    @Test func aViewSourceLoadsBesideATableThisSQLiteCannotCheck() throws {
        let work = try CLIWorkspace()
        let input = work.path("view.db")
        try sqlite(input, """
            CREATE TABLE real_facts(statement TEXT);
            INSERT INTO real_facts VALUES ('IsA(a, b).'), ('IsA(c, d).');
            CREATE VIEW facts AS SELECT statement FROM real_facts;
            CREATE TABLE other(x TEXT COLLATE uint);
            CREATE INDEX other_x ON other(x);
            INSERT INTO other VALUES ('x1');
            """)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(int(try run.json(), "inserted") == 2, "\(run.stdoutText)")
    }
}
