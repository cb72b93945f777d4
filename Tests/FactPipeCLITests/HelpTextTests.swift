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

    /// Prose in a discussion is wrapped by the parser, never broken by hand: a line of a paragraph is
    /// short only at the paragraph's end.
    @Test(arguments: ["import", "run"])
    func discussionsAreNotBrokenMidSentence(command: String) throws {
        let help = try Factpipe.run([command, "--help"]).stdoutText
        let discussion = help.components(separatedBy: "USAGE:").first ?? ""
        let lines = discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !line.hasPrefix(" ") {
            guard !next.isEmpty, !next.hasPrefix(" "), !line.hasSuffix(":") else { continue }
            #expect(line.count >= 60, "a short line inside a paragraph: \(line)")
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
