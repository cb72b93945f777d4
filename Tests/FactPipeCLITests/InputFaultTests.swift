import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Inputs that let a load down halfway: a file truncated while it is read, a pipe that closes early, a
/// compressed stream that ends mid-frame, a signal. Each load fails or finishes as docs/formats.md says, with
/// counts that add up in the summary and the ledger, and `--resume` finishes what a signal stopped.
@Suite struct InputFaultTests {
    private func generate(_ work: CLIWorkspace, _ name: String, facts: Int, seed: Int) throws -> String {
        let path = work.path(name)
        let run = try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "\(seed)", "-o", path, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        return path
    }

    /// Starts a load of `input` into `database` in batches of 1,000 and waits until `records` are committed.
    private func startedLoad(_ input: String, _ database: String, records: Int) throws -> BackgroundProcess {
        let load = try BackgroundProcess(BinaryLocator.factpipe,
                                         ["import", input, "--db", database, "--batch-size", "1000", "--json", "-q"])
        let query = "SELECT coalesce(max(records), 0) FROM factpipe_loads WHERE status = 'running'"
        poll(timeout: 60) { !load.isRunning || (readOnlyInt(database, query) ?? 0) >= records }
        try #require(load.isRunning, "the load finished before the fault could be injected")
        return load
    }

    @Test func aFileTruncatedWhileItIsReadFailsTheLoadWithCountsThatAddUp() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "shrinking.ndjson", facts: 150_000, seed: 21)
        let size = try work.size(input)
        let load = try startedLoad(input, work.database, records: 3_000)
        #expect(truncate(input, 4_000_000) == 0)
        let run = try load.wait()
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        // It ends where the reader had got to when the file was cut (it may have read ahead).
        #expect(message.hasPrefix("\(input): the file shrank while it was read: it ended after "), "\(message)")
        #expect(message.hasSuffix(" of its \(size) bytes"), "\(message)")
        expectCountsAddUp(json)
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(ledger["status"] as? String == "failed")
        expectCountsAddUp(ledger)
        // Not recorded as done, so the file's full content is not skipped by a later load.
        let again = try Factpipe.run(["import", input, "--db", work.database, "--json", "-q"])
        #expect(try again.json()["skipped"] as? [Any] != nil)
        #expect((try again.json()["skipped"] as? [Any])?.isEmpty == true)
    }

    /// Run with standard input or output closed (`<&-`, `>&-`): the first file opened took descriptor 0 or
    /// 1, so `import -` could read the writer lock's file as facts and `export -o -` write into the
    /// database. Closed descriptors get /dev/null: nothing is read, nothing is written where it must not be.
    @Test func closedStandardDescriptorsAreNeverTakenByTheFilesTheCommandOpens() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(1).\nA(2).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let before = try sha256sum(work.database)
        let binary = BinaryLocator.factpipe.path
        let closedIn = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import - --db \"$1\" <&-", binary, work.database])
        #expect(closedIn.status == 1)
        #expect(closedIn.stderr.contains("-: standard input is closed"), "\(closedIn.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 2)
        // `run -` read the placeholder as an empty pipeline file: "name: is required".
        let closedRun = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" run - <&-", binary])
        #expect(closedRun.status == 1)
        #expect(closedRun.stderr.contains("-: standard input is closed"), "\(closedRun.stderr)")

        let closedOut = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" export --db \"$1\" -o - --level 0 >&-", binary, work.database])
        #expect(closedOut.status == 1)
        #expect(closedOut.stderr.contains("standard output is closed"), "\(closedOut.stderr)")
        #expect(try sha256sum(work.database) == before)

        // Writers that do not ask whether `-` was closed still fail on it, as on a closed descriptor,
        // instead of writing into /dev/null and saying done.
        let generated = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" generate --facts 10 -o - -q >&-", binary])
        #expect(generated.status != 0, "\(generated.stderr)")
        let rejects = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "printf 'A(3).\\nnot a fact\\n' | \"$0\" import - --db \"$1\" --rejects - -q >&-", binary, work.database])
        #expect(rejects.status != 0 && rejects.status != 2, "\(rejects.stderr)")
    }

    /// Runs `line` in /bin/sh with `$0` the factpipe binary and `$1`, `$2`… the `arguments`; with
    /// `inMountNamespace`, in a mount namespace of its own (`unshare -m`: what it mounts stays there).
    /// Expects `run` to have failed (exit 1) with `saying` in its error output.
    private func expectRefused(_ run: FactpipeRun, saying: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains(saying), "\(run.stderr)", sourceLocation: sourceLocation)
    }

    private func shell(_ line: String, _ arguments: String..., inMountNamespace: Bool = false) throws -> FactpipeRun {
        let command = ["/bin/sh", "-c", line, BinaryLocator.factpipe.path] + arguments
        return inMountNamespace
            ? try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["-m"] + command)
            : try Factpipe.runProcess(URL(fileURLWithPath: command[0]), Array(command.dropFirst()))
    }

    /// In a container or chroot with no /dev/null, a closed standard descriptor is held by the wrong end of a
    /// pipe: left empty, it went to whatever opened first (Dispatch's epoll took descriptor 0), and `import -`
    /// waited on it for ever instead of saying standard input is closed. (An empty /dev in a mount namespace of
    /// the test's own: root only.)
    @Test(.enabled(if: geteuid() == 0, "mounting an empty /dev needs root"))
    func withoutDevNullAClosedDescriptorIsStillRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(1).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        func withoutDev(_ line: String) throws -> FactpipeRun {
            try shell("mount -t tmpfs none /dev && test ! -e /dev/null && " + line, work.database, inMountNamespace: true)
        }
        expectRefused(try withoutDev("exec timeout 20 \"$0\" import - --db \"$1\" <&-"),
                      saying: "-: standard input is closed")
        expectRefused(try withoutDev("exec timeout 20 \"$0\" export --db \"$1\" -o - --level 0 >&-"),
                      saying: "standard output is closed")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_loads") == 1)
    }

    /// A closed standard descriptor named by a path (`/dev/stdout`, `/proc/self/fd/1`, `/dev/fd/0`, `/dev/stdin`)
    /// is refused as `-` is: such a path opened the reservation's /dev/null anew, and the export to it said
    /// "exported 972 facts", the rejects were written nowhere, a report lost, a load of `/dev/stdin` done with
    /// 0 records and a ledger row. `/dev/null` named as itself is still written.
    @Test func aClosedStandardDescriptorNamedByAPathIsRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(1).\nnot a fact\nA(2).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        func shell(_ line: String) throws -> FactpipeRun { try self.shell(line, work.database, input) }
        for output in ["/dev/stdout", "/proc/self/fd/1", "/dev/fd/1"] {
            expectRefused(try shell("\"$0\" export --db \"$1\" -o \(output) --level 0 >&-"),
                          saying: "\(output): cannot write: standard output is closed")
        }
        expectRefused(try shell("\"$0\" import \"$2\" --db \"$1\" --force --rejects /dev/stdout >&-"),
                      saying: "standard output is closed")
        let report = try shell("\"$0\" export --db \"$1\" -o \"$1.ndjson\" --report /dev/stdout >&-")
        #expect(report.status == 1, "\(report.stderr)")
        expectRefused(try shell("\"$0\" import /dev/stdin --db \"$1\" --json <&-"),
                      saying: "/dev/stdin: standard input is closed")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM factpipe_loads") == 1)
        let null = try shell("\"$0\" export --db \"$1\" -o /dev/null >&-")
        #expect(null.status == 0, "\(null.stderr)")
    }

    /// A folder as the input, named or as standard input (`import - < folder`), is refused like a missing
    /// file: before the database is created, and without a ledger row.
    @Test func aFolderAsTheInputIsRefusedBeforeTheDatabaseIsCreated() throws {
        let work = try CLIWorkspace()
        let folder = work.path("facts")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let named = try Factpipe.run(["import", folder, "--db", work.database, "-q"])
        #expect(named.status == 1)
        #expect(named.stderr.contains("\(folder): cannot open: is a directory"), "\(named.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database))

        let redirected = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "\"$0\" import - --db \"$1\" < \"$2\"", BinaryLocator.factpipe.path, work.database, folder])
        #expect(redirected.status == 1)
        #expect(redirected.stderr.contains("-: cannot open: is a directory"), "\(redirected.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database))
        #expect(!FileManager.default.fileExists(atPath: work.database + "-factpipe.lock"))

        // An existing database is left as it was, its ledger without a failed load.
        let input = try work.write("in.txt", "A(1).\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, folder, "--db", work.database, "-q"]).status == 1)
        #expect(try SQLiteFile.ledger(work.database).count == 1)
    }

    @Test func aPipeThatClosesEarlyRefusesThePartialLastRecordAndLoadsTheRest() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 5_000, seed: 22)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
        let cut = bytes.count / 2
        let wholeLines = bytes.prefix(cut).filter { $0 == 0x0A }.count
        let script = "head -c \(cut) '\(input)' | '\(BinaryLocator.factpipe.path)' import - "
            + "--db '\(work.database)' --json"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/sh"), ["-c", script])
        #expect(run.status == 2, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "done")
        #expect(int(json, "records") == wholeLines + 1)
        #expect(int(json, "rejected") == 1)
        expectCountsAddUp(json)
        #expect(run.stderr.contains("-:\(wholeLines + 1): invalid_json"), "\(run.stderr)")
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        expectCountsAddUp(ledger)
        #expect(int(ledger, "records") == wholeLines + 1)
    }

    /// A load that stops says which inputs it never tried: a copy skipped as "loaded earlier in this run"
    /// whose original's load did not finish was reported as loaded, and the inputs after the stop were
    /// named nowhere.
    @Test func aLoadThatStopsNamesTheInputsItDidNotTryAndNoCopyAsLoaded() throws {
        let work = try CLIWorkspace()
        let bad = try work.write("bad.txt", "P(a).\nbad line\n")
        let copy = try work.write("bad-copy.txt", "P(a).\nbad line\n")
        let good = try work.write("good.txt", "C(a).\n")
        let goodCopy = try work.write("good-copy.txt", "C(a).\n")
        let run = try Factpipe.run(["import", good, goodCopy, bad, copy, "--db", work.database, "--max-errors", "0", "--json"])
        #expect(run.status == 3, "\(run.stderr)")
        let json = try run.json()
        let skipped = try #require(json["skipped"] as? [[String: Any]]).map { $0["source"] as? String }
        #expect(skipped == [goodCopy], "\(json)")
        let notTried = try #require(json["not_tried"] as? [[String: Any]])
        #expect(notTried.map { $0["source"] as? String } == [copy], "\(json)")
        #expect((notTried.first?["reason"] as? String)?.contains("whose load did not finish") == true)
        #expect(run.stderr.contains("not tried \(copy): the same content as \(bad)"), "\(run.stderr)")
        let after = try work.write("after.txt", "D(a).\n")
        let stopped = try Factpipe.run(["import", bad, after, "--db", work.path("second.sqlite"), "--max-errors", "0", "--json"])
        let untried = try #require(try stopped.json()["not_tried"] as? [[String: Any]])
        #expect(untried.map { $0["source"] as? String } == [after], "\(stopped.stdoutText)")
        // A path given twice (--force) is two inputs: the second, after the stop, was not tried either.
        let twice = try Factpipe.run(["import", good, bad, good, after, "--db", work.path("third.sqlite"), "--force",
                                      "--max-errors", "0", "--json"])
        let untriedTwice = try #require(try twice.json()["not_tried"] as? [[String: Any]])
        #expect(untriedTwice.map { $0["source"] as? String } == [good, after], "\(twice.stdoutText)")
    }

    /// A CSV value cut short (0.75 to 0.7) is a well-formed record, so a pipe that closed mid-record, or a
    /// file read while it was still being written, loads it: the load says where its input ended without a
    /// line end (for a file, a drop folder's run loaded the cut value without a word, and the whole file's
    /// load the next night kept it, the statement being stored).
    @Test func aCSVPipeCutInsideAValueLoadsItAndSaysTheLastRecordHadNoLineEnd() throws {
        let work = try CLIWorkspace()
        let whole = "statement,confidence\n\"Foo(a, b).\",0.5\n\"Bar(c, d).\",0.75\n"
        let cut = String(whole.dropLast(2))
        let piped = try Factpipe.run(["import", "-", "--db", work.database, "--format", "csv", "--json"],
                                     stdin: Data(cut.utf8))
        #expect(piped.status == 0, "\(piped.stderr)")
        let notes = try #require(try piped.json()["notes"] as? [String])
        #expect(notes.count == 1 && notes[0].hasPrefix("-: its last record (line 3) has no line end"), "\(notes)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE confidence = 0.7") == 1)

        // The same input whole through a pipe: no note.
        let again = try Factpipe.run(["import", "-", "--db", work.path("whole.db"), "--format", "csv", "--json"],
                                     stdin: Data(whole.utf8))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["notes"] as? [String] == [])
        // Cut as a regular file: its note speaks of a file still being written; the whole file has none.
        let file = work.path("cut.csv")
        try Data(cut.utf8).write(to: URL(fileURLWithPath: file))
        let fromFile = try Factpipe.run(["import", file, "--db", work.path("file.db"), "--json"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let fileNotes = try #require(try fromFile.json()["notes"] as? [String])
        #expect(fileNotes.count == 1 && fileNotes[0].hasPrefix("\(file): its last record (line 3) has no line end: "
            + "if the file was still being written"), "\(fileNotes)")
        let wholeFile = try work.write("whole.csv", whole)
        let fromWholeFile = try Factpipe.run(["import", wholeFile, "--db", work.path("whole-file.db"), "--json"])
        #expect(try fromWholeFile.json()["notes"] as? [String] == [])
    }

    @Test(arguments: ["zstd", "gzip"])
    func aCompressedPipeThatEndsMidFrameFailsAfterItsCommittedBatches(_ tool: String) throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 20_000, seed: 23)
        let compressed = try Factpipe.tool("/usr/bin/\(tool)", ["-c", input]).stdout
        let run = try Factpipe.run(["import", "-", "--db", work.database, "--batch-size", "1000", "--json"],
                                   stdin: compressed.prefix(compressed.count * 2 / 3))
        #expect(run.status == 1, "\(run.stderr)")
        let json = try run.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        #expect(message.hasPrefix("-: ") && message.contains(tool == "zstd" ? "zstd" : "gzip"), "\(message)")
        expectCountsAddUp(json)
        let records = try #require(int(json, "records"))
        #expect(records > 0 && records < 20_000 && records % 1_000 == 0, "\(records)")
        let ledger = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(ledger["status"] as? String == "failed")
        expectCountsAddUp(ledger)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == int(json, "inserted"))
    }

    /// SIGQUIT (Ctrl-\) too: the Swift runtime printed a "Program crashed" backtrace for it, and the load went on.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGQUIT, Int32(131))])
    func aSignalRollsBackTheOpenBatchAndResumeGivesTheFactsOfAnUninterruptedLoad(
        _ signal: Int32, _ status: Int32
    ) throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 150_000, seed: 24)
        let referenceDB = work.path("reference.sqlite")
        let reference = try BackgroundProcess(BinaryLocator.factpipe,
                                              ["import", input, "--db", referenceDB, "--batch-size", "1000", "-q"])
        let load = try startedLoad(input, work.database, records: 5_000)
        kill(load.pid, signal)
        let run = try load.wait()
        #expect(run.status == status, "\(run.stderr)")
        let json = try run.json()
        #expect(json["interrupted"] as? Bool == true)
        expectCountsAddUp(json)
        let stopped = try #require(try SQLiteFile.ledger(work.database).first)
        #expect(stopped["status"] as? String == "interrupted")
        expectCountsAddUp(stopped)
        #expect(int(stopped, "records") == int(json, "records"))
        #expect((int(stopped, "records") ?? 0) % 1_000 == 0, "only whole batches are committed")
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])

        let resumed = try Factpipe.run(
            ["import", input, "--db", work.database, "--batch-size", "1000", "--resume", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try reference.wait().status == 0)
        #expect(try factDump(work.database) == (try factDump(referenceDB)))
        #expect(try ledgerDump(work.database) == (try ledgerDump(referenceDB)))
    }
}
