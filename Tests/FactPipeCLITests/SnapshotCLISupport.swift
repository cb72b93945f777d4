import Foundation
import Testing

/// Facts that exercise every corner of a snapshot (see the unit tests' round-trip fixture).
let snapshotFixture = fixturePath("cases/snapshot_round_trip.ndjson")
let snapshotFixtureFacts = 11

extension CLIWorkspace {
    /// Loads the snapshot fixture (or `input`) into `kb.sqlite` with the built binary.
    func loadFacts(_ input: String = snapshotFixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try Factpipe.run(["import", input, "--db", database, "--quiet"])
        try #require(run.status == 0, "import failed: \(run.stderr)", sourceLocation: sourceLocation)
    }

    /// The SHA-256 of every regular file under the workspace (folders included), by relative path.
    func fileHashes(under folder: String = "") throws -> [String: String] {
        let root = folder.isEmpty ? url.path : path(folder)
        var hashes: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return hashes }
        for case let name as String in walker {
            var isFolder: ObjCBool = false
            let full = root + "/" + name
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue else {
                continue
            }
            hashes[name] = try sha256sum(full)
        }
        return hashes
    }

    /// The names in a folder of the workspace, sorted.
    func contents(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(folder)).sorted()
    }
}

/// Every column of every fact but `id` and `load_id`, one fact a line as the sqlite3 CLI prints it in
/// quote mode (exact confidences, NULL apart from ''), ordered by statement.
func allColumns(_ database: String) throws -> String {
    let run = try Factpipe.tool(
        "/usr/bin/sqlite3",
        [
            "-quote", database,
            "SELECT statement, predicate, subject, object, args, arity, printf('%.17g', confidence), "
                + "typeof(confidence), source, context, fact_metadata, created_at FROM facts ORDER BY statement",
        ])
    #expect(run.stdoutText.split(separator: "\n").count >= snapshotFixtureFacts)
    return run.stdoutText
}

/// Runs `factpipe` so that file permissions apply: as user `nobody` through `setpriv` when the tests
/// run as root (root writes into read-only folders), directly otherwise.
func runFactpipeUnprivileged(_ arguments: [String]) throws -> FactpipeRun {
    guard getuid() == 0 else { return try Factpipe.run(arguments) }
    return try Factpipe.runProcess(
        URL(fileURLWithPath: "/usr/bin/setpriv"),
        ["--reuid=65534", "--regid=65534", "--clear-groups", BinaryLocator.factpipe.path] + arguments)
}

/// Lets user `nobody` read and write everything in the workspace (for `runFactpipeUnprivileged`).
func openToEveryone(_ work: CLIWorkspace) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: work.url.path)
    for name in try FileManager.default.contentsOfDirectory(atPath: work.url.path) {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: work.path(name), isDirectory: &isFolder)
        try FileManager.default.setAttributes(
            [.posixPermissions: isFolder.boolValue ? 0o777 : 0o666], ofItemAtPath: work.path(name))
    }
}

/// The `problems` of a `verify --json` object, as `error` kinds.
func problemKinds(_ object: [String: Any]) -> [String] {
    (object["problems"] as? [[String: Any]] ?? []).compactMap { $0["error"] as? String }
}
