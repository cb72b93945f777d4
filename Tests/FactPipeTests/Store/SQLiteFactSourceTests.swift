import Foundation
import Testing

@testable import FactPipe

/// A SQLite input refused as it is opened gives back everything it took.
struct SQLiteFactSourceTests {
    /// How many of this process's descriptors are open on `path` (other tests run beside this one and
    /// open their own).
    private func descriptors(on path: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)) == path
        }.count
    }

    /// A WAL file without its log is watched through a descriptor of its own; a source refused after that
    /// (a damaged table) is never released, so the refusal closes it (one leaked per input of a `run`).
    @Test func aDamagedWALSourceRefusedAtOpenLeavesNoDescriptorOpen() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("damaged.db")
        try runTool("/usr/bin/sqlite3", [path, """
            PRAGMA page_size = 4096;
            CREATE TABLE facts(statement TEXT);
            WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 19999)
            INSERT INTO facts SELECT 'Rel(Ent' || i || ', X)' FROM c;
            PRAGMA journal_mode = wal;
            """], standardOutputTo: dir.path("mode.txt"))
        try runTool("/usr/bin/sqlite3", [
            path, "SELECT pageno FROM dbstat WHERE name = 'facts' AND pagetype = 'leaf' LIMIT 1 OFFSET 5",
        ], standardOutputTo: dir.path("leaf.txt"))
        let leaf = try #require(Int(try String(contentsOfFile: dir.path("leaf.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[(leaf - 1) * 4096 + 3] = 0
        bytes[(leaf - 1) * 4096 + 4] = 5
        try bytes.write(to: URL(fileURLWithPath: path))
        try #require(!FileManager.default.fileExists(atPath: path + "-wal"))

        for _ in 0..<20 {
            #expect(throws: StoreError.self) { _ = try SQLiteFactSource(path: path) }
        }
        #expect(try descriptors(on: path) == 0)
    }
}
