#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `verify` found: the manifest, what was recomputed, and every problem, each named.
public struct VerificationReport: Sendable {
    /// The archive.
    public var path: String
    /// The manifest, when it could be read.
    public var manifest: SnapshotManifest?
    /// Everything that does not match, in the order found; empty when the archive is sound.
    public var problems: [SnapshotError] = []
    /// Facts counted in the content (records of a snapshot, rows of a backup's `facts`).
    public var countedFacts: Int64?
    /// Bytes of content decoded.
    public var contentBytes: Int64?
    /// SHA-256 of the content decoded.
    public var contentSHA256: String?
    /// SHA-256 of the compressed frames read.
    public var compressedSHA256: String?
    /// SHA-256 of the file.
    public var fileSHA256: String?
    /// True when a `FILE.sha256` beside the archive was compared with the file's SHA-256.
    public var checkedChecksumFile = false
    /// The files beside the archive that an export killed between its renames left hidden, and the check put
    /// in place (`SidecarRollForward`): said, as the folder changed.
    public var sidecarsPutInPlace: [String] = []
    /// The SQLite check run on a backup's database.
    public var databaseCheck: IntegrityCheck?
    /// Wall-clock seconds.
    public var seconds = 0.0

    /// True when nothing is wrong.
    public var isValid: Bool { problems.isEmpty }
}

/// Checks a snapshot or a backup against its manifest and checksums, reading it once.
///
/// Decoding checks every zstd frame and its checksum; the content's size, SHA-256 and fact count
/// are compared with the manifest's, and the file's SHA-256 with `FILE.sha256` when it is there.
/// A backup's database is decompressed into a temporary file (under `TMPDIR`), opened read-only
/// and checked by SQLite (`quick_check`, or `integrity_check` when asked), and its facts counted.
public struct ArchiveVerifier: Sendable {
    /// The archive to check.
    public var path: String
    /// How thoroughly SQLite checks a backup's database.
    public var databaseCheck: IntegrityCheck

    /// A verifier of the archive at `path`.
    public init(path: String, databaseCheck: IntegrityCheck = .quick) {
        self.path = path
        self.databaseCheck = databaseCheck
    }

    /// Checks the archive; never throws: every problem, unreadable files included, is in the report.
    public func run() -> VerificationReport {
        let start = ContinuousClock.now
        // Timed here, after the checks return: a `defer` that set it ran after `return` had copied the
        // report, and `verify --json` always said "seconds":0.000.
        var report = checked()
        report.seconds = seconds(since: start)
        return report
    }

    /// The report of every check, but for the time they took.
    private func checked() -> VerificationReport {
        var report = VerificationReport(path: path)
        let reader: ArchiveReader
        // The manifest and checksum an export killed between its renames left hidden beside the archive.
        report.sidecarsPutInPlace = SidecarRollForward.complete(path)
        do {
            reader = try ArchiveReader(path: path)
        } catch {
            report.problems.append(error)
            return report
        }
        var manifestProblem: SnapshotError?
        switch reader.manifest {
        case .success(let manifest): report.manifest = manifest
        case .failure(let error): manifestProblem = error
        }
        if !reader.isCompressed, let manifestProblem {
            // A plain file without its manifest: nothing to compare it with.
            report.problems.append(manifestProblem)
            return report
        }
        check(reader, into: &report)
        if let manifestProblem { report.problems.append(manifestProblem) }
        return report
    }

    private func check(_ reader: ArchiveReader, into report: inout VerificationReport) {
        let manifest = report.manifest
        do throws(SnapshotError) {
            if manifest?.format == .sqlite {
                try checkBackup(reader, into: &report)
            } else {
                var counter = RecordCounter(format: manifest?.format ?? .ndjson)
                let content = try reader.readContent(limit: manifest?.contentBytes) { piece in counter.consume(piece) }
                report.contentBytes = content.bytes
                report.contentSHA256 = content.sha256
                report.compressedSHA256 = content.compressedSHA256
                report.countedFacts = counter.records
            }
            report.fileSHA256 = try reader.fileSHA256()
        } catch {
            report.problems.append(error)
            return
        }
        let recordedFileSHA256: String?
        do {
            recordedFileSHA256 = try reader.recordedFileSHA256()
        } catch {
            recordedFileSHA256 = nil
            report.problems.append(error)
        }
        if let recorded = recordedFileSHA256 {
            report.checkedChecksumFile = true
            if recorded != report.fileSHA256 {
                report.problems.append(
                    SnapshotError(
                        .fileHashMismatch, path: path,
                        "file hash differs from \(path).sha256: the file is \(report.fileSHA256 ?? "?"), "
                            + "the checksum file says \(recorded.isEmpty ? "nothing readable" : recorded)"))
            }
        }
        guard let manifest else { return }
        report.problems += Self.compare(manifest, report, path: path)
    }

    /// Decompresses a backup into a temporary file and lets SQLite check and count it.
    private func checkBackup(_ reader: ArchiveReader, into report: inout VerificationReport) throws(SnapshotError) {
        let folder = temporaryFolder()
        // The backed-up database whole: readable by this user alone, however the archive is.
        let output = try AtomicFileOutput(
            path: folder + "/factpipe-verify.db", hashes: false, sparse: true, mode: AtomicFileOutput.privateMode)
        defer { output.abandon() }
        let content = try reader.readContent(limit: report.manifest?.contentBytes) { piece throws(SnapshotError) in
            try output.write(piece)
        }
        _ = try output.finishWriting()
        report.contentBytes = content.bytes
        report.contentSHA256 = content.sha256
        report.compressedSHA256 = content.compressedSHA256
        guard let temporary = output.temporaryPath, content.sha256 == report.manifest?.contentSHA256 else {
            return  // the hash mismatch is reported; SQLite need not look at other bytes
        }
        report.databaseCheck = databaseCheck
        do {
            let inspection = try DatabaseCheck.inspect(path: temporary, check: databaseCheck)
            report.countedFacts = inspection.factCount
            if let first = inspection.problems.first {
                report.problems.append(
                    SnapshotError(
                        .databaseDamaged, path: path,
                        "the database inside fails PRAGMA \(databaseCheck.rawValue): \(first)"
                            + (inspection.problems.count > 1 ? " (and \(inspection.problems.count - 1) more)" : "")))
            }
        } catch where error.kind == .foreignDatabase {
            // Refused by its schema before any of its tables was read (`DatabaseCheck.schemaProblem`).
            report.problems.append(
                SnapshotError(
                    .notAFactpipeDatabase, path: path,
                    "the database inside is not a factpipe database: \(error.message)"))
        } catch {
            report.problems.append(
                SnapshotError(
                    .databaseDamaged, path: path, "the database inside cannot be read: \(error.message)"))
        }
    }

    /// Problems where what was recomputed differs from the manifest.
    static func compare(_ manifest: SnapshotManifest, _ report: VerificationReport, path: String) -> [SnapshotError] {
        var problems: [SnapshotError] = []
        if let bytes = report.contentBytes, bytes != manifest.contentBytes {
            problems.append(
                SnapshotError(
                    .sizeMismatch, path: path,
                    "size differs: \(bytes) bytes of content, the manifest says \(manifest.contentBytes)"))
        }
        if let hash = report.contentSHA256, hash != manifest.contentSHA256 {
            problems.append(
                SnapshotError(
                    .hashMismatch, path: path,
                    "content hash differs: SHA-256 \(hash), the manifest says \(manifest.contentSHA256)"))
        }
        if let hash = report.compressedSHA256, let expected = manifest.compressedSHA256, hash != expected {
            problems.append(
                SnapshotError(
                    .hashMismatch, path: path,
                    "compressed data hash differs: SHA-256 \(hash), the manifest says \(expected)"))
        }
        if let count = report.countedFacts, count != manifest.factCount {
            problems.append(
                SnapshotError(
                    .countMismatch, path: path, "count differs: \(count) facts, the manifest says \(manifest.factCount)"
                ))
        }
        return problems
    }
}
