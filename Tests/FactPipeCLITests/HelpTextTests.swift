import Foundation
import Testing

/// What a person reads in `--help` and in summaries.
@Suite struct HelpTextTests {
    @Test func importHelpNamesTheDefaultFormatAndPolicyAsTheyAreTyped() throws {
        let help = try Factpipe.run(["import", "--help"]).stdoutText
        let flat = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("default: auto)"), "\(help)")
        #expect(flat.contains("default: ignore)"), "\(help)")
        #expect(!help.contains("Argument(value:"), "\(help)")
    }

    /// Prose in a discussion is wrapped by the parser, never broken by hand: at 80 columns (a line holds 79), a line of a
    /// paragraph ends only where the next line's first word would not have fitted.
    @Test(arguments: [
        "import", "run", "export", "backup", "restore", "verify", "generate", "loads", "undo", "query", "stats",
        "optimize", "scale-test", "monitor",
    ])
    func discussionsAreNotBrokenMidSentence(command: String) throws {
        let help = try Factpipe.runProcess(
            URL(fileURLWithPath: "/usr/bin/env"), ["COLUMNS=80", BinaryLocator.factpipe.path, command, "--help"]
        ).stdoutText
        let discussion = help.components(separatedBy: "USAGE:").first ?? ""
        let lines = discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count > 5, "\(help)")
        for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !line.hasPrefix(" ") {
            guard !next.isEmpty, !next.hasPrefix(" "), !line.hasSuffix(":") else { continue }
            let word = next.prefix { $0 != " " }
            #expect(line.count + 1 + word.count >= 80, "a line broken inside a paragraph: \(line)")
        }
    }

    @Test func oneRecordIsOneRecord() throws {
        let work = try CLIWorkspace()
        let input = try work.write("one.txt", "IsA(Dog, Animal).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 0)
        #expect(run.stderr.contains("done: 1 record: 1 inserted"), "\(run.stderr)")
        #expect(run.stderr.contains("0 duplicates") && run.stderr.contains("0 warnings"), "\(run.stderr)")
    }
}
