import Foundation
import Testing

/// What a command could never do is refused before it creates or changes anything.
@Suite struct EarlyRefusalTests {
    @Test(arguments: [["optimize"], ["undo", "1"]])
    func anEmptyFileIsNoDatabaseToOptimizeOrUndo(arguments: [String]) throws {
        let work = try CLIWorkspace()
        let empty = try work.write("empty.db", "")
        let run = try Factpipe.run(arguments + ["--db", empty])
        #expect(run.status != 0, "\(run.stderr)")
        #expect(run.stderr.contains("not a factpipe database (an empty file)"), "\(run.stderr)")
        #expect(try work.size(empty) == 0)
        #expect(try work.contents("") == ["empty.db"])
    }

    @Test(arguments: ["nowhere/rejects.ndjson", "."])
    func aRejectsFileThatCannotBeOpenedIsRefusedBeforeTheDatabaseIsCreated(rejects: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "A(a).\n")
        let run = try Factpipe.run(["import", input, "--db", work.path("kb.db"), "--rejects", work.path(rejects)])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--rejects"), "\(run.stderr)")
        #expect(try work.contents("") == ["in.txt"])
    }
}
