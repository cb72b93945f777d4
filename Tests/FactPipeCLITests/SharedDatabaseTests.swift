import Foundation
import Testing

/// A database several users load: the members of a group that shares it (a setgid folder, `umask 002`), or
/// root's nightly job and the database's owner. Each may load after the other; nothing a load makes beside
/// the database is more readable than the database. The tests run as root, as CI does, and run the other
/// user's loads as `nobody` (uid and gid 65534) through `setpriv`; run as another user outside CI, they are
/// skipped and say why (each returned at once and passed, asserting nothing).
@Suite(.enabled(if: geteuid() == 0 || MonitorTools.isCI, "runs commands as user nobody through setpriv: needs root"))
struct SharedDatabaseTests {
    private static let nobody: UInt32 = 65_534

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    private func owner(_ path: String) -> (uid_t, gid_t) {
        var info = stat()
        return lstat(path, &info) == 0 ? (info.st_uid, info.st_gid) : (uid_t.max, gid_t.max)
    }

    private func facts(_ work: CLIWorkspace, _ name: String, _ range: Range<Int>) throws -> String {
        try work.write(name, range.map { "{\"statement\":\"Shared(f\($0), x)\"}\n" }.joined())
    }

    /// A workspace whose database holds the facts of `range`, loaded by root, every file open to `nobody`.
    private func loadedDatabaseOpenToEveryone(_ range: Range<Int>) throws -> CLIWorkspace {
        let work = try CLIWorkspace()
        let input = try facts(work, "in.ndjson", range)
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        try openToEveryone(work)
        return work
    }

    /// Under `umask 002` in the group's setgid folder, a database one member makes is the group's to write, and
    /// so is its lock file: another member loads into it (made 0644, as SQLite makes a file, the other member's
    /// load failed on the database, and once that was mended by hand, on the lock file).
    @Test func anotherMemberOfTheGroupLoadsIntoADatabaseOneMemberMade() throws {
        let work = try CLIWorkspace()
        let folder = work.path("shared")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try #require(chown(work.url.path, 0, 0) == 0 && chmod(work.url.path, 0o755) == 0)
        try #require(chown(folder, 0, Self.nobody) == 0 && chmod(folder, 0o2775) == 0)
        let database = folder + "/kb.sqlite"
        let first = try facts(work, "first.ndjson", 0..<50)
        let second = try facts(work, "second.ndjson", 50..<80)
        try #require(chmod(second, 0o644) == 0)
        let root = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "umask 002 && exec '\(BinaryLocator.factpipe.path)' import '\(first)' --db '\(database)' -q"])
        #expect(root.status == 0, "\(root.stderr)")
        #expect(mode(database) == 0o664, "\(String(mode(database), radix: 8))")
        #expect(mode(database + "-factpipe.lock") == 0o664, "\(String(mode(database + "-factpipe.lock"), radix: 8))")
        #expect(owner(database).1 == Self.nobody, "the setgid folder's group")
        let member = try runFactpipeUnprivileged(["import", second, "--db", database, "-q"])
        #expect(member.status == 0, "\(member.stderr)")
        #expect(try SQLiteFile.int(database, "SELECT count(*) FROM facts") == 80)
    }

    /// A lock file this user may not write (another user's, made before lock files took the database's
    /// permissions) is still taken: `flock` needs only a descriptor to read. One this user may not even read
    /// is named with its owner and mode.
    @Test func aLockFileThisUserMayNotWriteIsStillTaken() throws {
        let work = try loadedDatabaseOpenToEveryone(0..<20)
        let lock = work.database + "-factpipe.lock"
        try #require(chown(lock, 0, 0) == 0 && chmod(lock, 0o644) == 0)
        let more = try facts(work, "more.ndjson", 20..<30)
        try #require(chmod(more, 0o644) == 0)
        let run = try runFactpipeUnprivileged(["import", more, "--db", work.database, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == 30)

        try #require(chmod(lock, 0o600) == 0)
        let refused = try runFactpipeUnprivileged(["import", more, "--db", work.database, "-q"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot open its lock file \(lock) (owned by user root (uid 0), mode 600)"),
                "\(refused.stderr)")
    }

    /// A snapshot or backup root's nightly job makes of another user's database is that user's, sidecars and
    /// all, as the database is: root's, the owner could neither verify nor restore it.
    @Test func rootsSnapshotAndBackupOfAnotherUsersDatabaseAreThatUsers() throws {
        let work = try loadedDatabaseOpenToEveryone(0..<10)
        try #require(chown(work.database, Self.nobody, Self.nobody) == 0 && chmod(work.database, 0o600) == 0)
        let backups = work.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: false)
        try #require(chmod(backups, 0o777) == 0)
        let snapshot = work.path("s.ndjson.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        #expect(try Factpipe.run(["backup", "--db", work.database, "--to", backups, "-q"]).status == 0)
        let backup = try #require(try FileManager.default.contentsOfDirectory(atPath: backups).first { $0.hasSuffix(".db.zst") })
        for file in [snapshot, snapshot + ".sha256", backups + "/" + backup, backups + "/" + backup + ".sha256"] {
            #expect(owner(file) == (Self.nobody, Self.nobody), "\(file)")
            #expect(mode(file) == 0o600, "\(file): \(String(mode(file), radix: 8))")
        }
        for archive in [snapshot, backups + "/" + backup] {
            let verified = try runFactpipeUnprivileged(["verify", archive, "-q"])
            #expect(verified.status == 0, "\(archive): \(verified.stderr)")
        }
    }

    /// A database in a folder this user may not search is out of reach, not missing: every read command
    /// said "no such file".
    @Test(arguments: [["stats"], ["loads"], ["query", "--predicate", "P"], ["undo", "1"]])
    func aDatabaseOutOfReachIsNotCalledMissing(_ command: [String]) throws {
        let work = try CLIWorkspace()
        let folder = work.path("private")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let input = try facts(work, "in.ndjson", 0..<5)
        #expect(try Factpipe.run(["import", input, "--db", folder + "/kb.sqlite", "-q"]).status == 0)
        try #require(chmod(work.url.path, 0o755) == 0 && chmod(folder, 0o700) == 0)
        let run = try runFactpipeUnprivileged(Array(command.prefix(1)) + ["--db", folder + "/kb.sqlite"] + command.dropFirst())
        #expect(run.status != 0, "\(run.stderr)")
        #expect(run.stderr.contains("this user may not reach it"), "\(run.stderr)")
        #expect(!run.stderr.contains("no such file"), "\(run.stderr)")
    }

    /// A rejects file holds the input's records: a new one has its database's permissions, and made by root
    /// for another user's database it is that user's, whose own loads then append to it (it was root's, 0644:
    /// readable by every user, and the owner's next load with the same rejects path failed).
    @Test func aNewRejectsFileHasItsDatabasesPermissionsAndOwner() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.ndjson", "{\"statement\":\"P(a)\"}\n{\"statement\":\"P(\"}\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 2)
        try #require(chmod(work.database, 0o600) == 0)
        let rejects = work.path("rejects.ndjson")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "--rejects", rejects, "--force", "-q"]).status == 2)
        #expect(mode(rejects) == 0o600, "\(String(mode(rejects), radix: 8))")

        try #require(chown(work.database, Self.nobody, Self.nobody) == 0 && chmod(work.database, 0o640) == 0)
        let theirs = work.path("theirs.ndjson")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "--rejects", theirs, "--force", "-q"]).status == 2)
        #expect(mode(theirs) == 0o640, "\(String(mode(theirs), radix: 8))")
        #expect(owner(theirs) == (Self.nobody, Self.nobody))
    }
}
