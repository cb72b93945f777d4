import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `factpipe optimize`, `factpipe scale-test`, and `--report` / `--metrics-file`, through the built binary.
@Suite struct OptimizeScaleTestCommandTests {
    @Test func optimizeVacuumReportsSizesBeforeAndAfterAndKeepsTheFacts() throws {
        let work = try CLIWorkspace()
        try work.loadKnowledgeBase()
        try Factpipe.tool("/usr/bin/sqlite3", [work.database, "DELETE FROM facts WHERE id % 2 = 0"])
        let kept = try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id")
        let run = try Factpipe.run(["optimize", "--db", work.database, "--vacuum", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        let steps = try #require(json["steps"] as? [[String: Any]]).compactMap { $0["step"] as? String }
        #expect(
            steps == [
                "PRAGMA optimize", "ANALYZE", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA integrity_check",
            ])
        let before = try #require(json["before"] as? [String: Any])
        let after = try #require(json["after"] as? [String: Any])
        #expect(try #require(int(after, "file_bytes")) < (try #require(int(before, "file_bytes"))))
        #expect(int(after, "file_bytes") == (try work.size(work.database)))
        #expect(int(after, "free_pages") == 0)
        #expect(json["integrity"] as? [String] == ["ok"] && json["intact"] as? Bool == true)
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id") == kept)
        let human = try Factpipe.run(["optimize", "--db", work.database])
        #expect(human.status == 0)
        #expect(human.stdoutText.contains("PRAGMA integrity_check") && human.stdoutText.contains("before"))
    }

    /// A load stopped with its unique index out and batches staged (its merge failed for want of temporary
    /// room, say): optimize said "integrity ok", exit 0, and left `facts` without its indexes until the next
    /// load. It completes what the load left first, as the next load would, and says so.
    @Test func optimizeCompletesWhatAStoppedLoadLeft() throws {
        let work = try CLIWorkspace()
        let first = try work.write("a.txt", "P(a).\n")
        #expect(try Factpipe.run(["import", first, "--db", work.database, "-q"]).status == 0)
        _ = try Factpipe.tool("/usr/bin/sqlite3", [work.database, """
            INSERT INTO factpipe_loads(source, conflict_policy, started_at, status, records) VALUES ('killed.txt',
            'ignore', '2025-01-01T00:00:00Z', 'running', 1);
            INSERT INTO factpipe_staging(load_id, line, offset, statement, predicate, subject, args, arity, confidence,
            context, fact_metadata, created_at) VALUES (2, 1, 0, 'Q(b).', 'Q', 'b', '["b"]', 1, 1.0, '{}', '{}',
            '2025-01-01T00:00:00Z');
            DROP INDEX facts_statement; DROP INDEX facts_subject_predicate;
            INSERT INTO factpipe_sequence(name, seq) VALUES ('facts_statement_dropped_by', 2);
            """])
        let run = try Factpipe.run(["optimize", "--db", work.database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let steps = try #require(try run.json()["steps"] as? [[String: Any]])
        #expect(steps.first?["step"] as? String == "complete stopped loads")
        #expect(steps.first?["detail"] as? String == "the unique index built; the staged batches of load 2 merged; "
            + "facts_subject_predicate built (left by a stopped load)", "\(steps)")
        #expect(try SQLiteFile.strings(work.database, """
            SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts' ORDER BY name
            """) == ["facts_statement", "facts_subject_predicate"])
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY statement") == ["P(a).", "Q(b)."])
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_staging") == 0)
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads ORDER BY id") == ["done", "interrupted"])
        // Nothing left: the step is not there.
        let again = try Factpipe.run(["optimize", "--db", work.database, "--json"])
        let names = try #require(try again.json()["steps"] as? [[String: Any]]).compactMap { $0["step"] as? String }
        #expect(names.first == "PRAGMA optimize")
    }

    @Test func optimizeRefusesAtOnceWhileALoadHoldsTheLock() throws {
        let work = try CLIWorkspace()
        try work.loadKnowledgeBase()
        let lock = try HeldLoadLock(database: work.database)
        let start = Date()
        let run = try Factpipe.run(["optimize", "--db", work.database, "--vacuum"])
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("refusing to optimize: another load is writing to this database"), "\(run.stderr)")
        #expect(run.stderr.contains("import of nightly.ndjson"))
        withExtendedLifetime(lock) {}
    }

    @Test func scaleTestJSONHasTheFiguresOfEveryPatternAndLeavesNothingBehind() throws {
        let work = try CLIWorkspace()
        let scratch = work.path("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        let run = try Factpipe.run([
            "scale-test", "--facts", "3000", "--queries", "200", "--json", "--work-dir", scratch,
            "--report", work.path("report.json"), "--metrics-file", work.path("scale.prom"),
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try run.json()
        #expect(int(json, "records") == 3_000)
        for key in ["facts_per_second", "peak_rss_bytes", "db_bytes"] {
            #expect(try #require(json[key] as? NSNumber).doubleValue > 0, "\(key)")
        }
        let patterns = try #require(json["patterns"] as? [String: [String: Any]])
        #expect(Set(patterns.keys) == ["predicate_subject", "subject", "statement", "count_by_predicate"])
        for (name, figures) in patterns {
            let values = try ["p50_ms", "p95_ms", "p99_ms", "max_ms"].map { key in
                try #require(figures[key] as? NSNumber, "\(name) \(key)").doubleValue
            }
            #expect(values == values.sorted(), "\(name): p50 ≤ p95 ≤ p99 ≤ max")
            #expect(int(figures, "found") == 100 && int(figures, "missing_found") == 0)
        }
        #expect(try work.listing("scratch").isEmpty, "generated input and temporary database deleted")
        #expect(run.stderr.contains("factpipe scale-test: loading"))
        let metrics = try ParsedMetrics(String(contentsOfFile: work.path("scale.prom"), encoding: .utf8))
        #expect(metrics["factpipe_scale_test_records"] == 3_000)
        let p95 = try #require(patterns["statement"]?["p95_ms"] as? NSNumber).doubleValue
        let metric = try #require(
            metrics[#"factpipe_scale_test_query_latency_seconds{pattern="statement",quantile="0.95"}"#])
        #expect(abs(metric * 1000 - p95) < 0.0001)
        #expect(metrics[#"factpipe_scale_test_queries{pattern="subject"}"#] == 200)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.path("report.json"))))
                as? [String: Any])
        #expect(report["command"] as? String == "scale-test")
        #expect((report["query_latency"] as? [String: Any])?.count == 4)
    }

    /// A signal during the queries: the figures are partial, so none is printed as a result, and the
    /// report and metrics say interrupted. (They said done, success 1, with one pattern's queries cut short.)
    @Test func aScaleTestStoppedDuringItsQueriesReportsItInterrupted() throws {
        let work = try CLIWorkspace()
        let database = work.path("scale.sqlite")
        let run = try BackgroundProcess(BinaryLocator.factpipe, [
            "scale-test", "--facts", "20000", "--queries", "1000000", "--db", database, "--json", "-q",
            "--report", work.path("scale.json"), "--metrics-file", work.path("scale.prom"),
        ])
        let loaded = poll(timeout: 60) {
            readOnlyInt(database, "SELECT count(*) FROM factpipe_loads WHERE status = 'done'") == 1 || !run.isRunning
        }
        try #require(loaded && run.isRunning, "the scale test did not reach its queries")
        usleep(300_000)
        kill(run.pid, SIGINT)
        let finished = try run.wait()
        #expect(finished.status == 130, "\(finished.stderr)")
        let json = try finished.json()
        #expect(json["status"] as? String == "interrupted")
        #expect(json["patterns"] == nil, "no partial figures as a result")
        #expect(finished.stderr.contains("interrupted (SIGINT); the figures are partial"), "\(finished.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.path("scale.json"))))
                as? [String: Any])
        #expect(report["status"] as? String == "interrupted")
        let metrics = try ParsedMetrics(String(contentsOfFile: work.path("scale.prom"), encoding: .utf8))
        #expect(metrics["factpipe_scale_test_success"] == 0)
    }

    @Test func importWritesAReportAndMetricsThatAgreeWithItsSummary() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run([
            "import", fixturePath("hakgal/kb_facts.ndjson"), "--db", work.database, "--json", "-q", "--batch-size",
            "1000",
            "--report", work.path("import.json"), "--metrics-file", work.path("import.prom"),
        ])
        #expect(run.status == 2, "\(run.stderr)")
        let summary = try run.json()
        let metrics = try ParsedMetrics(String(contentsOfFile: work.path("import.prom"), encoding: .utf8))
        for key in ["records", "inserted", "updated", "duplicates", "rejected", "warnings"] {
            #expect(metrics["factpipe_import_\(key)"] == int(summary, key).map(Double.init), "\(key)")
        }
        #expect(metrics["factpipe_import_peak_rss_bytes"] == int(summary, "peak_rss_bytes").map(Double.init))
        #expect(metrics["factpipe_import_commits"] == 5)
        #expect(metrics[#"factpipe_import_commit_latency_seconds{quantile="0.99"}"#] != nil)
        #expect(try work.listing(".").filter { $0.contains(".tmp-") || $0.contains(".factpipe-tmp-") }.isEmpty)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.path("import.json"))))
                as? [String: Any])
        #expect(int(report, "records") == 4_244 && int(report, "rejected") == 5)
        #expect(int((report["commit_latency"] as? [String: Any]) ?? [:], "count") == 5)
    }

    @Test func exportAndBackupWriteMetricsOfWhatTheyWrote() throws {
        let work = try CLIWorkspace()
        #expect(try Factpipe.run(["import", fixturePath("hakgal/kb_facts.ndjson"), "--db", work.database, "-q"]).status == 2)
        let export = try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("kb.ndjson.zst"), "-q",
            "--metrics-file", work.path("export.prom"), "--report", work.path("export.json"),
        ])
        #expect(export.status == 0, "\(export.stderr)")
        let metrics = try ParsedMetrics(String(contentsOfFile: work.path("export.prom"), encoding: .utf8))
        #expect(metrics["factpipe_export_records"] == 4_237)
        #expect(metrics["factpipe_export_success"] == 1)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let backup = try Factpipe.run([
            "backup", "--db", work.database, "--to", work.path("backups"), "-q", "--metrics-file", work.path("backup.prom"),
        ])
        #expect(backup.status == 0, "\(backup.stderr)")
        let backupMetrics = try ParsedMetrics(String(contentsOfFile: work.path("backup.prom"), encoding: .utf8))
        #expect(backupMetrics["factpipe_backup_records"] == 4_237)
        #expect((backupMetrics["factpipe_backup_peak_rss_bytes"] ?? 0) > 0)
    }

    /// A report or metrics path that is a folder is refused before the command does anything: a backup
    /// made and old ones pruned, then exit 1 "Is a directory", said the backup had failed.
    @Test(arguments: ["--report", "--metrics-file"])
    func aReportPathThatIsAFolderIsRefusedBeforeTheWork(option: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work.path("reports"), withIntermediateDirectories: true)
        for arguments in [
            ["backup", "--db", work.database, "--to", work.path("backups"), "--keep", "1"],
            ["export", "--db", work.database, "-o", work.path("s.ndjson.zst")],
        ] {
            let run = try Factpipe.run(arguments + [option, work.path("reports"), "--json"])
            #expect(run.status == 64, "\(arguments[0]): \(run.stderr)")
            #expect(run.stderr.contains("\(option) \(work.path("reports")) is a directory"), "\(run.stderr)")
        }
        #expect(try work.listing("backups").isEmpty, "no backup was made")
        #expect(!FileManager.default.fileExists(atPath: work.path("s.ndjson.zst")), "no export was written")
    }

    @Test func aReportInAMissingDirectoryIsAUsageError() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run([
            "import", fixturePath("hakgal/tool_sync_facts.txt"), "--db", work.database, "--metrics-file",
            work.path("nope/m.prom"),
        ])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--metrics-file"))
        #expect(!FileManager.default.fileExists(atPath: work.database), "nothing was loaded")
    }
}
