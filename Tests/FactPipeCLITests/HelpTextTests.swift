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

    @Test func oneRecordIsOneRecord() throws {
        let work = try CLIWorkspace()
        let input = try work.write("one.txt", "IsA(Dog, Animal).\n")
        let run = try Factpipe.run(["import", input, "--db", work.database])
        #expect(run.status == 0)
        #expect(run.stderr.contains("done: 1 record: 1 inserted"), "\(run.stderr)")
        #expect(run.stderr.contains("0 duplicates") && run.stderr.contains("0 warnings"), "\(run.stderr)")
    }
}
