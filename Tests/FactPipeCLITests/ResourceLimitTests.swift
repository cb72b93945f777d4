import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Commands run under a limit of the system's: they fail (1) saying why, and leave nothing half-written.
/// One at a time: `ulimit -u` counts every process of the user the commands run as.
@Suite(.serialized) struct ResourceLimitTests {
    /// Runs `arguments` in `work` with no thread to spare: `ulimit -u 1` for a user with a process already
    /// (root ignores the limit, so as `nobody` then, on a copy of the binary in a folder it may use).
    private func runWithoutThreads(
        _ work: CLIWorkspace, _ arguments: [String], processes: Int = 1
    ) throws -> FactpipeRun {
        let binary = work.path("factpipe")
        if !FileManager.default.fileExists(atPath: binary) {
            try FileManager.default.copyItem(atPath: BinaryLocator.factpipe.path, toPath: binary)
        }
        // timeout (root's, as the limit binds only the user switched to) ends a command that hangs.
        var prefix = ""
        if geteuid() == 0 {
            _ = try Factpipe.tool("/bin/chown", ["-R", "nobody:nogroup", work.url.path])
            prefix = "timeout -s KILL 60 setpriv --reuid=nobody --regid=nogroup --clear-groups "
        }
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let script = "cd '\(work.url.path)' && ulimit -u \(processes) && exec \(prefix)'\(binary)' \(quoted)"
        return try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
    }

    /// With the process and thread limit reached (`ulimit -u`, a container's pids limit), libdispatch waits
    /// for a thread for ever: import, export and backup hung, holding the writer lock, and no signal ended
    /// them.
    @Test(arguments: [
        ["import", "facts.ndjson", "--db", "new.sqlite"],
        ["export", "--db", "kb.sqlite", "-o", "kb.ndjson.zst"],
        ["backup", "--db", "kb.sqlite", "--to", "backups"],
    ])
    func aCommandThatCannotStartAThreadFailsAtOnceAndLeavesNothing(_ arguments: [String]) throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "2000", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
        let before = try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
        let started = Date()
        let run = try runWithoutThreads(work, arguments)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(run.stderr.contains("cannot start a thread"), "\(run.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: work.url.path).filter { $0 != "factpipe" }.sorted()
        #expect(after == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("backups")).isEmpty)
    }

    /// With a thread to spare but not more, export and backup write their archives whole: zstd's workers,
    /// the copy's check and the frame decoders run on the command's own thread when no other starts (zstd
    /// said "Allocation error : not enough memory" and the command failed).
    @Test func exportAndBackupWithOneThreadToSpareWriteWholeArchives() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "20000", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
        let export = try runWithoutThreads(work, ["export", "--db", "kb.sqlite", "-o", "kb.ndjson.zst", "--threads", "2"],
                                           processes: 2)
        #expect(export.status == 0, "\(export.stderr)")
        let backup = try runWithoutThreads(work, ["backup", "--db", "kb.sqlite", "--to", "backups", "--threads", "2"],
                                           processes: 2)
        #expect(backup.status == 0, "\(backup.stderr)")
        let archives = try FileManager.default.contentsOfDirectory(atPath: work.path("backups")).filter { $0.hasSuffix(".db.zst") }
        #expect(archives.count == 1)
        for archive in [work.path("kb.ndjson.zst")] + archives.map({ work.path("backups/\($0)") }) {
            #expect(try Factpipe.run(["verify", archive, "-q"]).status == 0, "\(archive)")
        }
        let restored = work.path("restored.sqlite")
        #expect(try Factpipe.run(["restore", work.path("kb.ndjson.zst"), "--to", restored, "-q"]).status == 0)
        #expect(try SQLiteFile.int(restored, "SELECT count(*) FROM facts") == (try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")))
    }

    /// A file that reaches `ulimit -f` raised SIGXFSZ, which ended the process silently (153): the ledger row
    /// stayed `running`, the rejects file ended in a torn line, an export left its temporary files. (The
    /// signal's default action is restored for the command, whatever the test runner set.)
    @Test func aFileSizeLimitFailsTheCommandAsAFullDiskDoes() throws {
        let work = try CLIWorkspace()
        let input = work.path("bad.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "20000", "--invalid-rate", "0.8", "-o", input, "-q"]).status == 0)
        let rejects = work.path("rejects.ndjson")
        let load = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", """
            ulimit -f 200 && exec env --default-signal=XFSZ '\(BinaryLocator.factpipe.path)' import '\(input)' --db '\(work.database)' \
              --rejects '\(rejects)' --batch-size 1000 --json
            """])
        // The database or the rejects file reaches the limit first: either fails the load as it says.
        #expect(load.status == 1, "\(load.stderr)")
        #expect(load.stderr.contains("File too large") || load.stderr.contains("disk I/O error"), "\(load.stderr)")
        #expect(try load.json()["status"] as? String == "failed")
        // The rejects file holds whole lines only, and --resume (the database may have met the limit too,
        // its ledger row left `running`, as on a full disk) gives the facts and rejects of a clean load.
        let cut = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(cut.isEmpty || cut.hasSuffix("\n"))
        let resume = try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--batch-size", "1000", "--resume", "-q"])
        #expect(resume.status == 2, "\(resume.stderr)")
        let clean = try Factpipe.run(["import", input, "--db", work.path("clean.sqlite"), "--rejects", work.path("clean.rejects"), "-q"])
        #expect(clean.status == 2, "\(clean.stderr)")
        let facts = "SELECT statement, confidence FROM facts ORDER BY statement"
        #expect(try SQLiteFile.strings(work.database, facts) == (try SQLiteFile.strings(work.path("clean.sqlite"), facts)))
        #expect(try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").count
            == (try String(contentsOfFile: work.path("clean.rejects"), encoding: .utf8).split(separator: "\n").count))

        let export = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", """
            ulimit -f 100 && exec env --default-signal=XFSZ '\(BinaryLocator.factpipe.path)' export --db '\(work.database)' -o '\(work.path("out.ndjson"))'
            """])
        #expect(export.status == 1, "\(export.stderr)")
        #expect(export.stderr.contains("File too large"), "\(export.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).allSatisfy { !$0.contains("out.ndjson") })
    }

    /// A snapshot restored under a limit on a file's size (or a quota) that the new database reached was
    /// reported as `count_mismatch`, the archive judged damaged (automation deletes such an archive); a full
    /// disk was already `io`. It is `io`, naming the write, and the archive verifies as before.
    @Test func aRestoreStoppedByAFileSizeLimitDoesNotJudgeTheArchive() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "30000", "--seed", "7", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let snapshot = work.path("s.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        let target = work.path("restored.sqlite")
        let restore = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", """
            ulimit -f 2000 && exec env --default-signal=XFSZ '\(BinaryLocator.factpipe.path)' restore '\(snapshot)' \
              --to '\(target)' --json
            """])
        #expect(restore.status == 1, "\(restore.stderr)")
        let json = try restore.json()
        #expect(json["error"] as? String == "io", "\(json)")
        #expect((json["message"] as? String)?.contains("the archive itself is not judged") == true, "\(json)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(try Factpipe.run(["verify", snapshot]).status == 0)
    }
}
