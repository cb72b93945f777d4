import Foundation
import Testing

/// Standard output or error redirected into the database: what a command prints would be written
/// over it. Every command that takes --db refuses before it writes a byte.
@Suite struct StreamIntoDatabaseTests {
    @Test(arguments: [
        (["query", "--predicate", "HasPart", "--limit", "0", "--format", "ndjson"], "1<>"),
        (["stats", "--json"], ">>"), (["loads"], ">>"), (["optimize"], "2>>"), (["stats"], "2>>"),
    ])
    func aStreamRedirectedIntoTheDatabaseIsRefused(arguments: [String], redirection: String) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        let command = ([BinaryLocator.factpipe.path, arguments[0], "--db", work.database] + arguments.dropFirst())
            .map { "'\($0)'" }.joined(separator: " ")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection) '\(work.database)'; echo \"exit=$?\""])
        #expect(run.stdoutText.contains("exit=64"), "\(arguments) \(redirection): \(run.stdoutText) \(run.stderr)")
        #expect(try sha256sum(work.database) == before, "not a byte was written into it")
        #expect(try SQLiteFile.strings(work.database, "PRAGMA quick_check") == ["ok"])
    }

    @Test func theDatabaseGivenAsDbEqualsPathIsGuardedTheSameWay() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let before = try sha256sum(work.database)
        for (arguments, redirection) in [(["stats", "--json"], ">>"), (["stats"], "2>>")] {
            let command = ([BinaryLocator.factpipe.path, arguments[0], "--db=\(work.database)"] + arguments.dropFirst())
                .map { "'\($0)'" }.joined(separator: " ")
            let run = try Factpipe.runProcess(
                URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection) '\(work.database)'; echo \"exit=$?\""])
            #expect(run.stdoutText.contains("exit=64"), "\(arguments) \(redirection): \(run.stdoutText) \(run.stderr)")
            #expect(try sha256sum(work.database) == before, "\(arguments) \(redirection)")
        }
    }
}
