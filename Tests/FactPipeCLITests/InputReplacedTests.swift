import Foundation
import Testing

/// An input is hashed when the load begins and read later, by its path: a file put in its place meanwhile
/// must not be loaded under the first one's hash (which would then skip that content as loaded).
@Suite struct InputReplacedTests {
    @Test func anInputReplacedAfterItsHashWasTakenIsRefusedAndNothingOfItRecorded() throws {
        let work = try CLIWorkspace()
        let old = #"{"statement":"OldFact(A, B)."}"# + "\n"
        let input = try work.write("b.ndjson", old)
        let copy = try work.write("b-copy.ndjson", old)
        let replacement = try work.write("b-new.ndjson", #"{"statement":"NewFact(X, Y)."}"# + "\n")
        // The first input is a FIFO held open: the load has planned (and hashed) b.ndjson, and waits.
        let fifo = try HeldOpenFIFO(work.path("first.fifo"))
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", fifo.path, input, "--db", work.database])
        #expect(fifo.openWhenReaderArrives())
        try fifo.write("First(a).\n")
        #expect(rename(replacement, input) == 0)
        fifo.close()
        let run = try load.wait()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("b.ndjson") && run.stderr.contains("changed after its SHA-256"), "\(run.stderr)")
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id") == ["First(a)."])

        // The first content was never loaded, so it is not skipped as loaded.
        let again = try Factpipe.run(["import", copy, "--db", work.database, "--json", "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(int(try again.json(), "inserted") == 1)
        #expect(try SQLiteFile.strings(work.database, "SELECT statement FROM facts ORDER BY id") == ["First(a).", "OldFact(A, B)."])
    }

    @Test func anInputRewrittenInPlaceAfterItsHashWasTakenIsRefused() throws {
        let work = try CLIWorkspace()
        let input = try work.write("b.txt", "Old(a).\n")
        let fifo = try HeldOpenFIFO(work.path("first.fifo"))
        let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", fifo.path, input, "--db", work.database])
        #expect(fifo.openWhenReaderArrives())
        try "New(b).\nNew(c).\n".write(toFile: input, atomically: false, encoding: .utf8)
        fifo.close()
        let run = try load.wait()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("changed after its SHA-256"), "\(run.stderr)")
        #expect(try SQLiteFile.int(work.database, "SELECT count(*) FROM facts WHERE statement LIKE 'New%'") == 0)
    }
}
