import Foundation
import Testing

@testable import FactPipe

/// A workspace whose database holds the knowledge base's facts, loaded from `kb_facts.ndjson`.
func loadedKnowledgeBase(sourceLocation: SourceLocation = #_sourceLocation) throws -> LoadWorkspace {
    let work = try LoadWorkspace()
    let summary = work.load(fixtureURL("hakgal/kb_facts.ndjson").path, sourceLocation: sourceLocation)
    try #require(summary.status == .done && summary.inserted > 4_000, "\(summary)", sourceLocation: sourceLocation)
    return work
}

/// The knowledge base's own `hexagonal_kb.db`, copied alone into a folder of `work`, so that any
/// file SQLite might leave beside it would show.
func copyOfHexagonalKB(in work: LoadWorkspace) throws -> String {
    let folder = work.path("hexagonal")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let target = folder + "/hexagonal_kb.db"
    try copyKnowledgeBaseDatabase(to: target)
    return target
}

/// Writes the knowledge base's `hexagonal_kb.db` (2025-09-15, kept zstd-compressed in Fixtures) to `path`.
func copyKnowledgeBaseDatabase(to path: String) throws {
    let zstd = Process()
    zstd.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
    zstd.arguments = ["-d", "-q", "-f", fixtureURL("hakgal/hexagonal_kb-2025-09-15.db.zst").path, "-o", path]
    try zstd.run()
    zstd.waitUntilExit()
    try #require(zstd.terminationStatus == 0, "zstd -d of the knowledge base's database failed")
}

/// The bytes of a file, to compare before and after.
func fileContents(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// The names in a folder, sorted.
func folderListing(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}
