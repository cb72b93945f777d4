import Foundation
import Testing

@Suite struct ExportCommandTests {
    @Test(arguments: ["ndjson", "csv", "text"])
    func zstdDecompressionGivesExactlyTheBytesOfAPlainExport(format: String) throws {
        let work = try CLIWorkspace()
        let input =
            format == "text"
            ? try work.write(
                "t.txt", "HasPart(Computer, CPU).\nLäuftAuf(Motor, \"Benzin, bleifrei\")\nQ(x:Q(298, K))\n")
            : snapshotFixture
        try work.loadFacts(input)
        let compressed = try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("s.zst"), "--format", format,
        ])
        #expect(compressed.status == 0, "\(compressed.stderr)")
        let plain = try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.plain"), "--format", format])
        #expect(plain.status == 0, "\(plain.stderr)")
        let decoded = try Factpipe.tool("/usr/bin/zstd", ["-d", "-q", "-c", work.path("s.zst")])
        #expect(decoded.stdout == (try Data(contentsOf: work.url.appendingPathComponent("s.plain"))))
        #expect(!decoded.stdout.isEmpty)
    }

    /// The CSV export of a database with no fact is its header alone; its import failed ("no record found"), so
    /// an empty database's export could not be imported. Each format's loads as empty now.
    @Test(arguments: ["ndjson", "csv", "text"])
    func theExportOfAnEmptyDatabaseImportsAsEmpty(format: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts(try work.write("empty.txt", ""))
        for name in ["empty.\(format)", "empty.\(format).zst"] {
            let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path(name), "--format", format])
            #expect(export.status == 0, "\(export.stderr)")
            let back = try Factpipe.run(["import", work.path(name), "--db", work.path(name + ".sqlite"), "--json"])
            #expect(back.status == 0, "\(name): \(back.stderr)")
            #expect(int(try back.json(), "records") == 0)
        }
    }

    @Test func checksumFilesPassSha256sumCheck() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        for name in ["s.ndjson.zst", "s.csv"] {
            #expect(try Factpipe.run(["export", "--db", work.database, "-o", work.path(name)]).status == 0)
            let check = try Factpipe.tool("/bin/sh", ["-c", "cd '\(work.url.path)' && sha256sum -c \(name).sha256"])
            #expect(check.stdoutText == "\(name): OK\n")
        }
        // A plain snapshot has its manifest beside it; a compressed one carries it inside.
        #expect(
            try work.contents("")
                == [
                    "kb.sqlite", "kb.sqlite-factpipe.lock", "kb.sqlite-shm", "kb.sqlite-wal", "s.csv",
                    "s.csv.manifest.json",
                    "s.csv.sha256", "s.ndjson.zst", "s.ndjson.zst.sha256",
                ].filter { FileManager.default.fileExists(atPath: work.path($0)) })
        #expect(try work.read("s.csv").hasPrefix("statement,confidence,source,context,fact_metadata,created_at\n"))
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(work.read("s.csv.manifest.json").utf8)) as? [String: Any])
        #expect(manifest["format"] as? String == "csv")
        #expect(int(manifest, "fact_count") == snapshotFixtureFacts)
    }

    @Test func jsonOutputDescribesTheSnapshotAndImportGivesTheFactsBack() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let run = try Factpipe.run([
            "export", "--db", work.database, "-o", work.path("s.ndjson.zst"), "--json", "--level", "19", "--threads",
            "0",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.json()
        #expect(object["status"] as? String == "ok")
        #expect(int(object, "facts") == snapshotFixtureFacts)
        #expect(int(object, "file_bytes") == (try work.size(work.path("s.ndjson.zst"))))
        #expect(object["file_sha256"] as? String == (try sha256sum(work.path("s.ndjson.zst"))))
        let manifest = try #require(object["manifest"] as? [String: Any])
        #expect(manifest["kind"] as? String == "snapshot")
        #expect(manifest["compression"] as? String == "zstd")
        #expect(manifest["tool_version"] as? String == "0.1.0")
        let reload = try Factpipe.run(["import", work.path("s.ndjson.zst"), "--db", work.path("copy.sqlite"), "--json"])
        #expect(int(try reload.json(), "inserted") == snapshotFixtureFacts)
        #expect(try allColumns(work.path("copy.sqlite")) == (try allColumns(work.database)))
    }

    @Test func standardOutputGetsThePlainSnapshotUnlessALevelIsGiven() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let plain = try Factpipe.run(["export", "--db", work.database, "-o", "-", "--quiet"])
        #expect(plain.status == 0)
        #expect(plain.stdoutText.split(separator: "\n").count == snapshotFixtureFacts)
        #expect(plain.stdoutText.hasPrefix("{\"statement\":"))
        #expect(plain.stderr.isEmpty)
        let compressed = try Factpipe.run(["export", "--db", work.database, "-o", "-", "--level", "3", "--quiet"])
        #expect(compressed.stdout.prefix(4) == Data([0x28, 0xB5, 0x2F, 0xFD]))
        try work.write("piped.zst", compressed.stdout)
        let verify = try Factpipe.run(["verify", work.path("piped.zst"), "--json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(int(try verify.json(), "facts") == snapshotFixtureFacts)
    }

    @Test func usageErrorsExitWith64() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        for arguments in [
            ["export", "--db", work.database, "-o", "-", "--json"],
            ["export", "--db", work.database, "-o", "x.zst", "--level", "23"],
            ["export", "--db", work.database, "-o", "x.zst", "--since", "last tuesday"],
            ["export", "--db", work.database, "-o", "x.zst", "--format", "xml"],
            // Written plain under a gzip name, or plain though a level was asked for: gzip -t failed on it.
            ["export", "--db", work.database, "-o", work.path("x.ndjson.gz")],
            ["export", "--db", work.database, "-o", work.path("x.CSV.XZ"), "--level", "0"],
            ["export", "--db", work.database, "-o", work.path("x.csv"), "--level", "9"],
            ["export", "--db", work.database, "-o", work.path("x.ndjson.ZST")],
            ["export", "--db", work.database, "-o", work.path("x.ndjson.zstd")],
            ["export", "--db", work.database],
            ["backup", "--db", work.database, "--to", work.url.path, "--keep", "0"],
            ["restore", "x.db.zst"],
            ["verify"],
        ] {
            let run = try Factpipe.run(arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(!run.stderr.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).allSatisfy { !$0.hasPrefix("x.") })
    }

    @Test func aFullDiskFailsTheExportAndLeavesTheDatabaseAsItWas() throws {
        guard FileManager.default.isWritableFile(atPath: "/dev/full") else { return }
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        for arguments in [["-o", "/dev/full"], ["-o", "/dev/full", "--format", "csv", "--level", "0"]] {
            let run = try Factpipe.run(["export", "--db", work.database, "--json"] + arguments)
            #expect(run.status == 1)
            #expect(run.stderr.contains("cannot write: No space left on device"), "\(run.stderr)")
            #expect(try run.json()["status"] as? String == "failed")
        }
        #expect(try sha256sum(work.database) == before)
        #expect(!FileManager.default.fileExists(atPath: "/dev/full.sha256"))
    }

    @Test func aReadOnlyFolderFailsTheExportAndLeavesNothingBehind() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        try FileManager.default.createDirectory(atPath: work.path("ro"), withIntermediateDirectories: false)
        try openToEveryone(work)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: work.path("ro"))
        let before = try sha256sum(work.database)
        let run = try runFactpipeUnprivileged(["export", "--db", work.database, "-o", work.path("ro/s.ndjson.zst")])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot create a file in \(work.path("ro")): Permission denied"), "\(run.stderr)")
        #expect(try work.contents("ro").isEmpty)
        #expect(try sha256sum(work.database) == before)
    }

    @Test func aMissingDatabaseIsAFailureNotACreation() throws {
        let work = try CLIWorkspace()
        let run = try Factpipe.run(["export", "--db", work.path("none.sqlite"), "-o", work.path("s.ndjson.zst")])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot open database"), "\(run.stderr)")
        #expect(try work.contents("").isEmpty)
    }

    @Test func anInterruptedExportExitsWith130AndLeavesNoFileBehind() throws {
        let work = try CLIWorkspace()
        let input = work.path("facts.ndjson")
        #expect(try Factpipe.run(["generate", "--facts", "50000", "--seed", "9", "-o", input, "--quiet"]).status == 0)
        try work.loadFacts(input)
        // Level 19 compresses at a few MB/s: the export is surely running when the signal comes.
        let export = Process()
        export.executableURL = BinaryLocator.factpipe
        export.arguments = ["export", "--db", work.database, "-o", work.path("out.ndjson.zst"), "--level", "19"]
        export.standardError = FileHandle.nullDevice
        try export.run()
        let writing = try poll(timeout: 30) {
            try work.contents("").contains { $0.hasPrefix(".out.ndjson.zst.factpipe-tmp-") } || !export.isRunning
        }
        try #require(writing && export.isRunning, "the export never started writing, or finished first")
        export.interrupt()
        export.waitUntilExit()
        #expect(export.terminationStatus == 130)
        #expect(try work.contents("").filter { $0.contains("out.ndjson") }.isEmpty)
        // Its database was closed before it ended: killed with it open, the export left the `-wal` and `-shm`
        // it had made beside the database, which later readers kept.
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: work.database + suffix), "\(suffix) left")
        }
    }

    @Test func theDatabaseItselfIsNeverTheOutput() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        let run = try Factpipe.run(["export", "--db", work.database, "-o", work.database])
        #expect(run.status == 64)
        #expect(run.stderr.contains("-o \(work.database) is the database \(work.database)"), "\(run.stderr)")
        #expect(try sha256sum(work.database) == before)
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts") == snapshotFixtureFacts)
    }
}

/// `--since` compares times, not their text: a `created_at` another program wrote with an offset or a
/// space for the `T` is exported when its time is at or after the bound. (It was left out without a word.)
@Suite struct ExportSinceTimeFormsTests {
    @Test func timesInAnotherFormAreComparedAsTimes() throws {
        let work = try CLIWorkspace()
        let input = try work.write("t.ndjson", ["A", "B", "C", "D", "E", "F"].map {
            #"{"statement":"T(\#($0)).","created_at":"2025-01-01T10:00:00Z"}"#
        }.joined(separator: "\n") + "\n")
        #expect(try Factpipe.run(["import", input, "--db", work.database, "-q"]).status == 0)
        for (statement, time) in [
            ("T(B).", "2025-01-01T08:30:00-01:00"),  // 09:30Z: after the bound
            ("T(C).", "2025-01-01 09:30:00"),  // 09:30Z
            ("T(D).", "2025-01-01T09:30:00+01:00"),  // 08:30Z: before it
            ("T(E).", "2025-01-01T08:59:59.5Z"),  // before it, in the stored form
            ("T(F).", ""),  // no time: not after any (it was exported for every --since)
        ] {
            _ = try Factpipe.tool("/usr/bin/sqlite3", [
                work.database, "UPDATE facts SET created_at = '\(time)' WHERE statement = '\(statement)'",
            ])
        }
        let run = try Factpipe.run([
            "export", "--db", work.database, "-o", "-", "--format", "text", "--since", "2025-01-01T09:00:00Z", "-q",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.sorted() == ["T(A).", "T(B).", "T(C)."])
    }
}

