import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIWorkspace {
    /// Imports `Fixtures/hakgal/kb_facts.ndjson` into the workspace's database through the binary.
    func loadKnowledgeBase(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try Factpipe.run(["import", fixturePath("hakgal/kb_facts.ndjson"), "--db", database, "-q"])
        try #require(run.status == 2, "4,244 records, 5 refused: \(run.stderr)", sourceLocation: sourceLocation)
    }

    /// A copy of the knowledge base's `hexagonal_kb.db`, alone in a folder of the workspace.
    func copyOfHexagonalKB() throws -> String {
        let folder = path("hexagonal")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let run = try Factpipe.tool(
            "/usr/bin/zstd", ["-d", "-q", "-f", fixturePath("hakgal/hexagonal_kb-2025-09-15.db.zst"), "-o", folder + "/kb.db"])
        try #require(run.status == 0, "zstd -d of the knowledge base's database failed")
        return folder + "/kb.db"
    }

    func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(folder)).sorted()
    }
}

/// Standard output as one JSON object a line.
func ndjsonObjects(_ run: FactpipeRun) throws -> [[String: Any]] {
    try run.stdoutText.split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }
}

/// An exclusive `flock` on `<database>-factpipe.lock`, as a running load holds it; dropped on release.
final class HeldLoadLock {
    private let descriptor: Int32

    init(database: String) throws {
        descriptor = open(database + "-factpipe.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw CLITestFailure(description: "cannot lock \(database)-factpipe.lock")
        }
        let text = Array("pid \(getpid()), import of nightly.ndjson started now\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
