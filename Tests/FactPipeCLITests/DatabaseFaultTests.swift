import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What factpipe does when the database cannot take a load: the disk fills up, the file or its folder is
/// read-only, another process holds the write lock, the file is not a database. Each ends with a clear
/// error and exit code 1, and leaves the database as it was (or, for a full disk, with every committed
/// batch and a load `--resume` completes once there is space again).
@Suite struct DatabaseFaultTests {
    /// Mounts a tmpfs of `megabytes` on a new folder of `work` (the tests run as root, as CI does).
    private func mountTmpfs(_ work: CLIWorkspace, megabytes: Int) throws -> String {
        let folder = work.path("tmpfs")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Factpipe.tool("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", folder])
        return folder
    }

    private func unmount(_ folder: String) {
        _ = try? Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/umount"), [folder])
    }

    private func generate(_ work: CLIWorkspace, _ name: String, facts: Int, seed: Int) throws -> String {
        let path = work.path(name)
        let run = try Factpipe.run(["generate", "--facts", "\(facts)", "--seed", "\(seed)", "-o", path, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        return path
    }

    /// A load stopped by the limit on a file's size (`ulimit -f`) when its log reached it: the ledger row
    /// says failed (it stayed `running`, as if a load were still at work, and the next load called it
    /// interrupted) and the message names the limit (it said "disk I/O error" alone); raised, `--resume`
    /// finishes the load.
    @Test func aLoadStoppedByTheFileSizeLimitIsRecordedFailedNamingTheLimit() throws {
        let work = try CLIWorkspace()
        let generated = try generate(work, "facts.ndjson", facts: 50_000, seed: 1)
        // Every third record refused, with 200 bytes of padding: its rejects grow the load's files faster.
        let lines = try String(contentsOfFile: generated, encoding: .utf8).split(separator: "\n")
        let mixed = lines.enumerated().map { index, line in
            (index + 1) % 3 == 0
                ? #"{"statement":"bad(\#(index + 1)","pad":"\#(String(repeating: "0", count: 200))"}"# : String(line)
        }.joined(separator: "\n") + "\n"
        let input = try work.write("mix.ndjson", mixed)
        let arguments = "\"$0\" import \"$1\" --db \"$2\" --batch-size 1000 --rejects \"$2.rej\" -q"
        let limited = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "ulimit -f 2000; " + arguments, BinaryLocator.factpipe.path, input, work.database,
        ])
        #expect(limited.status == 1, "\(limited.stderr)")
        #expect(limited.stderr.contains("(`ulimit -f`)"), "\(limited.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["failed"])
        let resumed = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), [
            "-c", arguments + " --resume", BinaryLocator.factpipe.path, input, work.database,
        ])
        #expect(resumed.status == 2, "\(resumed.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT status FROM factpipe_loads") == ["done"])
        #expect(try SQLiteFile.int(work.database, "SELECT records FROM factpipe_loads") == lines.count)
    }

    /// Out of descriptors (`ulimit -n`), a reader says so: it said "unable to open database file" of a
    /// database that is there. A backup whose copy fails for another reason than room (here `ulimit -f`) no
    /// longer blames the copy folder's room.
    @Test func aProcessLimitIsNamedNotTheDatabaseOrTheFolder() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 20_000, seed: 2)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let binary = BinaryLocator.factpipe.path
        let stats = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -n 8; exec \"$0\" stats --db \"$1\"", binary, work.database])
        #expect(stats.status == 1, "\(stats.stderr)")
        #expect(stats.stderr.contains("Too many open files"), "\(stats.stderr)")
        let folder = work.path("backups")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let backup = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "ulimit -f 1000; exec \"$0\" backup --db \"$1\" --to \"$2\"", binary, work.database, folder,
        ])
        #expect(backup.status == 1, "\(backup.stderr)")
        #expect(backup.stderr.contains("cannot copy the database into this folder")
            && !backup.stderr.contains("the copy needs the database's size free"), "\(backup.stderr)")
        #expect(try work.contents("backups").isEmpty)
    }

    /// SQLite sorts for an index in a temporary folder of its own: with that one full, the load failed
    /// with "database or disk is full", naming the database, whose disk had room. The message says how much
    /// room each disk has, and which folder SQLite sorts in.
    @Test func aFullTemporaryFolderIsNamedBesideTheDatabasesDisk() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 100_000, seed: 5)
        let small = try mountTmpfs(work, megabytes: 1)
        defer { unmount(small) }
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["TMPDIR=\(small)", BinaryLocator.factpipe.path, "import", input, "--db", work.database])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("database or disk is full (room left: "), "\(run.stderr)")
        #expect(run.stderr.contains("on the disk of SQLite's temporary folder \(small), where it sorts"), "\(run.stderr)")
        // Once there is room, the load completes what it left.
        let resumed = try Factpipe.run(["import", input, "--db", work.database, "--resume", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
    }

    /// With less room than SQLite's shared-memory file needs, SQLite reports a "disk I/O error" for every
    /// command, readers too: the message says the disk is full, and which.
    @Test func aDiskTooFullForTheSharedMemoryFileIsNamedFull() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 5_000, seed: 4)
        let disk = try mountTmpfs(work, megabytes: 4)
        defer { unmount(disk) }
        let database = disk + "/kb.sqlite"
        #expect(try Factpipe.run(["import", input, "--db", database, "-q"]).status == 0)
        try Factpipe.tool("/bin/sh", ["-c", "dd if=/dev/zero of='\(disk)/fill' bs=1k count=$(( $(df -k --output=avail '\(disk)' | tail -1) - 16 ))"])
        for command in [["stats", "--db", database], ["import", input, "--db", database, "--force"]] {
            let run = try Factpipe.run(command)
            #expect(run.status == 1, "\(command[0]): \(run.stderr)")
            #expect(run.stderr.contains("(\(String(cString: strerror(ENOSPC))); room left: "), "\(command[0]): \(run.stderr)")
            #expect(run.stderr.contains("on the database's disk (\(disk))"), "\(command[0]): \(run.stderr)")
        }
    }

    /// A load whose batches fit in the log but whose last copy of the log into the database did not (the
    /// disk full): the load is whole, and says that the database is its file and `-wal` together (it said
    /// done and nothing more, the disk left full and a copy of the file alone malformed).
    @Test func aLogThatCannotBeCopiedIntoTheDatabaseAtTheEndIsNamed() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 20_000, seed: 1)
        let disk = try mountTmpfs(work, megabytes: 10)
        defer { unmount(disk) }
        let database = disk + "/kb.sqlite"
        let run = try Factpipe.run(["import", input, "--db", database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let notes = try run.json()["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("could not be copied into the database") && $0.contains("-wal together") },
                "\(notes)")
        #expect(try SQLiteFile.strings(database, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == int(try run.json(), "inserted"))
    }

    /// A first load whose facts are all in, but whose disk has no room left to build again the index it set
    /// aside, is done, as its ledger row says, and a note says what is missing: it failed (exit 1) beside a
    /// ledger saying done, and `run` skipped the steps after it.
    @Test func aLoadWhoseIndexCannotBeBuiltAgainIsDoneAsItsLedgerSays() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        let made = try Factpipe.run(["generate", "--facts", "20000", "--seed", "3", "--invalid-rate", "0.01", "-o", input, "-q"])
        try #require(made.status == 0, "\(made.stderr)")
        var sawIndexNote = false
        for kilobytes in [6_600, 6_800, 7_000] {
            let folder = work.path("disk\(kilobytes)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Factpipe.tool("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder])
            defer { unmount(folder) }
            let run = try Factpipe.run(["import", input, "--db", folder + "/kb.sqlite", "--batch-size", "2000", "--json"])
            let summary = try run.json()
            let ledger = try SQLiteFile.strings(folder + "/kb.sqlite", "SELECT status FROM factpipe_loads")
            #expect(ledger == [summary["status"] as? String ?? "?"], "\(kilobytes) kB: \(ledger) \(summary)")
            let notes = summary["notes"] as? [String] ?? []
            if notes.contains(where: { $0.contains("an index it set aside could not be built again") }) {
                sawIndexNote = true
                #expect(run.status == 2, "\(kilobytes) kB: \(run.stderr)")
            }
        }
        #expect(sawIndexNote, "no disk size left the index out")
    }

    @Test func aFullDiskFailsTheLoadKeepsItsCommittedBatchesAndResumeCompletesIt() throws {
        let work = try CLIWorkspace()
        let input = try generate(work, "facts.ndjson", facts: 60_000, seed: 3)  // 11 MB, over the 8 MiB disk
        let referenceDB = work.path("reference.sqlite")
        let reference = try BackgroundProcess(BinaryLocator.factpipe,
                                              ["import", input, "--db", referenceDB, "--batch-size", "2000", "-q"])
        let disk = try mountTmpfs(work, megabytes: 8)
        defer { unmount(disk) }
        let database = disk + "/kb.sqlite"

        let full = try Factpipe.run(["import", input, "--db", database, "--batch-size", "2000", "--json"])
        #expect(full.status == 1, "\(full.stderr)")
        let json = try full.json()
        #expect(json["status"] as? String == "failed")
        let message = try #require(json["message"] as? String)
        #expect(message.contains("database or disk is full"), "\(message)")
        #expect(full.stderr.contains("factpipe: \(database): database or disk is full"), "\(full.stderr)")
        // Counts add up: records still waiting in the staging table (the merge itself ran out of
        // space) are counted as staged, and the message says so.
        let records = try #require(int(json, "records"))
        let accounted = ["inserted", "updated", "duplicates", "rejected", "staged"].map { int(json, $0) ?? -1 }
            .reduce(0, +)
        #expect(records == accounted, "\(json)")
        if let staged = int(json, "staged"), staged > 0 {
            #expect(message.contains("\(staged) committed records stay staged"), "\(message)")
        }
        #expect(records > 0 && records < 60_000 && records % 2_000 == 0, "\(records)")
        #expect(try SQLiteFile.strings(database, "PRAGMA integrity_check") == ["ok"])
        let failed = try #require(try SQLiteFile.ledger(database).first)
        #expect(failed["status"] as? String == "failed")
        #expect(int(failed, "records") == records)
        #expect(int(failed, "checkpoint_line") == records + 1)

        // Space is back: --resume merges what was committed and loads the rest, as one uninterrupted load.
        try Factpipe.tool("/usr/bin/mount", ["-o", "remount,size=256m", disk])
        let resumed = try Factpipe.run(
            ["import", input, "--db", database, "--batch-size", "2000", "--resume", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try resumed.json()["status"] as? String == "done")
        #expect(try reference.wait().status == 0)
        #expect(try factDump(database) == (try factDump(referenceDB)))
        #expect(try ledgerDump(database) == (try ledgerDump(referenceDB)))
        #expect(try SQLiteFile.strings(database, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM factpipe_staging") == 0)
        // The failed load appended straight to the empty table; whatever it could not finish, the unique
        // index is back after the resumed load, and it holds.
        #expect(try SQLiteFile.strings(database, "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            == ["facts_statement", "facts_subject_predicate"])
    }

    /// A loaded database and a second input to load into it.
    private func loadedDatabase(_ work: CLIWorkspace, at database: String) throws -> String {
        let first = try work.write("first.txt", "HasPart(Computer, CPU).\nIsA(Socrates, Human).\n")
        #expect(try Factpipe.run(["import", first, "--db", database, "-q"]).status == 0)
        return try work.write("second.txt", "HasPart(Car, Engine).\n")
    }

    @Test func aReadOnlyDatabaseFileIsRefusedAndLeftUnchanged() throws {
        let work = try CLIWorkspace()
        let second = try loadedDatabase(work, at: work.database)
        // Root ignores permission bits, so the file is made immutable instead.
        try Factpipe.tool("/usr/bin/chattr", ["+i", work.database])
        defer { _ = try? Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/chattr"), ["-i", work.database]) }
        let before = try sha256sum(work.database)
        let run = try Factpipe.run(["import", second, "--db", work.database, "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let message = try #require(try run.json()["message"] as? String)
        #expect(message.hasPrefix(work.database) && message.contains("attempt to write a readonly database"),
                "\(message)")
        #expect(try sha256sum(work.database) == before)
        #expect(readOnlyInt(work.database, "SELECT count(*) FROM facts") == 2)
    }

    @Test func aFolderThatIsNotWritableIsRefusedAndTheDatabaseLeftUnchanged() throws {
        let work = try CLIWorkspace()
        let folder = try mountTmpfs(work, megabytes: 8)
        defer { unmount(folder) }
        let database = folder + "/kb.sqlite"
        let second = try loadedDatabase(work, at: database)
        try Factpipe.tool("/usr/bin/mount", ["-o", "remount,ro", folder])
        let before = try sha256sum(database)
        let existing = try Factpipe.run(["import", second, "--db", database, "--json"])
        #expect(existing.status == 1, "\(existing.stderr)")
        let message = try #require(try existing.json()["message"] as? String)
        #expect(message.hasPrefix(database), "\(message)")
        #expect(message.localizedCaseInsensitiveContains("read-only")
                || message.localizedCaseInsensitiveContains("readonly"), "\(message)")
        #expect(try sha256sum(database) == before)
        let fresh = try Factpipe.run(["import", second, "--db", folder + "/new.sqlite", "--json"])
        #expect(fresh.status == 1, "\(fresh.stderr)")
        #expect(try fresh.json()["message"] as? String != nil)
        #expect(!FileManager.default.fileExists(atPath: folder + "/new.sqlite"))
    }

    /// Another program (not factpipe, so not its lock file) holding SQLite's write lock on the workspace's
    /// database, until `release` is called (also when the caller's test fails).
    private final class SQLiteWriteLockHolder {
        private let holder = Process()
        private let commands = Pipe()
        private let output: FileHandle

        init(_ work: CLIWorkspace) throws {
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            holder.arguments = [work.database]
            let said = work.path("holder.out")
            _ = FileManager.default.createFile(atPath: said, contents: nil)
            output = try FileHandle(forWritingTo: URL(fileURLWithPath: said))
            holder.standardInput = commands
            holder.standardOutput = output
            try holder.run()
            // It says "held" only once BEGIN IMMEDIATE has succeeded (`.bail on` stops it otherwise).
            commands.fileHandleForWriting.write(Data(".bail on\nBEGIN IMMEDIATE;\nSELECT 'held';\n".utf8))
            try #require(poll(timeout: 30) {
                (try? String(contentsOfFile: said, encoding: .utf8))?.contains("held") == true
            }, "the other writer did not take SQLite's write lock")
        }

        func release() throws {
            try commands.fileHandleForWriting.close()
            holder.waitUntilExit()
            try output.close()
        }

        deinit {
            if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }
        }
    }

    @Test func aDatabaseLockedByAnotherWriterFailsAfterTheBusyTimeoutAndIsLeftUnchanged() throws {
        let work = try CLIWorkspace()
        let second = try loadedDatabase(work, at: work.database)
        let holder = try SQLiteWriteLockHolder(work)
        let before = try sha256sum(work.database)
        let locked = try Factpipe.run(["import", second, "--db", work.database, "--json"])
        #expect(locked.status == 1, "\(locked.stderr)")
        #expect(try locked.json()["message"] as? String == "\(work.database): database is locked (in: BEGIN IMMEDIATE)")
        #expect(try sha256sum(work.database) == before)
        // Once the other writer is gone, the same load goes through.
        try holder.release()
        #expect(try Factpipe.run(["import", second, "--db", work.database, "-q"]).status == 0)
        #expect(readOnlyInt(work.database, "SELECT count(*) FROM facts") == 3)
    }

    /// A signal while a load or an undo waits out another program's write lock: SQLite's wait looked at nothing
    /// but the clock, so the command sat the signal out for the whole busy timeout (5 s) and then failed (exit
    /// 1, "database is locked", a report saying failed). It stops at once, as interrupted.
    @Test(arguments: [["import", "--force"], ["undo", "1"]])
    func aSignalEndsTheWaitForAnotherProgramsWriteLock(command: [String]) throws {
        let work = try CLIWorkspace()
        let second = try loadedDatabase(work, at: work.database)
        let holder = try SQLiteWriteLockHolder(work)
        let before = try sha256sum(work.database)
        let arguments: [String] = command[0] == "import" ? ["import", second] + command.dropFirst() : command
        let waiting = try BackgroundProcess(BinaryLocator.factpipe, arguments + ["--db", work.database])
        Thread.sleep(forTimeInterval: 1)
        let signalled = Date()
        kill(waiting.process.processIdentifier, SIGINT)
        let run = try waiting.wait()
        #expect(run.status == 130, "\(run.stderr)")
        #expect(Date().timeIntervalSince(signalled) < 3, "it waited out the busy timeout")
        #expect(run.stderr.contains("interrupted"), "\(run.stderr)")
        #expect(try sha256sum(work.database) == before)
        try holder.release()
    }

    @Test func aCorruptedDatabaseIsRefusedAndLeftUnchanged() throws {
        let work = try CLIWorkspace()
        let second = try loadedDatabase(work, at: work.database)
        var generator = SystemRandomNumberGenerator()
        let noise = work.path("noise.sqlite")
        try work.write("noise.sqlite", Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        let realBytes = try Data(contentsOf: URL(fileURLWithPath: work.database))
        let truncated = try work.write("truncated.sqlite", realBytes.prefix(realBytes.count / 3))
        let cases = [(noise, "file is not a database"), (truncated, "database disk image is malformed")]
        for (database, expected) in cases {
            let before = try sha256sum(database)
            let run = try Factpipe.run(["import", second, "--db", database, "--json"])
            #expect(run.status == 1, "\(database): \(run.stderr)")
            let message = try #require(try run.json()["message"] as? String)
            #expect(message.hasPrefix(database) && message.contains(expected), "\(message)")
            #expect(try sha256sum(database) == before)
            #expect(!FileManager.default.fileExists(atPath: database + "-wal"))
        }
    }
}
