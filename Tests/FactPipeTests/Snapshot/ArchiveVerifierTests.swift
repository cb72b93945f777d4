import Foundation
import Testing

@testable import FactPipe

@Suite struct ArchiveVerifierTests {
    @Test(arguments: ["s.ndjson.zst", "s.csv.zst", "s.ndjson", "s.csv"])
    func aSnapshotAsWrittenVerifiesAndItsChecksumFileIsCompared(name: String) throws {
        let work = try loadedWorkspace()
        try export(work, to: name) { $0.format = name.contains("csv") ? .csv : .ndjson }
        let report = ArchiveVerifier(path: work.path(name)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.countedFacts == Int64(roundTripFixtureFacts))
        #expect(report.checkedChecksumFile)
        #expect(report.fileSHA256 == (try sha256sum(work.path(name))))
        #expect(report.json.hasPrefix(#"{"status":"ok","#))
    }

    @Test func aTruncatedSnapshotIsNamedTruncated() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let whole = try bytes(work.path("s.ndjson.zst"))
        for keep in [whole.count / 2, 20, whole.count - 1] {
            let path = work.path("cut-\(keep).zst")
            try write(Array(whole.prefix(keep)), to: path)
            let report = ArchiveVerifier(path: path).run()
            #expect(report.problems.first?.kind == .truncated, "kept \(keep): \(report.problems)")
            #expect(report.problems.first?.message.contains("truncated") == true)
        }
    }

    @Test func cuttingOffExactlyTheManifestFrameIsAMissingManifest() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let whole = try bytes(work.path("s.ndjson.zst"))
        guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: work.path("s.ndjson.zst")))
        else {
            Issue.record("no manifest frame")
            return
        }
        try write(Array(whole.prefix(Int(offset))), to: work.path("bare.zst"))
        #expect(problemKinds(work.path("bare.zst")) == [.missingManifest])
    }

    @Test func everyFlippedByteIsFound() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let path = work.path("s.ndjson.zst")
        let size = try bytes(path).count
        // Every byte of a small archive: frame header, blocks, checksum, manifest frame.
        for offset in 0..<size {
            let copy = work.path("flip.zst")
            try copyFlippingByte(path, to: copy, at: offset)
            try? FileManager.default.removeItem(atPath: copy + ".sha256")
            let kinds = problemKinds(copy)
            #expect(!kinds.isEmpty, "a flipped byte at \(offset) of \(size) went unnoticed")
        }
    }

    @Test func aFlippedByteIsNamedByWhereItIs() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let path = work.path("s.ndjson.zst")
        let size = try bytes(path).count
        guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: path)) else {
            Issue.record("no manifest frame")
            return
        }
        try copyFlippingByte(path, to: work.path("data.zst"), at: Int(offset) / 2)
        #expect(problemKinds(work.path("data.zst")).first == .corruptFrame)
        try copyFlippingByte(path, to: work.path("manifest.zst"), at: Int(offset) + 30)
        #expect(problemKinds(work.path("manifest.zst")).contains(.manifestDamaged))
        // The archive is sound but its checksum file is not: the file hash differs.
        try FileManager.default.copyItem(atPath: path, toPath: work.path("copy.zst"))
        try "\(String(repeating: "0", count: 64))  copy.zst\n".write(
            toFile: work.path("copy.zst.sha256"), atomically: true, encoding: .utf8)
        #expect(problemKinds(work.path("copy.zst")) == [.fileHashMismatch])
        #expect(size > 0)
    }

    @Test func aCountOrHashThatDiffersFromTheManifestIsNamed() throws {
        let work = try loadedWorkspace()
        let result = try export(work, to: "s.ndjson")
        let manifestPath = work.path("s.ndjson.manifest.json")
        var wrongCount = result.manifest
        wrongCount.factCount += 1
        try (wrongCount.json + "\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let countReport = ArchiveVerifier(path: work.path("s.ndjson")).run()
        #expect(countReport.problems.map(\.kind) == [.countMismatch])
        #expect(countReport.problems.first?.message == "count differs: 11 facts, the manifest says 12")

        var wrongHash = result.manifest
        wrongHash.contentSHA256 = String(repeating: "0", count: 64)
        try (wrongHash.json + "\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect(problemKinds(work.path("s.ndjson")) == [.hashMismatch])

        // An edited line with the same number of bytes: only the hash can tell.
        var content = try bytes(work.path("s.ndjson"))
        try (result.manifest.json + "\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let index = try #require(content.firstIndex(of: UInt8(ascii: "(")))
        content[index - 1] = content[index - 1] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
        try write(content, to: work.path("s.ndjson"))
        try FileManager.default.removeItem(atPath: work.path("s.ndjson.sha256"))
        #expect(problemKinds(work.path("s.ndjson")) == [.hashMismatch])
    }

    @Test func filesThatAreNotArchivesAreNamedSo() throws {
        let work = try loadedWorkspace()
        try work.write("notes.txt", "just some notes\n")
        #expect(problemKinds(work.path("notes.txt")) == [.notAnArchive])
        #expect(problemKinds(work.databasePath) == [.notAnArchive])
        #expect(
            ArchiveVerifier(path: work.databasePath).run().problems.first?.message.contains("SQLite database") == true)
        try work.write("empty", "")
        #expect(problemKinds(work.path("empty")) == [.notAnArchive])
        #expect(problemKinds(work.path("missing.zst")).first == .io)
    }

    @Test func aSnapshotWithoutItsManifestIsAMissingManifest() throws {
        let work = try loadedWorkspace()
        try export(work, to: "plain.ndjson")
        try FileManager.default.removeItem(atPath: work.path("plain.ndjson.manifest.json"))
        #expect(problemKinds(work.path("plain.ndjson")) == [.missingManifest])
        // zstd data that factpipe did not write: it decodes, but says nothing about itself.
        try runTool("/usr/bin/zstd", ["-q", "-f", work.path("plain.ndjson"), "-o", work.path("other.zst")])
        let report = ArchiveVerifier(path: work.path("other.zst")).run()
        #expect(report.problems.map(\.kind) == [.missingManifest])
        #expect(report.contentBytes == Int64(try bytes(work.path("plain.ndjson")).count))
    }

    /// `verify --json` said `"seconds":0.000` whatever the archive: the time was set after the report
    /// had been returned.
    @Test func theReportSaysHowLongTheCheckTook() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let report = ArchiveVerifier(path: work.path("s.ndjson.zst")).run()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.seconds > 0)
    }

    /// The manifest frame's size is read from the file's last eight bytes, which anyone may write: a
    /// file claiming a manifest of 1.5 GB made `verify` allocate and read 1.5 GB. A frame holding more
    /// than a manifest may have (1 MiB, as a `FILE.manifest.json`) is damaged, and not read.
    @Test func aManifestFrameLargerThanAManifestMayBeIsDamaged() throws {
        let work = try loadedWorkspace()
        let result = try export(work, to: "s.ndjson.zst")
        guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: result.path)) else {
            Issue.record("no manifest frame")
            return
        }
        let frames = Array(try bytes(result.path).prefix(Int(offset)))
        // A sound frame and a sound manifest, padded past 1 MiB with the spaces JSON allows.
        var json = result.manifest.json
        json.insert(contentsOf: String(repeating: " ", count: 1 << 20), at: json.index(before: json.endIndex))
        let padded = work.path("padded.ndjson.zst")
        try write(frames + SkippableFrame.encode(manifestJSON: json), to: padded)
        let report = ArchiveVerifier(path: padded).run()
        #expect(report.problems.map(\.kind) == [.manifestDamaged], "\(report.problems)")
        #expect(report.problems.first?.message.contains("more than the 1048576 a manifest may have") == true)
        // The same manifest unpadded is sound.
        try write(frames + SkippableFrame.encode(manifestJSON: result.manifest.json), to: work.path("plain.ndjson.zst"))
        #expect(ArchiveVerifier(path: work.path("plain.ndjson.zst")).run().isValid)
    }

    /// A backup of one frame without its size, holding 64 MiB where its manifest says the database's
    /// size: `verify` decoded it all into `TMPDIR` before it compared the sizes (3 GB from a 295 KB file).
    /// Decoding stops as soon as the content runs past the manifest's size.
    @Test func decodingStopsWhereTheManifestSaysTheContentEnds() throws {
        let work = try loadedWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let backup = try DatabaseBackup(
            options: BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        ).run()
        let bomb = try streamedBackup(of: backup, padding: 64 << 20, in: work, named: "bomb.db.zst").path

        let report = ArchiveVerifier(path: bomb).run()
        #expect(report.problems.map(\.kind) == [.sizeMismatch], "\(report.problems)")
        #expect(report.problems.first?.message.contains("decoding stopped") == true)
        #expect(report.contentBytes == nil, "decoded \(report.contentBytes ?? 0) bytes")
    }

    /// A checksum file or a manifest beside a snapshot larger than one may be (1 MiB) was taken for
    /// absent: a `FILE.sha256` padded past it with a wrong hash let `verify` say the checksums matched,
    /// and such a `FILE.manifest.json` was called missing. Each is now a problem of its own, unread.
    @Test func aSidecarLargerThanOneMayBeIsAProblem() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson")
        let path = work.path("s.ndjson")
        let padding = String(repeating: "\n", count: (1 << 20) + 1)
        try (String(repeating: "0", count: 64) + "  s.ndjson\n" + padding)
            .write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        let checked = ArchiveVerifier(path: path).run()
        #expect(checked.problems.map(\.kind) == [.fileHashMismatch], "\(checked.problems)")
        #expect(checked.problems.first?.message.contains("more than the 1048576") == true)

        try FileManager.default.removeItem(atPath: path + ".sha256")
        let manifest = try String(contentsOfFile: path + ".manifest.json", encoding: .utf8)
        try (manifest + padding).write(toFile: path + ".manifest.json", atomically: true, encoding: .utf8)
        #expect(problemKinds(path) == [.manifestDamaged])
    }

    /// The name in `FILE.sha256` is the file it is the checksum of, as `sha256sum -c` reads it: the
    /// checksum of another file, holding this file's hash, was taken for this one's.
    @Test func aChecksumFileNamingAnotherFileIsAProblem() throws {
        let work = try loadedWorkspace()
        try export(work, to: "s.ndjson.zst")
        let path = work.path("s.ndjson.zst")
        let hash = try sha256sum(path)
        for (line, kinds) in [
            ("\(hash)  other.ndjson.zst\n", [SnapshotError.Kind.fileHashMismatch]), ("\(hash) *s.ndjson.zst\n", []),
            ("\(hash)  ./s.ndjson.zst\n", []), ("\(hash)\n", []),
        ] {
            try line.write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
            let report = ArchiveVerifier(path: path).run()
            #expect(report.problems.map(\.kind) == kinds, "\(line): \(report.problems)")
        }
    }

    /// Manifests that contradict themselves verified, and their restore failed: a backup said to be NDJSON
    /// (checked as a snapshot), a snapshot said to be a SQLite database (checked as a backup), a field
    /// given twice (read as its first value here, as its last by `jq`), and a snapshot of 1,000 empty
    /// lines counted as 1,000 facts (an import skips empty lines).
    @Test func aManifestThatContradictsItselfOrItsContentIsAProblem() throws {
        let work = try loadedWorkspace()
        let snapshot = try export(work, to: "s.ndjson.zst")
        try FileManager.default.createDirectory(atPath: work.path("backups"), withIntermediateDirectories: true)
        let backup = try DatabaseBackup(
            options: BackupOptions(databasePath: work.databasePath, directory: work.path("backups"))
        ).run()
        func frames(_ path: String) throws -> [UInt8] {
            guard case .found(_, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: path)) else {
                return []
            }
            return Array(try bytes(path).prefix(Int(offset)))
        }
        var backupAsNDJSON = snapshot.manifest
        backupAsNDJSON.kind = .backup
        var snapshotAsSQLite = backup.manifest
        snapshotAsSQLite.kind = .snapshot
        let json = snapshot.manifest.json
        let twice = String(json.dropLast()) + #","fact_count":\#(snapshot.manifest.factCount + 1)}"#
        for (name, source, manifestJSON) in [
            ("backup-ndjson.zst", snapshot.path, backupAsNDJSON.json),
            ("snapshot-sqlite.zst", backup.path, snapshotAsSQLite.json), ("twice.ndjson.zst", snapshot.path, twice),
        ] {
            try write(try frames(source) + SkippableFrame.encode(manifestJSON: manifestJSON), to: work.path(name))
            let kinds = problemKinds(work.path(name))
            #expect(kinds.contains(.manifestDamaged), "\(name): \(kinds)")
            let options = RestoreOptions(archivePath: work.path(name), targetPath: work.path(name + ".sqlite"))
            #expect(snapshotError { try ArchiveRestorer(options: options).run() }?.kind == .manifestDamaged, "\(name)")
        }

        let blank = String(repeating: "\n", count: 1000)
        try blank.write(toFile: work.path("blank.ndjson"), atomically: true, encoding: .utf8)
        var manifest = snapshot.manifest
        manifest.factCount = 1000
        manifest.contentBytes = 1000
        manifest.contentSHA256 = try sha256sum(work.path("blank.ndjson"))
        manifest.compressedSHA256 = nil
        try (manifest.json + "\n").write(
            toFile: work.path("blank.ndjson.manifest.json"), atomically: true, encoding: .utf8)
        let report = ArchiveVerifier(path: work.path("blank.ndjson")).run()
        #expect(report.problems.map(\.kind) == [.countMismatch], "\(report.problems)")
        #expect(report.countedFacts == 0)
    }
}
