import Foundation
import Testing

@_exported import FactPipeTestSupport

/// What a run of the built `factpipe` binary left behind.
struct FactpipeRun {
    var status: Int32
    var stdout: Data
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// Standard output as the one JSON object `--json` prints.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: stdout) as? [String: Any], "stdout: \(stdoutText) stderr: \(stderr)",
            sourceLocation: sourceLocation)
    }
}

struct CLITestFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs the built binary and other tools, capturing their output in files (no pipe can fill up).
enum Factpipe {
    /// Runs `factpipe` with `arguments`; `stdin` bytes are piped into it when given.
    /// `whileRunning` is called once the process has started (to signal it, say).
    static func run(
        _ arguments: [String], stdin: Data? = nil, whileRunning: ((Process) -> Void)? = nil
    ) throws -> FactpipeRun {
        try runProcess(BinaryLocator.factpipe, arguments, stdin: stdin, whileRunning: whileRunning)
    }

    static func runProcess(
        _ executable: URL, _ arguments: [String], stdin: Data? = nil, whileRunning: ((Process) -> Void)? = nil
    ) throws -> FactpipeRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factpipe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        let pipe = stdin.map { _ in Pipe() }
        process.standardInput = pipe ?? FileHandle.nullDevice
        try process.run()
        if let pipe, let stdin {
            // A child that exits before reading everything must not kill the test process with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            // Feed the bytes from another thread so a large input cannot block this one.
            let writer = pipe.fileHandleForWriting
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? writer.write(contentsOf: stdin)
                try? writer.close()
                done.signal()
            }
            done.wait()
        }
        whileRunning?(process)
        process.waitUntilExit()
        try stdoutHandle.close()
        try stderrHandle.close()
        return FactpipeRun(
            status: process.terminationStatus,
            stdout: try Data(contentsOf: stdoutURL),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }

    /// Runs a tool such as gzip or zstd and checks that it succeeded.
    @discardableResult
    static func tool(_ path: String, _ arguments: [String], stdin: Data? = nil) throws -> FactpipeRun {
        let run = try runProcess(URL(fileURLWithPath: path), arguments, stdin: stdin)
        guard run.status == 0 else {
            throw CLITestFailure(description: "\(path) \(arguments) exited with \(run.status): \(run.stderr)")
        }
        return run
    }
}

/// Queries the SQLite file at a path through the tests' own connection (`RawDatabase`), opened for
/// each query and closed after it.
enum SQLiteFile {
    /// Every row as an object keyed by column name (values typed as `JSONSerialization` gives them).
    static func rows(_ database: String, _ sql: String) throws -> [[String: Any]] {
        try RawDatabase(database).objects(sql)
    }

    /// The one integer the query returns.
    static func int(_ database: String, _ sql: String) throws -> Int {
        try RawDatabase(database).int(sql)
    }

    /// The first column of every row, as text.
    static func strings(_ database: String, _ sql: String) throws -> [String] {
        try RawDatabase(database).column(sql).map { $0 ?? "" }
    }

    /// The ledger rows, oldest first.
    static func ledger(_ database: String) throws -> [[String: Any]] {
        try rows(database, "SELECT * FROM factpipe_loads ORDER BY id")
    }
}

/// A fresh folder under the system temporary directory, removed when released.
final class CLIWorkspace {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("factpipe-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    var database: String { path("kb.sqlite") }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        try data.write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    func size(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }
}

/// A file under the package's `Fixtures/` folder, found from this file's path.
func fixturePath(_ relativePath: String, filePath: String = #filePath) -> String {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // FactPipeCLITests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Fixtures")
        .appendingPathComponent(relativePath).path
}

/// The integer value of `key` in a JSON object.
func int(_ object: [String: Any], _ key: String) -> Int? {
    (object[key] as? NSNumber)?.intValue
}

/// records == inserted + updated + duplicates + rejected, in a `--json` summary or a ledger row.
func expectCountsAddUp(_ object: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
    let parts = ["inserted", "updated", "duplicates", "rejected"].map { int(object, $0) ?? -1 } + [int(object, "staged") ?? 0]
    #expect(int(object, "records") == parts.reduce(0, +), "\(object)", sourceLocation: sourceLocation)
}
