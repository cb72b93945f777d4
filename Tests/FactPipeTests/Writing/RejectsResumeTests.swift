import Testing
@testable import FactPipe

/// What a resume may cut from its rejects file: only lines its own interrupted batches wrote.
struct RejectsResumeTests {
    private func line(_ source: String, _ line: Int) -> String {
        RecordDiagnostic(
            location: RecordLocation(source: source, line: line, offset: Int64(line * 10)), reason: .syntax,
            message: "bad \"quoted\" \\ record", record: "bad \(line)"
        ).rejectLine
    }

    /// The committed part: two rejects of `a.txt` before the checkpoint at line 10.
    private var committed: String { line("a.txt", 3) + line("a.txt", 7) }

    private func refusal(_ directory: TemporaryDirectory, _ text: String, source: String = "a.txt") throws -> String? {
        let path = try directory.write("rejects.ndjson", text)
        return RejectsResume.refusal(path: path, offset: Int64(committed.utf8.count), source: source, fromLine: 10)
    }

    @Test func linesTheInterruptedBatchesWroteMayBeCut() throws {
        let directory = try TemporaryDirectory()
        #expect(try refusal(directory, committed) == nil, "nothing past the checkpoint")
        #expect(try refusal(directory, committed + line("a.txt", 10) + line("a.txt", 12_345)) == nil)
        // A write the kill interrupted: the last line cut anywhere, even inside its source's name.
        let last = line("a.txt", 11)
        for cut in [1, 12, 20, last.utf8.count - 1] {
            let text = committed + line("a.txt", 10) + String(decoding: Array(last.utf8).prefix(cut), as: UTF8.self)
            #expect(try refusal(directory, text) == nil, "cut after \(cut) bytes")
        }
        // A source whose name needs escaping matches as the rejects file writes it.
        let odd = "dir/\"odd\" name\u{1}.txt"
        let oddPath = try directory.write("odd.ndjson", line(odd, 3) + line(odd, 7) + line(odd, 10))
        #expect(RejectsResume.refusal(
            path: oddPath, offset: Int64((line(odd, 3) + line(odd, 7)).utf8.count), source: odd, fromLine: 10) == nil)
    }

    @Test func aFileWrittenSinceByAnotherLoadIsNotCut() throws {
        let directory = try TemporaryDirectory()
        // Another source's rejects after the checkpoint (appended by a load of b.txt).
        let other = try #require(try refusal(directory, committed + line("a.txt", 10) + line("b.txt", 4)))
        #expect(other.contains("rejects.ndjson holds, at byte \(committed.utf8.count + line("a.txt", 10).utf8.count)"),
                "\(other)")
        #expect(other.contains("b.txt") && other.contains("--rejects"), "\(other)")
        // The same source, but from before the checkpoint: written by another load of the same file.
        #expect(try refusal(directory, committed + line("a.txt", 9)) != nil)
        // A file started afresh by another load: the old size falls inside one of its lines.
        let rewritten = line("b.txt", 1) + line("b.txt", 2) + line("b.txt", 3) + line("b.txt", 4)
        #expect(try refusal(directory, rewritten) != nil)
        // Text that is no rejects line at all, and a line cut short that is not the start of one.
        #expect(try refusal(directory, committed + "notes the user kept\n") != nil)
        #expect(try refusal(directory, committed + "{\"source\":\"b.t") != nil)
        #expect(try refusal(directory, committed + "{\"source\":\"a.txt\",\"line\":x") != nil)
    }

    @Test func aShorterMissingOrUnusualFileHasNothingToCut() throws {
        let directory = try TemporaryDirectory()
        #expect(try refusal(directory, "") == nil, "moved away and created afresh")
        #expect(try refusal(directory, line("a.txt", 3)) == nil, "shorter than the checkpoint's size")
        #expect(RejectsResume.refusal(path: directory.path("missing.ndjson"), offset: 5, source: "a.txt", fromLine: 1) == nil)
        #expect(RejectsResume.refusal(path: "-", offset: 5, source: "a.txt", fromLine: 1) == nil)
    }
}
