import Foundation
import Testing

@Suite struct BackupRestoreCommandTests {
    /// `verify --full-check` of a backup writes the whole database into the temporary folder for SQLite to
    /// check: that copy is this user's alone (it was 0644, so any user could copy a 0600 database's facts
    /// from the shared /tmp while it was checked). Watched while the check runs.
    @Test func verifysCopyOfABackupIsPrivate() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "20000", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let object = try backup(work)
        let archive = try #require(object["file"] as? String, "\(object)")
        let temporary = work.path("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var seen: [String: mode_t] = [:]
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["TMPDIR=" + temporary, BinaryLocator.factpipe.path, "verify", "--full-check", archive, "-q"]
        ) { process in
            while process.isRunning {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] {
                    var info = stat()
                    if lstat(temporary + "/" + name, &info) == 0 { seen[name] = info.st_mode & 0o777 }
                }
            }
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(seen.keys.contains { $0.contains("factpipe-verify.db") }, "the copy was never seen: \(seen)")
        #expect(seen.values.allSatisfy { $0 & 0o077 == 0 }, "\(seen.mapValues { String($0, radix: 8) })")
    }

    private func backup(_ work: CLIWorkspace, database: String? = nil, _ extra: [String] = []) throws -> [String: Any] {
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let run = try Factpipe.run(
            ["backup", "--db", database ?? work.database, "--to", work.path("backups"), "--json"] + extra)
        try #require(run.status == 0, "backup failed: \(run.stderr)")
        return try run.json()
    }

    @Test func keepThreeAfterFiveBackupsLeavesTheThreeNewestAndNothingElseDeleted() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        try FileManager.default.createDirectory(atPath: work.path("elsewhere"), withIntermediateDirectories: false)
        // Another database called kb, backed up into the same folder; and files that are not backups.
        let other = work.path("elsewhere/kb.sqlite")
        #expect(try Factpipe.run(["import", snapshotFixture, "--db", other, "--quiet"]).status == 0)
        let foreign = try #require(try backup(work, database: other)["file"] as? String)
        try work.write("backups/README.txt", "hands off")
        try work.write("backups/kb-20200101T000000.000Z.db.zst", "shaped like a backup, but is not one")
        try work.write("backups/kb.sqlite", "a stray copy")
        let bystanders = try work.fileHashes(under: "backups")

        var made: [String] = []
        var removed: [String] = []
        for _ in 0..<5 {
            let object = try backup(work, ["--keep", "3"])
            made.append(try #require(object["file"] as? String))
            removed += object["removed"] as? [String] ?? []
        }
        #expect(removed == Array(made.prefix(2)))
        let names = made.suffix(3).map { String($0.split(separator: "/").last ?? "") }
        let expected = names.flatMap { [$0, $0 + ".sha256"] } + Array(bystanders.keys)
        #expect(try work.contents("backups") == expected.sorted())
        let after = try work.fileHashes(under: "backups")
        for (name, hash) in bystanders { #expect(after[name] == hash, "\(name) changed") }
        #expect(after[String(foreign.split(separator: "/").last ?? "")] != nil)
        // Each one left is a sound backup that sha256sum accepts.
        for name in names {
            let check = try Factpipe.tool(
                "/bin/sh", ["-c", "cd '\(work.path("backups"))' && sha256sum -c \(name).sha256"])
            #expect(check.stdoutText == "\(name): OK\n")
            #expect(try Factpipe.run(["verify", work.path("backups/" + name), "--quiet"]).status == 0)
        }
    }

    /// An old backup that cannot be deleted (`chattr +i`): pruning removed its `.sha256` first and failed, and
    /// the command said only that, as if no backup had been made. The checksum is put back, and the failure
    /// says the new backup was written and is kept.
    @Test func keepWithAnOldBackupThatCannotBeDeletedKeepsItsChecksumAndSaysTheNewOneIsKept() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let backups = work.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let first = try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let old = try #require(try first.json()["file"] as? String)
        let checksum = try sha256sum(old + ".sha256")
        let modified = try FileManager.default.attributesOfItem(atPath: old + ".sha256")[.modificationDate] as? Date
        let chattr = { (flag: String) throws -> Int32 in
            try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/chattr"), [flag, old]).status
        }
        try #require(try chattr("+i") == 0)
        defer { _ = try? chattr("-i") }
        let second = try Factpipe.run(["backup", "--db", work.database, "--to", backups, "--keep", "1"])
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("was written and is kept, but an older one could not be pruned"), "\(second.stderr)")
        #expect(try sha256sum(old + ".sha256") == checksum)
        #expect(try FileManager.default.attributesOfItem(atPath: old + ".sha256")[.modificationDate] as? Date == modified)
        let archives = try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".db.zst") }
        #expect(archives.count == 2)
        for archive in archives {
            #expect(try Factpipe.run(["verify", backups + "/" + archive]).status == 0)
        }
    }

    /// The backup just written is kept whatever its name sorts as: a backup named in the future (a clock
    /// that was ahead, or is now set back) used to outrank it, and `--keep 1` deleted the new one.
    @Test func keepOneKeepsTheBackupJustWrittenWhenAnOlderOneHasALaterName() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let first = try #require(try backup(work)["file"] as? String)
        let future = work.path("backups/kb-20991231T235959.999Z.db.zst")
        try FileManager.default.moveItem(atPath: first, toPath: future)
        try FileManager.default.moveItem(atPath: first + ".sha256", toPath: future + ".sha256")
        let object = try backup(work, ["--keep", "1"])
        let written = try #require(object["file"] as? String)
        #expect(FileManager.default.fileExists(atPath: written))
        #expect(object["removed"] as? [String] == [future])
        #expect(try Factpipe.run(["verify", written, "--quiet"]).status == 0)
    }

    /// Two databases whose folders differ only in how `é` is written (composed, decomposed) are two files
    /// here; Swift compared their manifests' paths as equal text, and `--keep 1` of one deleted the other's
    /// only backup. Names and paths are compared as bytes.
    @Test func keepOneLeavesTheBackupsOfADatabaseWhosePathDiffersOnlyInNormalization() throws {
        let work = try CLIWorkspace()
        var written: [String: String] = [:]
        for folder in ["caf\u{E9}", "cafe\u{301}"] {
            try FileManager.default.createDirectory(atPath: work.path(folder), withIntermediateDirectories: false)
            let database = work.path(folder + "/kb.sqlite")
            try #require(try Factpipe.run(["import", snapshotFixture, "--db", database, "-q"]).status == 0)
            written[folder] = try #require(try backup(work, database: database, ["--keep", "1"])["file"] as? String)
            #expect(try backup(work, database: database, ["--keep", "1"])["removed"] as? [String] == written[folder].map { [$0] })
        }
        let kept = try work.contents("backups").filter { $0.hasSuffix(".db.zst") }
        #expect(kept.count == 2, "\(kept)")
    }

    /// Two databases at one path (a container's `/data/kb.sqlite` on two hosts, one backup folder shared):
    /// `--keep 1` of the second deleted the first one's backup. It is left, and the command says so.
    @Test func keepOneLeavesAndNamesTheBackupsOfAnotherDatabaseAtTheSamePath() throws {
        let work = try CLIWorkspace()
        try #require(try Factpipe.run(["import", snapshotFixture, "--db", work.database, "-q"]).status == 0)
        let theirs = try #require(try backup(work, ["--keep", "1"])["file"] as? String)
        try FileManager.default.moveItem(atPath: work.database, toPath: work.path("first.sqlite"))
        try #require(try Factpipe.run(["import", snapshotFixture, "--db", work.database, "-q"]).status == 0)
        let json = try backup(work, ["--keep", "1"])
        #expect(json["removed"] as? [String] == [])
        #expect(json["other_databases_left"] as? [String] == [theirs])
        let human = try Factpipe.run(["backup", "--db", work.database, "--to", work.path("backups"), "--keep", "1"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stderr.contains("left 1 backup of other databases at \(work.database)"), "\(human.stderr)")
        #expect(human.stderr.contains("the oldest is \(theirs)"), "\(human.stderr)")
        #expect(try work.contents("backups").filter { $0.hasSuffix(".db.zst") }.count == 2)
        #expect(try Factpipe.run(["verify", theirs, "--quiet"]).status == 0)
    }

    /// Backups an earlier release wrote record no identity: once the database has one (its next load gives it),
    /// they may be its own or another host's at the same path, and the first `--keep` after the upgrade deleted
    /// them by their path. They are left and named; the backups that record the identity are pruned as before.
    @Test func keepLeavesAndNamesBackupsThatRecordNoIdentity() throws {
        let work = try CLIWorkspace()
        try #require(try Factpipe.run(["import", snapshotFixture, "--db", work.database, "-q"]).status == 0)
        // As an earlier release made it: no identity.
        try RawDatabase(work.database).execute("DELETE FROM factpipe_sequence WHERE name = 'database_id'")
        let unrecorded = try #require(try backup(work, [])["file"] as? String)
        let more = try work.write("more.ndjson", #"{"statement": "More(a, b)."}"# + "\n")
        try #require(try Factpipe.run(["import", more, "--db", work.database, "-q"]).status == 0)
        let json = try backup(work, ["--keep", "1"])
        #expect(json["removed"] as? [String] == [])
        #expect(json["unrecorded_left"] as? [String] == [unrecorded])
        #expect(json["other_databases_left"] as? [String] == [])
        let human = try Factpipe.run(["backup", "--db", work.database, "--to", work.path("backups"), "--keep", "1"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stderr.contains("removed old backup \(try #require(json["file"] as? String))"), "\(human.stderr)")
        #expect(human.stderr.contains("left 1 backup at \(work.database) that record no database identity"), "\(human.stderr)")
        #expect(human.stderr.contains("the oldest is \(unrecorded)"), "\(human.stderr)")
        #expect(try Factpipe.run(["verify", unrecorded, "--quiet"]).status == 0)
    }

    /// A text snapshot keeps the statements alone: restored, every fact came back at confidence 1.0 with no
    /// source and the restore's time, exit 0. Refused now, before anything is written; `import` loads it.
    @Test(arguments: ["kb.txt", "kb.txt.zst"])
    func aTextSnapshotIsRefusedByRestoreAndLeavesNothingBehind(_ name: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts(try work.write("facts.ndjson", #"{"statement":"P(a).","confidence":0.5,"source":"s"}"# + "\n"))
        let snapshot = work.path(name)
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        let target = work.path("restored.sqlite")
        let run = try Factpipe.run(["restore", snapshot, "--to", target, "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try run.json()["error"] as? String == "statements_only", "\(run.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("")).allSatisfy { !$0.contains("restored") })
    }

    @Test func aBackupRestoresToTheSameFactsAndZstdGivesTheDatabase() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let object = try backup(work)
        let file = try #require(object["file"] as? String)
        #expect(int(object, "facts") == snapshotFixtureFacts)
        let restored = try Factpipe.run(["restore", file, "--to", work.path("restored.sqlite"), "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let result = try restored.json()
        #expect(int(result, "facts") == snapshotFixtureFacts)
        #expect(result["database_check"] as? String == "quick_check")
        let unpacked = try Factpipe.tool("/usr/bin/zstd", ["-d", "-q", "-c", file])
        #expect(unpacked.stdout == (try Data(contentsOf: URL(fileURLWithPath: work.path("restored.sqlite")))))
        #expect(try SQLiteFile.strings(work.path("restored.sqlite"), "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(work.path("restored.sqlite"), "SELECT count(*) FROM facts") == snapshotFixtureFacts)
    }

    /// A program that crashed in the middle of a rollback-journal transaction on the database being
    /// replaced leaves a hot `-journal`: restore removes it with the `-wal` and `-shm`, or the first
    /// program to open the restored database would play the old pages back into it.
    @Test func restoreOverADatabaseWithAHotJournalGivesTheBackupsFacts() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let file = try #require(try backup(work)["file"] as? String)
        let script = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA journal_mode=DELETE")
            c.execute("BEGIN")
            c.execute("UPDATE facts SET source = hex(randomblob(64))")
            c.execute("DELETE FROM facts WHERE id % 2 = 0")
            os._exit(0)  # a crash: the transaction's journal stays, hot
            """
        try Factpipe.tool("/usr/bin/python3", ["-c", script, work.database])
        #expect(FileManager.default.fileExists(atPath: work.database + "-journal"))
        let restored = try Factpipe.run(["restore", file, "--to", work.database, "--force", "--quiet"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.database + "-journal"))
        #expect(try SQLiteFile.strings(work.database, "PRAGMA integrity_check") == ["ok"])
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == snapshotFixtureFacts)
    }

    @Test func aDatabaseOfSeveralFramesRestoresByteForByteAndADamagedFrameChangesNothing() throws {
        // 125,000 facts: a database of about 38 MB, in three frames (16 MiB each but the last).
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "125000", "--seed", "5", "-o", input, "--quiet"]).status == 0)
        try work.loadFacts(input)
        let frameBytes = 16 << 20
        let databaseBytes = try #require(
            try FileManager.default.attributesOfItem(atPath: work.database)[.size] as? Int)
        let frames = (databaseBytes + frameBytes - 1) / frameBytes
        #expect(frames == 3, "\(databaseBytes) bytes")
        let file = try #require(try backup(work)["file"] as? String)
        let listing = try Factpipe.tool("/usr/bin/zstd", ["-l", file]).stdoutText.split(separator: "\n")
        // `zstd -l` counts the manifest's skippable frame among the frames.
        let counts = listing.dropFirst().first?.split(separator: " ").prefix(2).compactMap { Int($0) }
        #expect(counts == [frames + 1, 1], "\(listing)")
        let name = String(file.split(separator: "/").last ?? "")
        let check = try Factpipe.tool("/bin/sh", ["-c", "cd '\(work.path("backups"))' && sha256sum -c \(name).sha256"])
        #expect(check.stdoutText == "\(name): OK\n")

        let target = work.path("restored.sqlite")
        let restored = try Factpipe.run(["restore", file, "--to", target, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let unpacked = try Factpipe.tool("/usr/bin/zstd", ["-d", "-q", "-c", file])
        let written = try Data(contentsOf: URL(fileURLWithPath: target))
        #expect(unpacked.stdout == written)
        let result = try restored.json()
        #expect(int(result, "parallel_frames") == frames)
        #expect(int(result, "facts") == (try SQLiteFile.int(work.database, "SELECT count(*) FROM facts")))

        // A byte flipped in the middle frame: refused, the database restored before stays as it was.
        var damaged = try Data(contentsOf: URL(fileURLWithPath: file))
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: work.path("damaged.db.zst")))
        let refused = try Factpipe.run(["restore", work.path("damaged.db.zst"), "--to", target, "--force", "--json"])
        #expect(refused.status == 1)
        #expect(["corrupt_frame", "hash_mismatch"].contains(try refused.json()["error"] as? String ?? ""))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == written)
        #expect(try work.contents("").filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aSnapshotRestoresIntoANewDatabase() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.csv.zst")]).status == 0)
        let run = try Factpipe.run(["restore", work.path("s.csv.zst"), "--to", work.path("new.sqlite")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("restored 11 facts"))
        #expect(!run.stderr.contains("filtered"), "\(run.stderr)")
        #expect(try allColumns(work.path("new.sqlite")) == (try allColumns(work.database)))
    }

    /// A filtered export restored over a database replaces it with that part: said, not silent.
    @Test func aFilteredSnapshotSaysItHoldsPartOfItsDatabase() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let predicate = try #require(try SQLiteFile.strings(work.database, "SELECT predicate FROM facts ORDER BY id LIMIT 1").first)
        #expect(try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("part.ndjson.zst"), "--predicate", predicate,
            "--since", "2000-01-01T00:00:00Z",
        ]).status == 0)
        let run = try Factpipe.run(["restore", work.path("part.ndjson.zst"), "--to", work.path("new.sqlite")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("the snapshot is a filtered export: it holds only the facts of the predicates "
            + "\(predicate) and created at or after 2000-01-01T00:00:00"), "\(run.stderr)")
        #expect(run.stderr.contains("of \(work.database), and so does \(work.path("new.sqlite")) now"), "\(run.stderr)")
        // A warning, said under --quiet too.
        let quiet = try Factpipe.run(["restore", work.path("part.ndjson.zst"), "--to", work.path("quiet.sqlite"), "-q"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.contains("the snapshot is a filtered export"), "\(quiet.stderr)")
    }

    /// A snapshot of no facts (a filter that matches none, an empty knowledge base) verifies and restores
    /// in both formats that keep every column: the CSV one, its header row alone, was refused as a misread input.
    @Test(arguments: ["csv", "ndjson"])
    func aSnapshotOfNoFactsRestoresToAnEmptyDatabase(_ format: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let archive = work.path("none.\(format).zst")
        let export = try Factpipe.run(["export", "--db", work.database, "--predicate", "NoSuchPredicate", "-o", archive])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try Factpipe.run(["verify", archive, "-q"]).status == 0)
        let restored = work.path("none-\(format).sqlite")
        let run = try Factpipe.run(["restore", archive, "--to", restored])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.int(restored, "SELECT count(*) FROM facts") == 0)
        // An import of a header alone still fails: there it is a misread input.
        let header = try work.write("header.csv", "statement,confidence\n")
        #expect(try Factpipe.run(["import", header, "--db", work.path("h.sqlite"), "-q"]).status == 1)
    }

    /// Only the first line of `FILE.sha256` was read: a second checksum (appended, edited in) went unseen,
    /// and verify passed what `sha256sum -c` fails.
    @Test func aChecksumFileOfTwoLinesFailsVerifyAndRestore() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let archive = work.path("s.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
        let sidecar = archive + ".sha256"
        let line = try String(contentsOfFile: sidecar, encoding: .utf8)
        try (line + String(repeating: "0", count: 64) + "  s.ndjson.zst\n").write(toFile: sidecar, atomically: true, encoding: .utf8)
        let check = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "cd \"$0\" && sha256sum -c s.ndjson.zst.sha256", work.url.path])
        #expect(check.status != 0, "sha256sum -c fails it")
        let verify = try Factpipe.run(["verify", archive])
        #expect(verify.status == 1, "\(verify.stderr)")
        #expect(verify.stderr.contains("file_hash_mismatch"), "\(verify.stderr)")
        let restore = try Factpipe.run(["restore", archive, "--to", work.path("r.sqlite")])
        #expect(restore.status == 1, "\(restore.stderr)")
        // The one line it had, with blank lines around it, still verifies.
        try ("\n" + line + "\n").write(toFile: sidecar, atomically: true, encoding: .utf8)
        #expect(try Factpipe.run(["verify", archive, "-q"]).status == 0)
    }

    @Test func verifyNamesASoundArchiveOk() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let file = try #require(try backup(work)["file"] as? String)
        let run = try Factpipe.run(["verify", file, "--json", "--full-check"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.json()
        #expect(object["status"] as? String == "ok")
        #expect(object["kind"] as? String == "backup")
        #expect(object["database_check"] as? String == "integrity_check")
        #expect(object["checksum_file_checked"] as? Bool == true)
        #expect(problemKinds(object).isEmpty)
        #expect(run.stderr.contains("ok: \(file): backup of 11 facts"))
    }
}
