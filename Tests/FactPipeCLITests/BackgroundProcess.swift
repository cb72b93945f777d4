import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `factpipe` (or other) process started without waiting for it: to kill it, or to run another
/// command while it works. Its output goes to files, so no pipe can fill up.
final class BackgroundProcess {
    let process = Process()
    private let directory: URL
    private let stdoutHandle: FileHandle
    private let stderrHandle: FileHandle
    private(set) var finished: FactpipeRun?
    /// When it was seen to have exited (set by `wait`).
    private(set) var exitedAt: Date?

    /// `stdin` is the child's standard input (a pipe's read end, say); /dev/null when nil.
    init(_ executable: URL = BinaryLocator.factpipe, _ arguments: [String], stdin: FileHandle? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("factpipe-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        stdoutHandle = try FileHandle(forWritingTo: out)
        stderrHandle = try FileHandle(forWritingTo: err)
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Sends SIGKILL.
    func killNine() {
        kill(pid, SIGKILL)
    }

    /// Waits for it to exit and returns what it printed.
    @discardableResult
    func wait() throws -> FactpipeRun {
        if let finished { return finished }
        process.waitUntilExit()
        exitedAt = Date()
        try stdoutHandle.close()
        try stderrHandle.close()
        let run = FactpipeRun(
            status: process.terminationStatus,
            stdout: try Data(contentsOf: directory.appendingPathComponent("stdout")),
            stderr: String(decoding: try Data(contentsOf: directory.appendingPathComponent("stderr")), as: UTF8.self))
        finished = run
        return run
    }

    /// True when it was ended by SIGKILL (not by exiting on its own).
    var wasKilled: Bool {
        process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it held.
@discardableResult
func poll(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}

/// A query through `sqlite3 -readonly`, or nil while the database or its tables are not there yet.
func readOnlyInt(_ database: String, _ sql: String) -> Int? {
    guard FileManager.default.fileExists(atPath: database),
          let run = try? Factpipe.runProcess(URL(fileURLWithPath: "/usr/bin/sqlite3"), ["-readonly", database, sql]),
          run.status == 0
    else { return nil }
    return Int(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// The SHA-256 of a file as `sha256sum` prints it.
func sha256sum(_ path: String) throws -> String {
    String(try Factpipe.tool("/usr/bin/sha256sum", [path]).stdoutText.prefix(64))
}

/// Decompresses a zstd file with the `zstd` tool.
func zstdDecompress(_ source: String, to target: String) throws {
    try Factpipe.tool("/usr/bin/zstd", ["-q", "-d", "-f", source, "-o", target])
}

/// The columns of `facts` that two loads of the same input must agree on: all but the id.
let factColumnsButID = "statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata, "
    + "created_at, load_id, updated_load_id"

/// Every fact, all columns but the id, in statement order, as the sqlite3 tool prints them.
func factDump(_ database: String) throws -> String {
    try Factpipe.tool("/usr/bin/sqlite3", [database, "SELECT \(factColumnsButID) FROM facts ORDER BY statement"])
        .stdoutText
}

/// The ledger columns a resumed load must end with, equal to an uninterrupted load's.
func ledgerDump(_ database: String) throws -> String {
    try Factpipe.tool("/usr/bin/sqlite3", [database, """
        SELECT source, source_size, source_sha256, format, compression, conflict_policy, status, records, inserted,
        updated, duplicates, rejected, warnings, checkpoint_offset, checkpoint_line FROM factpipe_loads ORDER BY id
        """]).stdoutText
}

/// The package root, found from this file's path.
func packageRootURL(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // FactPipeCLITests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
}
