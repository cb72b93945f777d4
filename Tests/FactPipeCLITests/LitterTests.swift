import Foundation
import Testing

/// A command killed with `kill -9` cannot remove its temporary files; the next command that writes
/// into the same folder removes them (only those whose owner is gone), so a cron job that is killed now
/// and then does not fill the disk.
@Suite struct LitterTests {
    /// A database of `facts` generated facts in a new workspace.
    private func loadedWorkspace(facts: Int = 150_000) throws -> CLIWorkspace {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        let generated = try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "5", "-o", input, "-q"])
        try #require(generated.status == 0, "\(generated.stderr)")
        let load = try Factpipe.run(["import", input, "--db", work.database, "--quiet"])
        try #require(load.status == 0, "\(load.stderr)")
        try FileManager.default.removeItem(atPath: input)
        return work
    }

    /// The names of factpipe's temporary files in `folder`.
    private func temporaries(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".factpipe-tmp-") }.sorted()
    }

    /// Starts `arguments`, waits until each of `folders` holds a temporary file, then kills the process
    /// with SIGKILL; returns what it left.
    private func killWhileWriting(_ arguments: [String], folders: [String]) throws -> [String] {
        let process = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        let seen = try poll(timeout: 60) {
            try folders.allSatisfy { try !temporaries($0).isEmpty } || !process.isRunning
        }
        process.killNine()
        try process.wait()
        try #require(seen && process.wasKilled, "the command ended before it was killed: \(process.finished?.stderr ?? "")")
        return try folders.flatMap { try temporaries($0) }
    }

    @Test func aBackupKilledMidWayLeavesNothingOnceTheNextBackupRan() throws {
        let work = try loadedWorkspace()
        let backups = work.path("backups"), scratch = work.path("scratch")
        for folder in [backups, scratch] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        let arguments = ["backup", "--db", work.database, "--to", backups, "--temp-dir", scratch]
        let left = try killWhileWriting(arguments, folders: [scratch, backups])
        #expect(left.count >= 2, "the killed backup left its copy and its partial archive: \(left)")

        let run = try Factpipe.run(arguments + ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try temporaries(scratch).isEmpty)
        #expect(try temporaries(backups).isEmpty)
        let written = try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
        #expect(written.count == 2 && written.allSatisfy { $0.hasPrefix("kb-") }, "\(written)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    @Test func aBackupPutsItsUncompressedCopyBesideTheDatabaseByDefault() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let backups = work.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: false)
        let process = try BackgroundProcess(BinaryLocator.factpipe, ["backup", "--db", work.database, "--to", backups])
        var copies: Set<String> = []
        while process.isRunning {
            copies.formUnion(try temporaries(work.url.path).filter { $0.hasPrefix(".kb-") && $0.contains(".db.zst.db.") })
        }
        #expect(try process.wait().status == 0)
        #expect(try temporaries(work.url.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).count == 2)
        // The copy may come and go between two looks; when it was seen, it was beside the database.
        #expect(copies.allSatisfy { $0.hasPrefix(".kb-") })
    }

    @Test func aBackupWhoseTemporaryFolderIsMissingOrEmptyFailsAndWritesNothing() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let backups = work.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: false)
        let before = try sha256sum(work.database)
        let missing = try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--temp-dir", work.path("nope")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("the folder for the temporary copy does not exist"), "\(missing.stderr)")
        let empty = try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--temp-dir", ""])
        #expect(empty.status == 64, "\(empty.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).isEmpty)
        #expect(try temporaries(work.url.path).isEmpty)
        #expect(try sha256sum(work.database) == before)
    }

    @Test func aRestoreKilledMidWayLeavesNothingOnceTheNextRestoreRan() throws {
        let work = try loadedWorkspace()
        let backups = work.path("backups"), target = work.path("restored")
        for folder in [backups, target] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        let backup = try #require(
            try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--json"]).json()["file"] as? String)
        let arguments = ["restore", backup, "--to", target + "/kb.sqlite", "--force"]
        let left = try killWhileWriting(arguments, folders: [target])
        #expect(!left.isEmpty)

        let run = try Factpipe.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try temporaries(target).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).contains("kb.sqlite"))
    }

    @Test func anExportKilledMidWayLeavesNothingOnceTheNextExportRan() throws {
        let work = try loadedWorkspace()
        let out = work.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let arguments = ["export", "--db", work.database, "-o", out + "/facts.ndjson.zst", "--level", "19"]
        let left = try killWhileWriting(arguments, folders: [out])
        #expect(!left.isEmpty)

        let run = try Factpipe.run(["export", "--db", work.database, "-o", out + "/other.ndjson.zst"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try temporaries(out).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            == ["other.ndjson.zst", "other.ndjson.zst.sha256"])
    }

    /// A factpipe in another PID namespace (a container) writing into the same folder has process
    /// numbers that mean nothing here: its live temporary file is not swept by an export run here.
    @Test func anExportInAnotherPIDNamespaceKeepsItsTemporaryFile() throws {
        guard getuid() == 0,
            (try? Factpipe.tool("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "true"])) != nil
        else { return }
        let work = try loadedWorkspace()
        let out = work.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let big = out + "/big.ndjson.zst"
        let contained = try BackgroundProcess(
            URL(fileURLWithPath: "/usr/bin/unshare"),
            ["--pid", "--fork", "--mount-proc", BinaryLocator.factpipe.path, "export", "--db", work.database, "-o", big,
             "--level", "19", "--threads", "1"])
        let writing = try poll(timeout: 60) { try !temporaries(out).isEmpty || !contained.isRunning }
        // Stopped while it writes (and so sure to be alive when the other export sweeps), then let go.
        let exporter = try #require(childProcess(of: contained.pid))
        try #require(writing && kill(exporter, SIGSTOP) == 0, "the export ended before it was seen writing")
        let left = try temporaries(out)
        let run = try Factpipe.run(["export", "--db", work.database, "-o", out + "/small.ndjson.zst", "-q"])
        kill(exporter, SIGCONT)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try temporaries(out) == left)
        let finished = try contained.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try Factpipe.run(["verify", big, "-q"]).status == 0)
    }

    @Test func optimizeRemovesOnlyTheTemporariesOfProcessesThatAreGone() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let folder = work.url.path
        // A live process (its real start time) and one that has ended.
        let live = try BackgroundProcess(URL(fileURLWithPath: "/bin/sleep"), ["60"])
        defer { live.killNine() }
        let liveStart = try #require(try startTime(live.pid))
        let ended = try BackgroundProcess(URL(fileURLWithPath: "/bin/true"), [])
        try ended.wait()
        let endedStart = liveStart + 1  // recorded by a process whose number is free or reused since
        let kept = [
            ".kb.sqlite.factpipe-tmp-\(live.pid)-\(liveStart)-1",  // its owner still runs
            ".kb.sqlite.tmp-\(ended.pid)-1",  // not a name factpipe gives
            "kb.sqlite.factpipe-tmp-\(ended.pid)-\(endedStart)-1",  // not hidden
            ".notes.factpipe-tmp-\(ended.pid)-\(endedStart)",  // no sequence number
        ]
        let removed = [
            ".kb.sqlite.factpipe-tmp-\(ended.pid)-\(endedStart)-3",
            ".kb.sqlite.factpipe-tmp-\(ended.pid)-\(endedStart)-3-journal",
            ".x.db.zst.db.factpipe-tmp-\(ended.pid)-\(endedStart)-7-wal",
        ]
        for name in kept + removed { try work.write(name, "x") }
        // A link named like a stale temporary is left alone, and so is the file it points to.
        try work.write("precious.txt", "keep me")
        let link = ".link.factpipe-tmp-\(ended.pid)-\(endedStart)-9"
        try FileManager.default.createSymbolicLink(atPath: work.path(link), withDestinationPath: work.path("precious.txt"))

        let run = try Factpipe.run(["optimize", "--db", work.database])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("removed 3 temporary files left by killed commands"), "\(run.stderr)")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        for name in kept + [link, "precious.txt"] { #expect(names.contains(name), "\(name) was removed") }
        for name in removed { #expect(!names.contains(name), "\(name) was left") }
        #expect(try work.read("precious.txt") == "keep me")
    }

    @Test func aBackupOfADatabaseReplacedMidWayIsNotKept() throws {
        let work = try loadedWorkspace()
        let backups = work.path("backups"), scratch = work.path("scratch")
        for folder in [backups, scratch] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        let other = work.path("other.sqlite")
        try FileManager.default.copyItem(atPath: work.database, toPath: other)
        let process = try BackgroundProcess(BinaryLocator.factpipe, ["backup", "--db", work.database, "--to", backups, "--temp-dir", scratch])
        let started = try poll(timeout: 60) { try !temporaries(scratch).isEmpty || !process.isRunning }
        try #require(rename(other, work.database) == 0)
        let run = try process.wait()
        try #require(started && run.status != 0, "the backup ended before the database was replaced")
        #expect(run.status == 1)
        #expect(run.stderr.contains("replaced by another file during the backup"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    @Test func aRestoreOntoAnotherFileSystemThanTheTemporaryFolderWorks() throws {
        guard getuid() == 0 else { return }
        let work = try CLIWorkspace()
        try work.loadFacts()
        let backups = work.path("backups"), mounted = work.path("mounted")
        for folder in [backups, mounted] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        let backup = try #require(
            try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--json"]).json()["file"] as? String)
        let script = """
            mount -t tmpfs -o size=64m tmpfs '\(mounted)' || exit 77
            '\(BinaryLocator.factpipe.path)' restore '\(backup)' --to '\(mounted)/kb.sqlite' --json
            echo "exit=$?"; ls -A '\(mounted)'
            """
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "sh", "-c", script])
        try #require(run.status != 77, "cannot mount a tmpfs: \(run.stderr)")
        let listing = run.stdoutText.components(separatedBy: "exit=0\n")
        #expect(listing.count == 2, "\(run.stdoutText) \(run.stderr)")
        let names = (listing.last ?? "").split(separator: "\n")
        #expect(names.contains("kb.sqlite") && !names.contains { $0.contains(".factpipe-tmp-") }, "\(names)")
    }
}

/// The start time of process `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
private func startTime(_ pid: Int32) throws -> UInt64? {
    let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    guard let close = text.lastIndex(of: Character(")")) else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 19 ? UInt64(fields[19]) : nil
}

/// The process whose parent is `parent` (the first found), from `/proc/PID/stat`.
private func childProcess(of parent: Int32) -> Int32? {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
    for entry in entries {
        guard let pid = Int32(entry), let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: Character(")"))
        else { continue }
        let fields = text[text.index(after: close)...].split(separator: " ")
        if fields.count > 1, Int32(fields[1]) == parent { return pid }
    }
    return nil
}
