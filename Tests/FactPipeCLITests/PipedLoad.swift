import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `factpipe` reading its standard input from a pipe the test feeds, part by part: something can then
/// happen to its database or lock exactly between two of its commits.
final class PipedLoad {
    private let pipe = Pipe()
    let process: BackgroundProcess

    init(_ arguments: [String]) throws {
        process = try BackgroundProcess(BinaryLocator.factpipe, arguments, stdin: pipe.fileHandleForReading)
    }

    /// Writes `lines` to the load's standard input.
    func write(_ lines: String) throws {
        try pipe.fileHandleForWriting.write(contentsOf: Data(lines.utf8))
    }

    /// Waits (up to a minute, while the load runs) until `sql` on `database`, read-only, gives `value` or more.
    func wait(for value: Int, from sql: String, in database: String) throws {
        let deadline = Date().addingTimeInterval(60)
        while (readOnlyInt(database, sql) ?? 0) < value {
            try #require(Date() < deadline && process.isRunning, "\(sql) never reached \(value)")
            usleep(10_000)
        }
    }

    /// Writes `lines` and waits until the ledger of `database` has a load with `records` records committed.
    func feed(_ lines: String, committing records: Int, in database: String) throws {
        try write(lines)
        try wait(for: records, from: "SELECT coalesce(max(records), 0) FROM factpipe_loads", in: database)
    }

    /// Closes the input and waits for the load to end.
    func finish() throws -> FactpipeRun {
        try pipe.fileHandleForWriting.close()
        return try process.wait()
    }
}
