import Foundation
import Testing

/// An output path that names standard output or error (`/dev/stderr`, or the log file the shell sent
/// it to) is written through the stream: the log keeps what it held, and what factpipe writes follows.
@Suite struct StandardStreamPathTests {
    /// Runs `script` in a shell whose `$F` is factpipe, in `work`'s folder.
    private func shell(_ work: CLIWorkspace, _ script: String) throws -> FactpipeRun {
        try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "cd '\(work.url.path)' && F='\(BinaryLocator.factpipe.path)' && \(script)"])
    }

    @Test func rejectsAndAReportSentToStandardErrorFollowItsLog() throws {
        let work = try CLIWorkspace()
        _ = try work.write("log.txt", "yesterday\n")
        _ = try work.write("in.txt", "bad(\nA(a, b).\n")
        let rejected = try shell(work, "\"$F\" import in.txt --db kb.sqlite --rejects /dev/stderr -q 2>>log.txt")
        #expect(rejected.status == 2, "\(rejected.stderr)")  // done, with a reject
        let reported = try shell(work, "\"$F\" import in.txt --db kb2.sqlite --report /dev/stderr -q 2>>log.txt")
        #expect(reported.status == 2, "\(reported.stderr)")
        let log = try work.read("log.txt")
        #expect(log.hasPrefix("yesterday\n"), "\(log)")
        #expect(log.contains("\"source\":\"in.txt\",\"line\":1,"), "the reject is in the log: \(log)")
        #expect(log.contains("\"inserted\":1"), "the report is in the log: \(log)")
        #expect(try SQLiteFile.int(work.path("kb.sqlite"), "SELECT count(*) FROM facts") == 1)
    }

    @Test func aReportNamingTheFileStandardErrorGoesToIsAppended() throws {
        let work = try CLIWorkspace()
        _ = try work.write("log.txt", "yesterday\n")
        _ = try work.write("in.txt", "A(a, b).\n")
        let run = try shell(work, "\"$F\" import in.txt --db kb.sqlite --report log.txt 2>>log.txt")
        #expect(run.status == 0, "\(run.stderr)")
        let metrics = try shell(work, "\"$F\" import in.txt --db kb2.sqlite --metrics-file log.txt 2>>log.txt")
        #expect(metrics.status == 0, "\(metrics.stderr)")
        let log = try work.read("log.txt")
        #expect(log.hasPrefix("yesterday\n"), "\(log)")
        #expect(log.contains("\"inserted\":1"), "\(log)")
        #expect(log.contains("factpipe_import_"), "\(log)")
        #expect(log.contains("1 inserted"), "this run's own summary stays too: \(log)")
    }

    @Test func anExportToALinkToStandardOutputWritesThroughTheStream() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        // `out` is a link to the descriptor, as `/dev/stdout` is; standard output goes to out.ndjson.
        try FileManager.default.createSymbolicLink(atPath: work.path("out"), withDestinationPath: "/proc/self/fd/1")
        let run = try shell(work, "\"$F\" export --db kb.sqlite -o out --format ndjson -q > out.ndjson")
        #expect(run.status == 0, "\(run.stderr)")
        let exported = try work.read("out.ndjson").split(separator: "\n")
        #expect(exported.count == snapshotFixtureFacts)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: work.path("out")) == "/proc/self/fd/1")
        #expect(!FileManager.default.fileExists(atPath: work.path("out.sha256")))
        #expect(!FileManager.default.fileExists(atPath: work.path("out.manifest.json")))
    }

    @Test func jsonBesideAnExportToStandardOutputByAnyNameIsRefused() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        for target in ["out.zst", "/dev/stdout"] {
            let run = try shell(work, "\"$F\" export --db kb.sqlite -o \(target) --json > out.zst")
            #expect(run.status == 64, "\(target): \(run.stderr)")
            #expect(run.stderr.contains("--json cannot be used with -o \(target)"), "\(run.stderr)")
        }
    }
}
