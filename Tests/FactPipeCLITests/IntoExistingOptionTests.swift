import Foundation
import Testing

/// Every import option with `--into-existing` is either carried out or refused with exit 64 and its
/// name, from the command line and from a pipeline file alike.
@Suite struct IntoExistingOptionTests {
    /// A knowledge base of its own making: a `facts` table factpipe did not create, with one fact.
    private func knowledgeBase(_ work: CLIWorkspace) throws -> String {
        let path = work.path("kb.db")
        try Factpipe.tool("/usr/bin/sqlite3", [path, """
            CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT NOT NULL UNIQUE, created_at TEXT);
            INSERT INTO facts(statement, created_at) VALUES ('Old(fact).', '2020-01-01T00:00:00Z');
            """])
        return path
    }

    private func statements(_ database: String) throws -> [String] {
        try SQLiteFile.strings(database, "SELECT statement FROM facts ORDER BY id")
    }

    @Test func rejectsAreWrittenToTheRejectsFile() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        let input = try work.write("in.txt", "Good(a).\nnot a fact\nGood(b).\n")
        let rejects = work.path("rejects.ndjson")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--rejects", rejects, "-q"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(try statements(kb) == ["Old(fact).", "Good(a).", "Good(b)."])
        let lines = try work.read("rejects.ndjson").split(separator: "\n")
        #expect(lines.count == 1)
        let line = Data((lines.first ?? "").utf8)
        let reject = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(reject["record"] as? String == "not a fact")
        #expect(int(reject, "line") == 2, "\(reject)")
    }

    /// A load into another program's database has no ledger to undo a damaged input's load by: its message
    /// says how many facts committed from the input before its check failed stay (the rest of the load's
    /// story is the one a factpipe database gets: `anInputThatFailsItsChecksumIsUndone`).
    @Test func aDamagedInputSaysWhatStays() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        let plain = try work.write("in.txt", (0..<30_000).map { "Damaged(item\($0))." }.joined(separator: "\n") + "\n")
        try Factpipe.tool("/usr/bin/gzip", ["-k", "-f", plain])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
        bytes[bytes.count - 8] ^= 0x01
        let damaged = try work.write("damaged.txt.gz", Data(bytes))
        let run = try Factpipe.run(["import", damaged, "--db", kb, "--into-existing", "--batch-size", "1000", "-q"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("gzip data corrupt"), "\(run.stderr)")
        #expect(run.stderr.contains("committed from it before the damage showed stay in the database"), "\(run.stderr)")
        #expect(try statements(kb).count > 1)
    }

    @Test func atomicKeepsNothingOfALoadThatStops() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "New(a).\nbad\nNew(b).\nNew(c).\nOld(fact).\nNew(d).\n")
        // Without --atomic the batches before the conflict stay, and their rejects; with it, none does.
        for (flags, kept, rejected) in [([String](), ["New(a).", "New(b).", "New(c)."], 1), (["--atomic"], [], 0)] {
            let kb = try knowledgeBase(work)
            let rejects = work.path("rejects.ndjson")
            let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--on-conflict", "fail",
                                        "--batch-size", "1", "--rejects", rejects, "-q"] + flags)
            #expect(run.status == 3, "\(flags): \(run.stderr)")
            #expect(try statements(kb) == ["Old(fact)."] + kept, "\(flags)")
            #expect(try work.read("rejects.ndjson").split(separator: "\n").count == rejected, "\(flags)")
            try FileManager.default.removeItem(atPath: kb)
        }
    }

    @Test func atomicCommitsAWholeLoadThatFinishes() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        let input = try work.write("in.txt", "New(a).\nNew(b).\nOld(fact).\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--atomic", "--batch-size", "1",
                                    "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect([int(json, "records"), int(json, "inserted"), int(json, "duplicates")] == [3, 2, 1])
        #expect(try statements(kb) == ["Old(fact).", "New(a).", "New(b)."])
    }

    @Test func resumeIsRefusedWithItsName() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: kb))
        let input = try work.write("in.txt", "New(a).\n")
        let run = try Factpipe.run(["import", input, "--db", kb, "--into-existing", "--resume"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--resume needs factpipe's ledger; --into-existing has none"), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: kb)) == bytes)
    }

    // MARK: From a pipeline file

    private func pipeline(_ work: CLIWorkspace, load: String) throws -> String {
        try work.write("job.toml", """
            name = "into-kb"
            database = "kb.db"
            [sources]
            paths = ["in/*.txt"]
            [load]
            into_existing = true
            \(load)
            """)
    }

    @Test func aPipelineFileIntoAnExistingDatabaseHonoursRejectsAndAtomic() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/1-first.txt", "Good(a).\nnot a fact\n")
        try work.write("in/2-second.txt", "Good(b).\nGood(c).\nOld(fact).\n")
        let file = try pipeline(work, load: """
            rejects = "rejects/{source}.ndjson"
            atomic = true
            on_conflict = "fail"
            batch_size = 1
            """)
        let run = try Factpipe.run(["run", file, "--json", "-q"])
        #expect(run.status == 3, "\(run.stderr)")
        let inputs = try #require(try run.json()["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["status"] as? String } == ["done", "aborted"])
        // The first input is in; the second stopped at its conflict and kept nothing, atomic as asked.
        #expect(try statements(kb) == ["Old(fact).", "Good(a)."])
        let rejected = try work.read("rejects/1-first.ndjson").split(separator: "\n")
        #expect(rejected.count == 1 && rejected.first?.contains("not a fact") == true, "\(rejected)")
    }

    @Test func aRunWithResumeOverAPipelineIntoAnExistingDatabaseIsRefused() throws {
        let work = try CLIWorkspace()
        let kb = try knowledgeBase(work)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: kb))
        try FileManager.default.createDirectory(atPath: work.path("in"), withIntermediateDirectories: true)
        try work.write("in/a.txt", "New(a).\n")
        let file = try pipeline(work, load: "")
        for extra in [[], ["--dry-run"]] {
            let run = try Factpipe.run(["run", file, "--resume"] + extra)
            #expect(run.status == 64, "\(extra): \(run.stderr)")
            let message = "factpipe run: error: --resume needs factpipe's ledger; --into-existing has none"
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: kb)) == bytes)
        // Without it, the file loads.
        #expect(try Factpipe.run(["run", file, "-q"]).status == 0)
        #expect(try statements(kb) == ["Old(fact).", "New(a)."])
    }
}
