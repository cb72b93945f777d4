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

    /// A read-only bind mount of a folder that is written through another path (a backup container given
    /// the live folder read-only): the file is read without SQLite's locks there, and a writer that
    /// checkpointed meanwhile gave a snapshot that missed facts or held some twice, which `export` and
    /// `verify` passed (exit 0). The export now sees the file change under it and keeps nothing (exit 1).
    /// Rows moved (every second one, so that the pages read show two states and SQLite calls the file
    /// damaged) or a few (so that the read ends as if nothing happened): either way the same refusal.
    @Test(arguments: [2, 10_000])
    func anExportThroughAReadOnlyMountOfAFolderWrittenElsewhereIsRefused(modulus: Int) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let work = try CLIWorkspace()
        let (folder, view) = (work.path("live"), work.path("view"))
        for path in [folder, view] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "50000", "--seed", "3", "-o", input, "-q"]).status == 0)
        #expect(try Factpipe.run(["import", input, "--db", folder + "/kb.sqlite", "-q"]).status == 0)
        let tool = BinaryLocator.factpipe.path
        // The export blocks on a pipe nobody reads until the other path's writer has committed and
        // checkpointed (sqlite3 does as it closes); then the pipe is drained and the export ends.
        let script = """
            mount --bind '\(folder)' '\(view)' && mount -o remount,ro,bind '\(view)' || exit 77
            mkfifo '\(work.path("fifo"))'
            '\(tool)' export --db '\(view)/kb.sqlite' -o - --format ndjson > '\(work.path("fifo"))' \
                2> '\(work.path("err.txt"))' &
            exporter=$!
            exec 3< '\(work.path("fifo"))'
            sleep 1
            sqlite3 '\(folder)/kb.sqlite' "UPDATE facts SET id = -id WHERE id % \(modulus) = 0" || echo "writer failed"
            cat <&3 > '\(work.path("out.ndjson"))'
            wait $exporter
            echo "export $?"
            """
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "sh", "-c", script])
        if run.status == 77 { return }  // no permission to mount here
        #expect(run.stdoutText == "export 1\n", "\(run.stdoutText) \(run.stderr)")
        let message = try work.read("err.txt")
        #expect(message.contains("another program wrote the database while it was read (it is on a read-only file "
            + "system, read without SQLite's locks)"), "\(message)")
    }
}
