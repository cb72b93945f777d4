import Foundation
import Testing

/// A command whose output cannot be written (a full disk: `> /dev/full`) says so and exits 1, instead
/// of 0 with its output lost.
@Suite struct StandardOutputFailureTests {
    @Test(arguments: [
        ["stats"], ["stats", "--json"], ["loads"], ["loads", "--json"], ["optimize", "--json"],
        ["import", "more.txt", "--json"],
    ])
    func aCommandWhoseOutputIsLostFails(arguments: [String]) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        _ = try work.write("more.txt", "More(a).\n")
        let command = ([BinaryLocator.factpipe.path, arguments[0], "--db", "kb.sqlite"] + arguments.dropFirst())
            .map { "'\($0)'" }.joined(separator: " ")
        let run = try Factpipe.runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "cd '\(work.url.path)' && \(command) > /dev/full"])
        #expect(run.status == 1, "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains("cannot write to standard output: No space left on device"), "\(run.stderr)")
    }

    @Test func aLoadDoneWithRejectsWhoseOutputIsLostFailsToo() throws {
        let work = try CLIWorkspace()
        _ = try work.write("bad.txt", "bad(\nA(a, b).\n")
        let command = "cd '\(work.url.path)' && '\(BinaryLocator.factpipe.path)' import bad.txt --db kb.sqlite --json"
        let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", command + " > /dev/full"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("cannot write to standard output"), "\(run.stderr)")
    }

    /// Help and the version are output too: `factpipe --help > /dev/full` printed nothing and exited 0.
    @Test(arguments: [["--help"], ["--version"], ["import", "--help"], ["help", "export"]])
    func helpOrTheVersionThatCannotBeWrittenFails(arguments: [String]) throws {
        let command = ([BinaryLocator.factpipe.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        for redirection in ["> /dev/full", ">&-"] {
            let run = try Factpipe.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "\(command) \(redirection)"])
            #expect(run.status == 1, "\(arguments) \(redirection): \(run.stderr)")
            #expect(run.stderr.contains("cannot write to standard output"), "\(run.stderr)")
        }
        let written = try Factpipe.run(arguments)
        #expect(written.status == 0 && !written.stdout.isEmpty && written.stderr.isEmpty, "\(written.stderr)")
    }

    @Test func aCommandWhoseOutputIsWrittenStillSucceeds() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let run = try Factpipe.run(["stats", "--db", work.database, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("cannot write"))
    }
}
