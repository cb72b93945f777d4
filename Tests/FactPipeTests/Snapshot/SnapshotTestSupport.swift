import Foundation
import Testing

@testable import FactPipe

/// Facts that exercise every corner of a snapshot: Unicode, nested terms, quotes and backslashes,
/// line breaks and tabs in quoted terms, empty context, null source, nested metadata, confidences
/// that only round-trip with every digit, times with fractions and offsets.
let roundTripFixture = "cases/snapshot_round_trip.ndjson"
/// How many facts the fixture holds.
let roundTripFixtureFacts = 11

/// Every column of every fact but `id` and `load_id`, as text, ordered by statement: the confidence
/// with 17 significant digits (exact for a double) and the storage type of each column, so that
/// NULL and '' or 1 and 1.0 differ.
func storedFacts(_ path: String) throws -> [[String?]] {
    try RawDatabase(path).rows(
        """
        SELECT statement, predicate, subject, object, typeof(object), args, arity, printf('%.17g', confidence),
        typeof(confidence), source, typeof(source), context, fact_metadata, created_at FROM facts ORDER BY statement
        """)
}

/// A workspace with a database loaded from `inputs` (the round-trip fixture by default).
func loadedWorkspace(
    _ inputs: [String]? = nil, sourceLocation: SourceLocation = #_sourceLocation
) throws -> LoadWorkspace {
    let work = try LoadWorkspace()
    let paths = try inputs ?? [work.copyFixture(roundTripFixture)]
    let summary = work.load(paths, sourceLocation: sourceLocation)
    try #require(
        summary.status == .done && summary.rejected == 0, "\(summary.message ?? "")", sourceLocation: sourceLocation)
    return work
}

/// A workspace with a database loaded from one file holding `text`.
func loadedWorkspace(text: String, name: String = "input.ndjson", sourceLocation: SourceLocation = #_sourceLocation)
    throws -> LoadWorkspace
{
    let work = try LoadWorkspace()
    let summary = work.load(try work.write(name, text), sourceLocation: sourceLocation)
    try #require(
        summary.status == .done && summary.rejected == 0, "\(summary.message ?? "")", sourceLocation: sourceLocation)
    return work
}

/// Exports the workspace's database with `configure` applied to the options.
@discardableResult
func export(
    _ work: LoadWorkspace, to name: String, _ configure: (inout SnapshotOptions) -> Void = { _ in }
) throws -> ArchiveResult {
    var options = SnapshotOptions(databasePath: work.databasePath, outputPath: work.path(name))
    configure(&options)
    return try SnapshotExporter(options: options).run()
}

/// Imports a file into a new database in the workspace and returns the database's path.
func reimport(
    _ work: LoadWorkspace, _ name: String, into database: String, format: InputFormat = .auto,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> String {
    let target = work.path(database)
    var options = ImportOptions(inputs: [work.path(name)], databasePath: target)
    options.format = format
    let summary = ImportPipeline(options: options).run()
    #expect(summary.status == .done, "\(summary.message ?? "")", sourceLocation: sourceLocation)
    #expect(summary.rejected == 0, "\(summary.sampleDiagnostics)", sourceLocation: sourceLocation)
    return target
}

/// A copy of the workspace's database at `name`: a target a restore with `force` may replace.
func databaseCopy(_ work: LoadWorkspace, _ name: String) throws -> String {
    let path = work.path(name)
    try FileManager.default.copyItem(atPath: work.databasePath, toPath: path)
    return path
}

/// The bytes of a file.
func bytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// `backup` as earlier versions wrote it, at `work.path(name)`: its database (with `padding` zero bytes
/// after it) in one zstd frame that does not record its size, then its manifest with the frame's SHA-256.
/// Returns the archive and the database's bytes as the backup holds them.
func streamedBackup(
    of backup: ArchiveResult, padding: Int = 0, in work: LoadWorkspace, named name: String
) throws -> (path: String, database: String) {
    let unpacked = work.path("unpacked-\(name).sqlite")
    try runTool("/usr/bin/zstd", ["-d", "-q", backup.path, "-o", unpacked])
    let frames = work.path("frames-\(name).zst")
    try runTool(
        "/bin/sh", ["-c", "( cat '\(unpacked)'; head -c \(padding) /dev/zero ) | /usr/bin/zstd -3 -q -c > '\(frames)'"])
    var manifest = backup.manifest
    manifest.compressedSHA256 = try sha256sum(frames)
    let path = work.path(name)
    try write(try bytes(frames) + SkippableFrame.encode(manifestJSON: manifest.json), to: path)
    return (path, unpacked)
}

/// Writes `bytes` to `path`.
func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A copy of `source` at `target` with the byte at `offset` inverted.
func copyFlippingByte(_ source: String, to target: String, at offset: Int) throws {
    var content = try bytes(source)
    content[offset] ^= 0xFF
    try write(content, to: target)
}

/// The kinds of the problems `verify` reports for `path`.
func problemKinds(_ path: String) -> [SnapshotError.Kind] {
    ArchiveVerifier(path: path).run().problems.map(\.kind)
}

/// The error `body` throws, when it throws a `SnapshotError` (nil when it succeeds or throws another).
func snapshotError<T>(_ body: () throws -> T) -> SnapshotError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? SnapshotError
    }
}

/// The names in a folder, sorted.
func folderContents(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}
