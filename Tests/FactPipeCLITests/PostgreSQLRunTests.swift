import Foundation
import Testing

/// `run` with a pipeline whose database is a PostgreSQL URL, against a real server: the loads, the plan of
/// `--dry-run`, the steps after, and the password never shown.
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLRunTests {
    private var today: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date())
    }

    @Test func runLoadsIntoPostgreSQLThenOptimizesAndSnapshotsWithoutShowingThePassword() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("incoming"), withIntermediateDirectories: true)
        try work.write("incoming/a.txt", "HasPart(Computer, CPU).\nHasPart(Computer, RAM).\n")
        try work.write("incoming/b.ndjson", """
            {"statement": "HasPart(Car, Wheel)."}
            {"statement": "not a fact"}
            {"statement": "HasPart(Computer, CPU)."}

            """)
        let file = try work.write("job.toml", """
            name = "nightly"
            database = "\(database.urlWithPassword)"
            [sources]
            paths = ["incoming/*"]
            [load]
            rejects = "rejects/{date}-{source}.ndjson"
            [after]
            optimize = true
            snapshot = "snapshots/kb-{date}.ndjson.zst"
            keep_snapshots = 2
            """)
        let run = try Factpipe.run(["run", file, "--json", "--report", work.path("report.json")])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["status"] as? String } == ["done", "done"], "\(inputs)")
        #expect(try database.int("SELECT count(*) FROM facts") == 3)
        #expect(try database.int("SELECT count(*) FROM factpipe_loads WHERE status = 'done'") == 2)
        let steps = try #require(json["steps"] as? [String])
        let snapshot = work.path("snapshots/kb-\(today).ndjson.zst")
        #expect(steps.count == 2, "\(steps)")
        #expect(steps.first?.hasPrefix("optimized \(database.url): ") == true
            && steps.first?.hasSuffix(", indexes valid") == true, "\(steps)")
        #expect(steps.last?.hasPrefix("snapshot \(snapshot): 3 facts, ") == true, "\(steps)")
        #expect(try Factpipe.run(["verify", snapshot, "-q"]).status == 0)
        #expect(try work.read("rejects/\(today)-b.ndjson").contains("not a fact"))
        #expect(poll(timeout: 30) {
            ((try? database.int("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'facts'")) ?? 0) > 0
        }, "the optimize step vacuumed facts")

        // Nothing a user or a monitoring system sees holds the password.
        let report = try work.read("report.json")
        // The manifest rides in the archive, in a skippable frame of plain JSON.
        let archive = String(decoding: try Data(contentsOf: URL(fileURLWithPath: snapshot)), as: UTF8.self)
        let checksum = try String(contentsOfFile: snapshot + ".sha256", encoding: .utf8)
        for text in [run.stdoutText, run.stderr, report, archive, checksum] {
            #expect(!text.contains("s3cret"), "\(text)")
        }
        #expect(report.contains(database.url), "\(report)")
        #expect(archive.contains("\"source_database\":\"\(database.url)\""), "the manifest names the server")

        // The ledger in the server says the same content is loaded: the second run skips both.
        let again = try Factpipe.run(["run", file, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        let skipped = try #require(try again.json()["inputs"] as? [[String: Any]])
        #expect(skipped.compactMap { $0["status"] as? String } == ["skipped", "skipped"], "\(skipped)")
        #expect(!again.stdoutText.contains("s3cret") && !again.stderr.contains("s3cret"))
    }

    /// `--dry-run` plans from the server's ledger and writes nothing: not the schema into an empty
    /// database, not a ledger row into a loaded one. `--db` gives the URL instead of the file's database.
    @Test func dryRunPlansFromThePostgreSQLLedgerAndWritesNothing() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        let a = try work.write("a.txt", "A(1).\nA(2).\n")
        let file = try work.write("job.toml", """
            name = "plan"
            database = "kb.sqlite"
            [sources]
            paths = ["*.txt"]
            [after]
            optimize = true
            """)
        let empty = try Factpipe.run(["run", file, "--db", database.urlWithPassword, "--dry-run", "--json"])
        #expect(empty.status == 0, "\(empty.stderr)")
        let planned = try #require(try empty.json()["inputs"] as? [[String: Any]])
        #expect(planned.compactMap { $0["decision"] as? String } == ["load"], "\(planned)")
        #expect(try database.sql("SELECT to_regclass('facts') IS NULL") == [["t"]], "nothing was created")
        #expect(!FileManager.default.fileExists(atPath: work.path("kb.sqlite")))

        let load = try Factpipe.run(["run", file, "--db", database.url, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try work.write("b.txt", "B(1).\n")
        try work.write("c.txt", "A(1).\nA(2).\n")
        let loads = try database.int("SELECT count(*) FROM factpipe_loads")
        let dry = try Factpipe.run(["run", file, "--db", database.urlWithPassword, "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let plans = try #require(try dry.json()["inputs"] as? [[String: Any]])
        #expect(plans.compactMap { $0["source"] as? String } == [a, work.path("b.txt"), work.path("c.txt")])
        #expect(plans.compactMap { $0["decision"] as? String } == ["skip", "load", "skip"], "\(plans)")
        #expect((plans.first?["reason"] as? String)?.contains("was loaded by load 1") == true, "\(plans)")
        #expect(try database.int("SELECT count(*) FROM factpipe_loads") == loads)
        #expect(!dry.stdoutText.contains("s3cret") && !dry.stderr.contains("s3cret"))
    }

    /// With `--resume`, the dry run says where an unfinished load in the server's ledger goes on.
    @Test func dryRunWithResumeSaysWhereTheUnfinishedLoadGoesOn() throws {
        let database = try PostgreSQLTestDatabase()
        let work = try CLIWorkspace()
        try work.write("a.txt", "A(1).\nA(2).\nA(3).\nA(4).\nnot a fact\nA(5).\n")
        let file = try work.write("job.toml", """
            name = "resume"
            database = "\(database.url)"
            [sources]
            paths = ["*.txt"]
            [load]
            batch_size = 2
            max_errors = 0
            """)
        let aborted = try Factpipe.run(["run", file, "-q"])
        #expect(aborted.status == 3, "\(aborted.stderr)")
        let loads = try database.sql("SELECT id, status, checkpoint_line FROM factpipe_loads")
        #expect(loads == [["1", "aborted", "5"]], "\(loads)")

        let dry = try Factpipe.run(["run", file, "--dry-run", "--resume", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let plans = try #require(try dry.json()["inputs"] as? [[String: Any]])
        #expect(plans.compactMap { $0["decision"] as? String } == ["resume"], "\(plans)")
        #expect(plans.first?["reason"] as? String == "load 1 goes on from line 5", "\(plans)")
        #expect(try database.sql("SELECT id, status, checkpoint_line FROM factpipe_loads") == loads)
    }

    /// A pipeline file's `database` that is a URL is checked as one: a password with an unencoded `@`
    /// is a usage error that does not show it.
    @Test func aPipelineDatabaseURLIsCheckedAsAnAddress() throws {
        let work = try CLIWorkspace()
        try work.write("a.txt", "A(1).\n")
        let file = try work.write("job.toml", """
            name = "bad"
            database = "postgresql://alice:p@ss@127.0.0.1:1/kb"
            [sources]
            paths = ["*.txt"]
            """)
        let run = try Factpipe.run(["run", file])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("%40") && !run.stderr.contains("p@ss"), "\(run.stderr)")
    }
}

/// What a PostgreSQL URL is refused with where it does not apply; no server is needed.
@Suite struct PostgreSQLRefusalTests {
    /// `--cache-mb` sets SQLite's page cache: with a URL it is a usage error, not silently ignored, even
    /// at its default value; nothing is connected to.
    @Test(arguments: ["64", "32"])
    func cacheMBIsRefusedWithAPostgreSQLURL(megabytes: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(1).\n")
        let run = try Factpipe.run([
            "import", input, "--db", "postgresql://alice:s3cret@127.0.0.1:1/kb", "--cache-mb", megabytes, "--json",
        ])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--cache-mb") && run.stderr.contains("SQLite databases only"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret") && !run.stdoutText.contains("s3cret"))
    }

    @Test func scaleTestSaysWhyItTakesNoURL() throws {
        let run = try Factpipe.run(["scale-test", "--db", "postgresql://alice:s3cret@127.0.0.1:1/kb"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("postgresql://alice@127.0.0.1:1/kb: scale-test measures the SQLite store")
            && run.stderr.contains("scripts/bench-postgres"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret"))
    }
}
