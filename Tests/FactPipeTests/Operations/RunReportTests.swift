import Foundation
import Testing

@testable import FactPipe

/// Reports and metrics of a real load, read back and compared with its summary.
@Suite struct RunReportTests {
    @Test func prometheusMetricsOfALoadParseBackToTheSummarysFigures() throws {
        let work = try LoadWorkspace()
        let summary = work.load(fixtureURL("hakgal/kb_facts.ndjson").path) { $0.batchSize = 500 }
        #expect(summary.writerTimings.commitLatencies.count >= 8)
        let report = RunReport(importSummary: summary, databasePath: work.databasePath)
        let path = work.path("factpipe.prom")
        try report.writeMetrics(to: path)
        let metrics = try ParsedMetrics(String(contentsOfFile: path, encoding: .utf8))
        #expect(try metrics.value("factpipe_import_records") == Double(summary.records))
        #expect(try metrics.value("factpipe_import_inserted") == Double(summary.inserted))
        #expect(try metrics.value("factpipe_import_duplicates") == Double(summary.duplicates))
        #expect(try metrics.value("factpipe_import_rejected") == Double(summary.rejected))
        #expect(try metrics.value("factpipe_import_warnings") == Double(summary.warnings))
        #expect(try metrics.value("factpipe_import_success") == 1)
        #expect(try metrics.value("factpipe_import_peak_rss_bytes") == Double(summary.peakRSSBytes))
        #expect(abs(try metrics.value("factpipe_import_facts_per_second") - summary.factsPerSecond) < 1e-6)
        #expect(abs(try metrics.value("factpipe_import_duration_seconds") - summary.seconds) < 1e-9)
        #expect(try metrics.value("factpipe_import_database_bytes") == Double(FileSize.bytes(work.databasePath) ?? -1))
        let commits = summary.writerTimings.commitLatencies
        let name = "factpipe_import_commit_latency_seconds"
        #expect(metrics.types[name] == "gauge")
        #expect(try metrics.value(name, ["quantile": "0.5"]) == commits.percentile(50))
        #expect(try metrics.value(name, ["quantile": "0.95"]) == commits.percentile(95))
        #expect(try metrics.value(name, ["quantile": "0.99"]) == commits.percentile(99))
        #expect(try metrics.value("factpipe_import_commits") == Double(commits.count))
        #expect(abs(try metrics.value("factpipe_import_commit_seconds") - summary.writerTimings.committing) < 1e-9)
        #expect(try metrics.value("factpipe_import_commit_latency_max_seconds") == commits.maximum)
        // Each value is the last run's: gauges all, never counters that would seem to go down.
        #expect(metrics.types.values.allSatisfy { $0 == "gauge" }, "\(metrics.types)")
        #expect(!metrics.samples.contains { $0.name.hasSuffix("_total") })
        #expect(metrics.samples.allSatisfy { $0.name.hasPrefix("factpipe_import_") })
        #expect(!metrics.samples.contains { $0.name.contains("query_latency") }, "no queries were measured")
    }

    @Test func theJSONReportCarriesCountsRateMemoryAndCommitLatency() throws {
        let work = try LoadWorkspace()
        let summary = work.load(fixtureURL("hakgal/kb_facts.ndjson").path)
        let path = work.path("report.json")
        try RunReport(importSummary: summary, databasePath: work.databasePath).writeReport(to: path)
        let object = try #require(try JSONSerialization.jsonObject(with: fileContents(path)) as? [String: Any])
        #expect(object["command"] as? String == "import")
        #expect(object["status"] as? String == "done")
        #expect((object["records"] as? Int) == summary.records)
        #expect((object["rejected"] as? Int) == summary.rejected)
        #expect((object["peak_rss_bytes"] as? Int) == summary.peakRSSBytes)
        #expect((object["facts_per_second"] as? Double).map { abs($0 - summary.factsPerSecond) <= 0.5 } == true)
        #expect((object["database"] as? String) == work.databasePath)
        #expect((object["finished_at"] as? String)?.hasSuffix("Z") == true)
        let commit = try #require(object["commit_latency"] as? [String: Any])
        #expect((commit["count"] as? Int) == summary.writerTimings.commitLatencies.count)
        for key in ["p50_ms", "p95_ms", "p99_ms", "max_ms", "sum_ms"] { #expect(commit[key] is Double, "\(key)") }
        #expect(object["query_latency"] == nil)
    }

    @Test func queryLatenciesAreOneGaugeFamilyWithAPatternLabelEach() throws {
        var report = RunReport(command: "scale-test", status: "aborted")
        var sample = LatencySample()
        for value in [0.001, 0.002, 0.003, 0.010] { sample.record(value) }
        report.queryLatencies = [
            .init(pattern: "subject", figures: LatencyFigures(sample: sample, sumSeconds: 0.016)),
            .init(pattern: "odd \"one\"\\\n", figures: LatencyFigures(sample: LatencySample(), sumSeconds: 0)),
        ]
        let metrics = try ParsedMetrics(report.prometheusText)
        let name = "factpipe_scale_test_query_latency_seconds"
        #expect(try metrics.value("factpipe_scale_test_success") == 0)
        #expect(try metrics.value(name, ["pattern": "subject", "quantile": "0.95"]) == 0.010)
        #expect(try metrics.value(name, ["pattern": "subject", "quantile": "0.5"]) == 0.002)
        #expect(try metrics.value("factpipe_scale_test_queries", ["pattern": "subject"]) == 4)
        #expect(try metrics.value("factpipe_scale_test_query_latency_max_seconds", ["pattern": "subject"]) == 0.010)
        #expect(report.prometheusText.contains(#"{pattern="odd \"one\"\\\n",quantile="0.5"} 0"#))
        #expect(report.prometheusText.components(separatedBy: "# TYPE \(name) gauge").count == 2, "declared once")
    }

    @Test func numbersAreWrittenAsTheTextFormatSpellsThem() {
        #expect(PrometheusTextWriter.format(4_244) == "4244")
        #expect(PrometheusTextWriter.format(0.25) == "0.25")
        #expect(PrometheusTextWriter.format(.infinity) == "+Inf")
        #expect(PrometheusTextWriter.format(-.infinity) == "-Inf")
        #expect(PrometheusTextWriter.format(.nan) == "NaN")
        #expect(Double(PrometheusTextWriter.format(4.2e-06)) == 4.2e-06)
    }

    @Test func filesAreReplacedAtomicallyAndAFailureLeavesTheOldOne() throws {
        let work = try LoadWorkspace()
        let path = work.path("metrics.prom")
        try AtomicFile.write("old\n", to: path)
        try AtomicFile.write("new\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try folderListing(work.directory.url.path) == ["metrics.prom"], "no temporary file is left")
        // A directory in the way of the rename: the write fails and the old file stays.
        let blocked = work.path("blocked.prom")
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: false)
        #expect(throws: FileOutputError.self) { try AtomicFile.write("x", to: blocked) }
        #expect(try folderListing(work.directory.url.path) == ["blocked.prom", "metrics.prom"])
        #expect(throws: FileOutputError.self) { try AtomicFile.write("x", to: work.path("no/such/dir.prom")) }
    }

    /// A symlink is written through (the link stays, its target gets the text), and what is not a regular
    /// file is written in place: renaming over `/dev/null` or a FIFO swapped it for a file.
    @Test func aSymlinkIsWrittenThroughAndADeviceOrFIFOInPlace() throws {
        let work = try LoadWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("managed"), withIntermediateDirectories: false)
        try AtomicFile.write("first\n", to: work.path("managed/metrics.prom"))
        let link = work.path("metrics.prom")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "managed/metrics.prom")
        try AtomicFile.write("through the link\n", to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "managed/metrics.prom")
        #expect(try String(contentsOfFile: work.path("managed/metrics.prom"), encoding: .utf8) == "through the link\n")
        #expect(try folderListing(work.path("managed")) == ["metrics.prom"], "no temporary file is left")

        try AtomicFile.write("discarded\n", to: "/dev/null")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)

        let fifo = work.path("report.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader reads to the end of the stream (a reader that stops at the size a FIFO reports, 0,
        // closes it under the writer).
        let received = LockedValue<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            let descriptor = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while descriptor >= 0 {
                let count = read(descriptor, &buffer, buffer.count)
                if count <= 0 { break }
                received.update { $0 += buffer[0..<count] }
            }
            if descriptor >= 0 { close(descriptor) }
            done.signal()
        }
        // With no reader yet the write fails at once (a wait could not be interrupted): it is tried
        // again until the reader has the FIFO open.
        #expect(throws: FileOutputError.self) { try AtomicFile.write("nobody reads\n", to: fifo) }
        reader.start()
        func writeWhenRead() -> FileOutputError? {
            do {
                try AtomicFile.write("through a pipe\n", to: fifo)
                return nil
            } catch {
                return error
            }
        }
        var failure = writeWhenRead()
        for _ in 0..<500 where failure?.code == ENXIO {
            usleep(10_000)
            failure = writeWhenRead()
        }
        #expect(failure == nil, "\(String(describing: failure))")
        done.wait()
        #expect(String(decoding: received.get(), as: UTF8.self) == "through a pipe\n")
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    }

    @Test func aPostgreSQLAddressIsReportedWithoutItsPassword() {
        let report = RunReport(importSummary: ImportSummary(), databasePath: "postgresql://alice:s3cret@db.example/kb")
        #expect(!(report.databasePath ?? "").contains("s3cret"))
        #expect((report.databasePath ?? "").contains("alice@db.example"))
    }
}
