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

/// The one integer a query returns through a read-only connection, or nil while the database or its
/// tables are not there yet.
func readOnlyInt(_ database: String, _ sql: String) -> Int? {
    try? RawDatabase(database, readOnly: true).int(sql)
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

/// A named pipe the test writes into and holds open: a load reading it cannot reach the end of its
/// input until `close()`, so it is sure to be running (and to hold its lock) meanwhile.
final class HeldOpenFIFO {
    let path: String
    private var descriptor: Int32 = -1

    /// Creates the FIFO at `path`.
    init(_ path: String) throws {
        self.path = path
        guard mkfifo(path, 0o600) == 0 else {
            throw CLITestFailure(description: "mkfifo \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close() }

    /// Opens the writing end once a reader has opened the FIFO (within `timeout` seconds); false when
    /// none came. Never blocks past the deadline.
    func openWhenReaderArrives(timeout: Double = 30) -> Bool {
        poll(timeout: timeout) {
            // Not inherited by processes started meanwhile: one holding it would keep the end of input away.
            let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)  // ENXIO while there is no reader
            guard fd >= 0 else { return false }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            descriptor = fd
            return true
        }
    }

    /// Writes `text` whole.
    func write(_ text: String) throws {
        signal(SIGPIPE, SIG_IGN)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                throw CLITestFailure(description: "write to \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Closes the writing end: the reader then sees the end of its input.
    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
