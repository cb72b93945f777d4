import Foundation
import Testing

/// `restore --force` replaces a database and nothing else: never another database's side file, an
/// archive's sidecar, a text file or another program's SQLite database.
@Suite struct RestoreTargetTests {
    /// A database, a compressed snapshot of it to restore, and a plain snapshot with its sidecars.
    private final class Setup {
        let work: CLIWorkspace
        let archive: String

        init() throws {
            work = try CLIWorkspace()
            try work.loadFacts()
            archive = work.path("s.ndjson.zst")
            try #require(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
            let plain = try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.csv"), "-q"])
            try #require(plain.status == 0, "\(plain.stderr)")
        }

        func restore(to target: String, json: Bool = false) throws -> FactpipeRun {
            try Factpipe.run(["restore", archive, "--to", target, "--force"] + (json ? ["--json"] : ["-q"]))
        }

        /// The archive of `kind` to restore: the compressed snapshot, or a backup of the database made now.
        func archive(_ kind: String) throws -> String {
            guard kind == "backup" else { return archive }
            try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
            let backup = try Factpipe.run(["backup", "--db", work.database, "--to", work.path("backups"), "--json"])
            try #require(backup.status == 0, "\(backup.stderr)")
            return try #require(try backup.json()["file"] as? String, "\(backup.stdoutText)")
        }
    }

    /// The modes of the restore's temporary files in `folder` now (`.NAME.factpipe-tmp-…`, and their side files).
    private static func temporaryModes(in folder: String) -> [String: mode_t] {
        var modes: [String: mode_t] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.contains("factpipe-tmp")
            && !name.hasSuffix("-factpipe.lock") {
            var info = stat()
            if lstat(folder + "/" + name, &info) == 0 { modes[name] = info.st_mode & 0o777 }
        }
        return modes
    }

    /// A restore's new database holds every fact of the archive before it is renamed into place: it is this
    /// user's alone until then (it was 0644, with SQLite's -wal and -shm beside a snapshot's, so that any user
    /// could copy a 0600 database's facts while it was checked). Seen while the restore waits for the target's
    /// writer lock, which the test holds.
    @Test(arguments: ["backup", "snapshot"])
    func aRestoredDatabaseIsPrivateUntilItIsInPlace(_ kind: String) throws {
        let setup = try Setup()
        let work = setup.work
        let archive = try setup.archive(kind)
        try FileManager.default.createDirectory(atPath: work.path("out"), withIntermediateDirectories: true)
        let target = work.path("out/restored.sqlite")
        var lock: HeldLoadLock? = try HeldLoadLock(database: target)
        var seen: [String: mode_t] = [:]
        let run = try Factpipe.run(["restore", archive, "--to", target, "-q"]) { _ in
            // Watched for two seconds from the moment its temporary database is there (a snapshot's import, with
            // its -wal and -shm, then the wait for the lock, which the restore gives ten seconds); then the lock
            // is let go.
            var firstSeen: Date?
            _ = poll(timeout: 60) {
                seen.merge(Self.temporaryModes(in: work.path("out"))) { $1 }
                if firstSeen == nil, !seen.isEmpty { firstSeen = Date() }
                return firstSeen.map { Date().timeIntervalSince($0) >= 2 } ?? false
            }
            lock = nil
        }
        #expect(lock == nil)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!seen.isEmpty, "the restore's temporary database was never seen")
        #expect(seen.values.allSatisfy { $0 == 0o600 }, "\(seen.mapValues { String($0, radix: 8) })")
        #expect(Self.temporaryModes(in: work.path("out")).isEmpty)
    }

    @Test func aTargetNamedAsADatabasesSideFileOrAnArchivesSidecarIsRefused() throws {
        let setup = try Setup()
        let work = setup.work
        try work.write("kb.sqlite-wal", "a log with committed transactions")
        try work.write("kb.sqlite-journal", "a hot journal")
        let before = try work.fileHashes()
        let names = [
            "kb.sqlite-wal", "kb.sqlite-shm", "kb.sqlite-journal", "kb.sqlite-factpipe.lock", "s.csv.manifest.json",
            "s.csv.sha256", "new.sqlite-wal",
        ]
        for name in names {
            let run = try setup.restore(to: work.path(name))
            #expect(run.status == 64, "\(name): \(run.stderr)")
            #expect(run.stderr.contains("--to \(work.path(name)): is the name of "), "\(run.stderr)")
            #expect(run.stderr.contains("restore to a name of its own"), "\(run.stderr)")
        }
        #expect(try work.fileHashes() == before)
        #expect(try Factpipe.run(["verify", work.path("s.csv"), "-q"]).status == 0)

        // Through a link, the real file's name is judged.
        let link = work.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: work.path("s.csv.manifest.json"))
        let linked = try work.fileHashes()
        let run = try setup.restore(to: link)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("s.csv.manifest.json: is the name of s.csv's manifest"), "\(run.stderr)")
        #expect(try work.fileHashes() == linked)
        #expect(try Factpipe.run(["verify", work.path("s.csv"), "-q"]).status == 0)
    }

    /// Without --force, a database made at the target after the restore began (a load that created it,
    /// another restore) is left as it is: the restore, waiting for its writer lock, fails instead of
    /// renaming over it (it did, exit 0, the load's facts gone). With --force, such a file is judged as
    /// one there at the start would be: another program's database is not replaced.
    @Test(arguments: [("snapshot", false), ("backup", false), ("snapshot", true), ("backup", true)])
    func aDatabaseMadeAtTheTargetWhileTheRestoreRanIsNotReplaced(kind: String, force: Bool) throws {
        let setup = try Setup()
        let work = setup.work
        let archive = try setup.archive(kind)
        let target = work.path("new.sqlite")
        var lock: HeldLoadLock? = try HeldLoadLock(database: target)
        var madeMeanwhile = false
        let run = try Factpipe.run(["restore", archive, "--to", target, "--json"] + (force ? ["--force"] : [])) { _ in
            // Its temporary database is made once it found nothing at the target.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: work.path(""))) ?? []
                if names.contains(where: { $0.hasPrefix(".new.sqlite.factpipe-tmp-") }) { break }
                usleep(5_000)
            }
            madeMeanwhile = (try? Factpipe.tool("/usr/bin/sqlite3", [target, "CREATE TABLE mine(x); INSERT INTO mine VALUES (7);"]))?
                .status == 0
            lock = nil
        }
        #expect(madeMeanwhile && lock == nil)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try run.json()["error"] as? String == (force ? "target_not_a_database" : "target_exists"), "\(run.stdoutText)")
        let words = force ? "exists and is another program's SQLite database" : "was created while the restore ran; it is left as it is"
        #expect(run.stderr.contains("\(target): \(words)"), "\(run.stderr)")
        #expect(try SQLiteFile.int(target, "SELECT x FROM mine") == 7)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path("")).filter { $0.contains("factpipe-tmp") } == [])
    }

    @Test func anExistingFileThatIsNotAFactpipeDatabaseIsNotReplaced() throws {
        let setup = try Setup()
        let work = setup.work
        let notes = try work.write("notes.txt", "notes\n")
        let other = work.path("other.sqlite")
        try Factpipe.tool("/usr/bin/sqlite3", [other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"])
        let before = try work.fileHashes()
        for (target, words) in [(notes, "is not a SQLite database"), (other, "is another program's SQLite database")] {
            let run = try setup.restore(to: target, json: true)
            #expect(run.status == 1, "\(target): \(run.stderr)")
            #expect(try run.json()["error"] as? String == "target_not_a_database")
            #expect(run.stderr.contains("\(target): exists and \(words)"), "\(run.stderr)")
            #expect(run.stderr.contains("a restore replaces only a factpipe database"), "\(run.stderr)")
        }
        #expect(try work.fileHashes() == before)

        // An empty file holds nothing to lose; a factpipe database is what --force replaces.
        let empty = try work.write("empty.sqlite", "")
        let copy = work.path("copy.sqlite")
        try FileManager.default.copyItem(atPath: work.database, toPath: copy)
        for target in [empty, copy] {
            let run = try setup.restore(to: target)
            #expect(run.status == 0, "\(target): \(run.stderr)")
            #expect(try SQLiteFile.int(target, "SELECT count(*) FROM facts") == snapshotFixtureFacts)
        }
    }

    /// Run as root, a restore keeps the replaced database's owner and group as well as its mode: the
    /// service that owns the database can still open it.
    @Test func aReplacedDatabaseKeepsItsOwnerGroupAndMode() throws {
        guard getuid() == 0 else { return }
        let setup = try Setup()
        let target = setup.work.path("service.sqlite")
        try FileManager.default.copyItem(atPath: setup.work.database, toPath: target)
        try #require(chown(target, 1000, 1000) == 0 && chmod(target, 0o640) == 0)
        let run = try setup.restore(to: target)
        #expect(run.status == 0, "\(run.stderr)")
        var info = stat()
        try #require(stat(target, &info) == 0)
        #expect(info.st_uid == 1000 && info.st_gid == 1000, "owner \(info.st_uid):\(info.st_gid)")
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(try SQLiteFile.int(target, "SELECT count(*) FROM facts") == snapshotFixtureFacts)
        // The lock file root created is the database owner's too, so the service can still take the lock;
        // so is the one a load run as root creates.
        try #require(stat(target + "-factpipe.lock", &info) == 0)
        #expect(info.st_uid == 1000 && info.st_gid == 1000, "lock owner \(info.st_uid):\(info.st_gid)")
        // One root made before (root's own) is given back too.
        #expect(chown(target + "-factpipe.lock", 0, 0) == 0)
        let load = try Factpipe.run(["import", try setup.work.write("more.txt", "More(a).\n"), "--db", target, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try #require(stat(target + "-factpipe.lock", &info) == 0)
        #expect(info.st_uid == 1000 && info.st_gid == 1000, "lock owner \(info.st_uid):\(info.st_gid)")
    }

    /// A link into a folder that does not exist is refused, naming the folder: the link is not replaced
    /// by a file. A dangling link into a folder that exists still creates its target.
    @Test func aLinkIntoAMissingFolderIsRefused() throws {
        let setup = try Setup()
        let work = setup.work
        let link = work.path("dang.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "nowhere/x.sqlite")
        let run = try setup.restore(to: link)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(
            run.stderr.contains("\(link): is a link into \(work.path("nowhere")), a folder that does not exist"),
            "\(run.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "nowhere/x.sqlite")
        #expect(!FileManager.default.fileExists(atPath: work.path("nowhere")))

        try FileManager.default.createDirectory(atPath: work.path("nowhere"), withIntermediateDirectories: false)
        #expect(try setup.restore(to: link).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "nowhere/x.sqlite")
        #expect(try SQLiteFile.int(work.path("nowhere/x.sqlite"), "SELECT count(*) FROM facts") == snapshotFixtureFacts)
    }
}
