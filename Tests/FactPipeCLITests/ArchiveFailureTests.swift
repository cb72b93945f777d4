import Foundation
import Testing

/// Each way an archive or an output can be bad must fail with a clear message and exit code 1, and
/// leave the database and every earlier backup byte for byte as they were.
@Suite struct ArchiveFailureTests {
    /// A database, an earlier backup of it, and a snapshot.
    private final class Setup {
        let work: CLIWorkspace
        let backup: String
        let snapshot: String

        init() throws {
            work = try CLIWorkspace()
            try work.loadFacts()
            try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: false)
            let run = try Factpipe.run(["backup", "--db", work.database, "--to", work.path("backups"), "--json"])
            backup = try #require(try run.json()["file"] as? String)
            snapshot = work.path("s.ndjson.zst")
            try #require(try Factpipe.run(["export", "--db", work.database, "-o", snapshot]).status == 0)
        }

        /// The database file and every file in the backup folder, hashed.
        func protectedHashes() throws -> [String: String] {
            var hashes = try work.fileHashes(under: "backups")
            hashes["kb.sqlite"] = try sha256sum(work.database)
            return hashes
        }

        /// Writes a damaged copy of `source` and returns its path.
        func damaged(_ name: String, from source: String, _ change: (inout [UInt8]) -> Void) throws -> String {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
            change(&bytes)
            return try work.write(name, Data(bytes))
        }
    }

    /// Runs `verify --json` and `restore --force` over the database; both must fail naming `kind`.
    private func expectRefused(
        _ setup: Setup, _ archive: String, _ kinds: Set<String>, _ words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try setup.protectedHashes()
        let verify = try Factpipe.run(["verify", archive, "--json"])
        #expect(verify.status == 1, sourceLocation: sourceLocation)
        let found = problemKinds(try verify.json())
        #expect(found.first.map(kinds.contains) == true, "\(found)", sourceLocation: sourceLocation)
        #expect(verify.stderr.contains(words), "\(verify.stderr)", sourceLocation: sourceLocation)
        let restore = try Factpipe.run(["restore", archive, "--to", setup.work.database, "--force"])
        #expect(restore.status == 1, sourceLocation: sourceLocation)
        #expect(
            restore.stderr.contains("factpipe restore: error:"), "\(restore.stderr)", sourceLocation: sourceLocation)
        #expect(try setup.protectedHashes() == before, sourceLocation: sourceLocation)
        #expect(
            try setup.work.contents("").filter { $0.hasPrefix(".kb.sqlite") }.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func aTruncatedArchiveIsRefused() throws {
        let setup = try Setup()
        for source in [setup.backup, setup.snapshot] {
            let cut = try setup.damaged("cut.zst", from: source) { $0.removeLast($0.count / 2) }
            try expectRefused(setup, cut, ["truncated"], "truncated: the file ends inside a compressed frame")
        }
    }

    @Test func aFlippedByteIsRefused() throws {
        let setup = try Setup()
        for source in [setup.backup, setup.snapshot] {
            let flipped = try setup.damaged("flipped.zst", from: source) { $0[$0.count / 3] ^= 0x20 }
            try expectRefused(setup, flipped, ["corrupt_frame", "hash_mismatch"], "corrupt")
        }
        let manifest = try setup.damaged("manifest.zst", from: setup.snapshot) { $0[$0.count - 100] ^= 0x01 }
        try expectRefused(setup, manifest, ["manifest_damaged"], "manifest damaged")
    }

    @Test func aFileOfTheWrongTypeIsRefused() throws {
        let setup = try Setup()
        let text = try setup.work.write("notes.txt", "these are not facts\n")
        try expectRefused(setup, text, ["not_an_archive"], "not a factpipe archive")
        let copy = setup.work.path("copy.sqlite")
        try FileManager.default.copyItem(atPath: setup.work.database, toPath: copy)
        try expectRefused(setup, copy, ["not_an_archive"], "SQLite database")
    }

    @Test func anArchiveWithoutManifestIsRefused() throws {
        let setup = try Setup()
        let plain = setup.work.path("plain.ndjson")
        #expect(try Factpipe.run(["export", "--db", setup.work.database, "-o", plain]).status == 0)
        try Factpipe.tool("/usr/bin/zstd", ["-q", plain, "-o", setup.work.path("foreign.ndjson.zst")])
        try expectRefused(setup, setup.work.path("foreign.ndjson.zst"), ["missing_manifest"], "missing manifest")
        try FileManager.default.removeItem(atPath: plain + ".manifest.json")
        try expectRefused(setup, plain, ["missing_manifest"], "missing manifest")
    }

    @Test func anExistingDatabaseIsNotReplacedWithoutForce() throws {
        let setup = try Setup()
        let before = try setup.protectedHashes()
        for archive in [setup.backup, setup.snapshot] {
            let run = try Factpipe.run(["restore", archive, "--to", setup.work.database, "--json"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("exists; give --force to replace it"), "\(run.stderr)")
            #expect(try run.json()["error"] as? String == "target_exists")
        }
        #expect(try setup.protectedHashes() == before)
    }

    @Test func aBackupIntoAReadOnlyFolderFailsAndKeepsTheEarlierBackups() throws {
        let setup = try Setup()
        try openToEveryone(setup.work)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: setup.work.path("backups"))
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: setup.work.path("backups"))
        }
        let before = try setup.protectedHashes()
        let names = try setup.work.contents("backups")
        let run = try runFactpipeUnprivileged([
            "backup", "--db", setup.work.database, "--to", setup.work.path("backups"), "--keep", "1", "--json",
        ])
        #expect(run.status == 1)
        #expect(
            run.stderr.contains("cannot create a file in \(setup.work.path("backups")): Permission denied"),
            "\(run.stderr)")
        #expect(try run.json()["status"] as? String == "failed")
        #expect(try setup.work.contents("backups") == names)
        #expect(try setup.protectedHashes() == before)
    }

    @Test func aBackupThatRunsOutOfSpaceLeavesNoPartialFile() throws {
        // A small filesystem of its own, in a private mount namespace (needs root; skipped otherwise):
        // once as the backup folder, too small for the archive; once as the folder of the uncompressed
        // copy (--temp-dir), too small for the copy.
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let setup = try Setup()
        let filler = (0..<20_000).map { "{\"statement\":\"Filler(n\($0), \(String(repeating: "x", count: 60)))\"}" }
        try setup.work.loadFacts(try setup.work.write("more.ndjson", filler.joined(separator: "\n")))
        let before = try setup.protectedHashes()
        let full = setup.work.path("full")
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
        let scratch = setup.work.path("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        let tool = BinaryLocator.factpipe.path, database = setup.work.database
        for (size, command) in [
            ("64k", "'\(tool)' backup --db '\(database)' --to '\(full)' --temp-dir '\(scratch)' --json"),
            ("1m", "'\(tool)' backup --db '\(database)' --to '\(setup.work.path("backups"))' --temp-dir '\(full)' --json"),
        ] {
            let script = """
                mount -t tmpfs -o size=\(size) tmpfs '\(full)' || exit 77
                \(command)
                echo "exit=$?"; ls -A '\(full)' '\(scratch)'
                """
            let run = try Factpipe.runProcess(
                URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "sh", "-c", script])
            if run.status == 77 || run.stdoutText.isEmpty { return }  // no permission to mount here
            #expect(run.stdoutText.contains("\"status\":\"failed\""), "\(size): \(run.stdoutText)")
            #expect(run.stdoutText.contains("exit=1\n"), "\(size): \(run.stdoutText)")
            let listing = run.stdoutText.components(separatedBy: "exit=1\n").last ?? ""
            #expect(!listing.contains(".factpipe-tmp-") && !listing.contains("kb-"), "\(size): files left: \(listing)")
            #expect(
                run.stderr.contains("No space left on device") || run.stderr.contains("disk is full"), "\(run.stderr)")
        }
        #expect(try setup.protectedHashes() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    /// A snapshot that verifies, restored onto a disk too small for it: the import failing there was
    /// reported as `count_mismatch` ("did not give back its facts", naming a temporary file already
    /// removed), and its last fold of the log into the file failing unseen as `database_damaged`, "the
    /// restored database cannot be read" — each blaming a sound archive, which could then be deleted. It
    /// is an `io` error naming the target's folder, whichever step the disk filled at. (A filesystem of
    /// its own in a private mount namespace, of sizes around the restored database's; needs root.)
    @Test func aSnapshotRestoredOntoADiskTooSmallIsAnIOErrorOfTheTargetsFolder() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return }
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        try #require(try Factpipe.run(["generate", "--facts", "20000", "--seed", "3", "-o", input, "-q"]).status == 0)
        try #require(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        let snapshot = work.path("s.ndjson.zst")
        try #require(try Factpipe.run(["export", "--db", work.database, "-o", snapshot, "-q"]).status == 0)
        let roomy = try Factpipe.run(["restore", snapshot, "--to", work.path("roomy.sqlite"), "-q"])
        try #require(roomy.status == 0, "\(roomy.stderr)")
        let needed = try work.size(work.path("roomy.sqlite")) / 1024
        let full = work.path("full")
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
        var failures = 0
        // Too small for the import itself; then around the end of the import, where the last fold of the log
        // into the file failed unseen (about twice the database's size: the log and the file).
        for percent in [25, 60, 110, 150] + Array(stride(from: 180, through: 215, by: 3)) {
            let script = """
                mount -t tmpfs -o size=\(needed * percent / 100)k tmpfs '\(full)' || exit 77
                '\(BinaryLocator.factpipe.path)' restore '\(snapshot)' --to '\(full)/kb.sqlite' --json
                echo "exit=$?"
                """
            let run = try Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "sh", "-c", script])
            if run.status == 77 || run.stdoutText.isEmpty { return }  // no permission to mount here
            if run.stdoutText.contains("exit=0") { continue }  // room enough
            failures += 1
            let json = run.stdoutText.components(separatedBy: "\n").first ?? ""
            let result = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            #expect(result["error"] as? String == "io", "\(percent)%: \(run.stdoutText) \(run.stderr)")
            #expect(result["path"] as? String == full, "\(percent)%: \(run.stdoutText)")
            let message = result["message"] as? String ?? ""
            #expect(message.contains("no room left") && !message.contains(".factpipe-tmp-"), "\(percent)%: \(message)")
        }
        #expect(failures > 0, "every size had room for the restore")
    }
}
