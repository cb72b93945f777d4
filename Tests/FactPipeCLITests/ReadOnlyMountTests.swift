import Foundation
import Testing

/// A factpipe database on a file system mounted read-only (a snapshot's mount) is read, exported and
/// backed up: SQLite cannot create the `-shm` a WAL reader needs there, and nothing can write the file.
@Suite struct ReadOnlyMountTests {
    @Test func aDatabaseOnAReadOnlyMountIsReadExportedAndBackedUp() throws {
        // A read-only bind mount in a private mount namespace (needs root; skipped otherwise).
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let work = try CLIWorkspace()
        let folder = work.path("snapshot")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let database = folder + "/kb.sqlite"
        let load = try Factpipe.run(["import", snapshotFixture, "--db", database, "-q"])
        #expect(load.status == 0, "\(load.stderr)")
        try FileManager.default.createDirectory(atPath: work.path("out"), withIntermediateDirectories: false)
        let tool = BinaryLocator.factpipe.path
        let script = """
            mount --bind '\(folder)' '\(folder)' && mount -o remount,ro,bind '\(folder)' || exit 77
            touch '\(folder)/probe' 2>/dev/null && exit 78
            '\(tool)' stats --db '\(database)' --json > '\(work.path("out/stats.json"))' || echo "stats failed"
            '\(tool)' query --db '\(database)' --predicate HasPart > '\(work.path("out/query.txt"))' || echo "query failed"
            '\(tool)' export --db '\(database)' -o '\(work.path("out/s.ndjson.zst"))' -q || echo "export failed"
            '\(tool)' backup --db '\(database)' --to '\(work.path("out"))' --temp-dir '\(work.path("out"))' -q \
                || echo "backup failed"
            ls -A '\(folder)'
            """
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "sh", "-c", script])
        if run.status == 77 { return }  // no permission to mount here
        #expect(run.status == 0, "\(run.stdoutText) \(run.stderr)")
        #expect(!run.stdoutText.contains("failed"), "\(run.stdoutText) \(run.stderr)")
        #expect(run.stdoutText == "kb.sqlite\nkb.sqlite-factpipe.lock\n" || run.stdoutText == "kb.sqlite\n",
                "nothing was added to the read-only folder: \(run.stdoutText)")
        let stats = try JSONSerialization.jsonObject(with: Data(try work.read("out/stats.json").utf8)) as? [String: Any]
        #expect(stats.flatMap { int($0, "facts") } == snapshotFixtureFacts)
        let verify = try Factpipe.run(["verify", work.path("out/s.ndjson.zst"), "-q"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let backups = try FileManager.default.contentsOfDirectory(atPath: work.path("out")).filter {
            $0.hasSuffix(".db.zst")
        }
        #expect(backups.count == 1)
    }
}
