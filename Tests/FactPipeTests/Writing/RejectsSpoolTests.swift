import Foundation
import Testing
@testable import FactPipe

/// An atomic load's rejects spool: nothing of it on disk under a name, and every byte it took appended
/// to the rejects file, in order, across its copy blocks.
struct RejectsSpoolTests {
    @Test func aPublishedSpoolAppendsEveryByteAfterWhatTheFileHeld() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("rejects.ndjson", "{\"earlier\":1}\n")
        let target = try BufferedFileOutput(path: path, append: true)
        let spool = try #require(RejectsSpool(beside: target))
        // Unlinked at once: no name of it in the folder, whatever happens to the process.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["rejects.ndjson"])
        // About 2.9 MiB of lines of varied length, so lines straddle the 1 MiB copy blocks, and a last line
        // without its newline (a load stopped inside one), which is carried to the end.
        var spooled = ""
        for index in 0..<3_000 {
            let line = "{\"line\":\(index),\"record\":\"" + String(repeating: "x", count: 700 + index % 611) + "\"}\n"
            spooled += line
            try spool.output.write(line)
        }
        let tail = "{\"line\":3000,\"record\":\"cut"
        spooled += tail
        try spool.output.write(tail)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"earlier\":1}\n", "nothing before publish")
        try spool.publish()
        try target.close()
        spool.discard()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"earlier\":1}\n" + spooled)
        #expect(spooled.utf8.count > 2 << 20, "more than two copy blocks")
    }

    /// A rejects file whose last line was torn (an atomic load killed while it appended its spool) is ended
    /// with a line break before a load appends to it: the next reject was glued to the torn line, and was no
    /// JSON either. A whole file, or one a load starts afresh, is left as it is.
    @Test func aLoadAppendingToATornRejectsFileStartsItsLinesOnALineOfTheirOwn() throws {
        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(a).\nnot a fact\n")
        let rejects = try work.write("rejects.ndjson", #"{"earlier":1}"# + "\n" + #"{"torn":"#)
        let summary = work.load(input) {
            $0.rejectsPath = rejects
            $0.appendsRejects = true
        }
        #expect(summary.rejected == 1)
        let lines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines.last == "", "\(lines)")
        #expect(lines[0] == #"{"earlier":1}"# && lines[1] == #"{"torn":"#)
        let reject = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(reject["record"] as? String == "not a fact")

        let whole = try work.write("whole.ndjson", #"{"earlier":1}"# + "\n")
        let output = try BufferedFileOutput.rejects(path: whole)
        try output.close()
        #expect(try String(contentsOfFile: whole, encoding: .utf8) == #"{"earlier":1}"# + "\n")
    }

    @Test func aStreamOrPipeTargetHasNoSpool() throws {
        #expect(RejectsSpool(beside: BufferedFileOutput(descriptor: STDERR_FILENO, name: "-")) == nil)
        let directory = try TemporaryDirectory()
        let fifo = directory.url.appendingPathComponent("r.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        #expect(try RejectsSpool(beside: BufferedFileOutput(path: fifo, append: true)) == nil)
    }
}
