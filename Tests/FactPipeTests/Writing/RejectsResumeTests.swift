import Foundation
import Testing
@testable import FactPipe

/// What a resume does with its rejects file: cut only lines its own interrupted batches wrote.
struct RejectsResumeTests {
    private func line(_ source: String, _ line: Int) -> String {
        RecordDiagnostic(
            location: RecordLocation(source: source, line: line, offset: Int64(line * 10)), reason: .syntax,
            message: "bad \"quoted\" \\ record", record: "bad \(line)"
        ).rejectLine
    }

    /// The committed part: two rejects of `a.txt` before the checkpoint at line 10.
    private var committed: String { line("a.txt", 3) + line("a.txt", 7) }
    private var committedSize: Int64 { Int64(committed.utf8.count) }

    private func verdict(_ directory: TemporaryDirectory, _ text: String) throws -> RejectsResume.Verdict {
        let path = try directory.write("rejects.ndjson", text)
        return RejectsResume.verdict(path: path, offset: committedSize, source: "a.txt", fromLine: 10)
    }

    @Test func linesTheInterruptedBatchesWroteAreCut() throws {
        let directory = try TemporaryDirectory()
        #expect(try verdict(directory, committed) == .cut, "nothing past the checkpoint")
        #expect(try verdict(directory, committed + line("a.txt", 10) + line("a.txt", 12_345)) == .cut)
        // A write the kill interrupted: the last line cut anywhere, even inside its source's name.
        let last = line("a.txt", 11)
        for cut in [1, 12, 20, last.utf8.count - 1] {
            let text = committed + line("a.txt", 10) + String(decoding: Array(last.utf8).prefix(cut), as: UTF8.self)
            #expect(try verdict(directory, text) == .cut, "cut after \(cut) bytes")
        }
        // A source whose name needs escaping matches as the rejects file writes it.
        let odd = "dir/\"odd\" name\u{1}.txt"
        let oddPath = try directory.write("odd.ndjson", line(odd, 3) + line(odd, 7) + line(odd, 10))
        #expect(RejectsResume.verdict(
            path: oddPath, offset: Int64((line(odd, 3) + line(odd, 7)).utf8.count), source: odd, fromLine: 10) == .cut)
    }

    @Test func aFileOtherLoadsWroteSinceIsKept() throws {
        let directory = try TemporaryDirectory()
        let own = line("a.txt", 10)
        // Another source's rejects appended after the interrupted batch's one line.
        let appended = try verdict(directory, committed + own + line("b.txt", 4))
        #expect(appended == .keep(ownLines: 1, otherAt: committedSize + Int64(own.utf8.count), endsInsideLine: false))
        // The same source, but from before the checkpoint: another load of the same file wrote it.
        #expect(try verdict(directory, committed + line("a.txt", 9)) == .keep(
            ownLines: 0, otherAt: committedSize, endsInsideLine: false))
        // A file started afresh by another load: the old size falls inside one of its lines.
        let rewritten = line("b.txt", 1) + line("b.txt", 2) + line("b.txt", 3) + line("b.txt", 4)
        if case .keep(let ownLines, let otherAt, _) = try verdict(directory, rewritten) {
            #expect(ownLines == 0 && otherAt == committedSize)
        } else {
            Issue.record("a rewritten file would be cut")
        }
        // Text that is no rejects line at all, a line cut short that is not the start of one, and a
        // line number that is no number.
        #expect(try verdict(directory, committed + "notes the user kept\n") != .cut)
        #expect(try verdict(directory, committed + "{\"source\":\"b.t") == .keep(
            ownLines: 0, otherAt: committedSize, endsInsideLine: true))
        #expect(try verdict(directory, committed + "{\"source\":\"a.txt\",\"line\":x") != .cut)
    }

    /// A line the kill cut short, then exactly one line of another load appended to it: glued, the two
    /// start as the load's own line and end with a newline. They are kept, since the other load's
    /// reject is in them.
    @Test func aCutShortLineGluedToAnotherLoadsLineIsKept() throws {
        let directory = try TemporaryDirectory()
        let own = line("a.txt", 11)
        let other = line("b.txt", 4)
        for cut in [30, 45, own.utf8.count - 2, own.utf8.count - 1] {
            let torn = String(decoding: Array(own.utf8).prefix(cut), as: UTF8.self)
            let verdict = try verdict(directory, committed + line("a.txt", 10) + torn + other)
            #expect(verdict == .keep(
                ownLines: 1, otherAt: committedSize + Int64(line("a.txt", 10).utf8.count), endsInsideLine: false),
                "cut after \(cut) bytes")
        }
        // Own lines stay whole objects whatever their text holds: brackets and quotes in strings.
        let braces = RecordDiagnostic(
            location: RecordLocation(source: "a.txt", line: 12, offset: 120), reason: .syntax,
            message: "unbalanced }]{[ \\\" here", record: "{\"a\":[1,{\"b\":\"}\"}]"
        ).rejectLine
        #expect(try verdict(directory, committed + braces + line("a.txt", 13)) == .cut)
    }

    @Test func aLineLongerThanTheReaderKeepsIsJudgedByItsStart() throws {
        let directory = try TemporaryDirectory()
        // A line past the longest the reader keeps (64 MiB; 1 KiB here) is kept only in part: it counts as
        // the batch's own by its source and line, whatever follows, so the read stays bounded.
        let filler = String(repeating: "x", count: 4_096)
        func judged(_ text: String) throws -> RejectsResume.Verdict {
            let path = try directory.write("long.ndjson", text)
            return RejectsResume.verdict(
                path: path, offset: committedSize, owners: [.init(source: "a.txt", fromLine: 10)], longestLine: 1_024)
        }
        let ownHead = "{\"source\":\"a.txt\",\"line\":11,\"reason\":\"syntax\",\"record\":\""
        #expect(try judged(committed + line("a.txt", 10) + ownHead + filler + "\"}\n") == .cut)
        #expect(try judged(committed + ownHead + filler + "not JSON at all\n" + line("a.txt", 12)) == .cut)
        // Within the bound, the same line that is no JSON object is not the batch's own.
        #expect(try judged(committed + ownHead + "not JSON at all\n") != .cut)
        // Another source's long line, and a long line of the same source from before the checkpoint, stay.
        let otherHead = "{\"source\":\"b.txt\",\"line\":11,\"reason\":\"syntax\",\"record\":\""
        #expect(try judged(committed + otherHead + filler + "\"}\n") == .keep(
            ownLines: 0, otherAt: committedSize, endsInsideLine: false))
        let own = line("a.txt", 10)
        let earlierHead = "{\"source\":\"a.txt\",\"line\":9,\"reason\":\"syntax\",\"record\":\""
        #expect(try judged(committed + own + earlierHead + filler + "\"}\n") == .keep(
            ownLines: 1, otherAt: committedSize + Int64(own.utf8.count), endsInsideLine: false))
        #expect(RejectsResume.longestRejectsLine == 64 << 20)
    }

    /// An atomic load's rollback cuts the lines of any of its sources, and keeps a file another load
    /// wrote to since, saying so.
    @Test func anAtomicRollBackCutsOnlyItsOwnSourcesLines() throws {
        let directory = try TemporaryDirectory()
        for (foreign, isCut) in [(false, true), (true, false)] {
            let path = try directory.write("atomic.ndjson", committed)
            let rejects = try BufferedFileOutput(path: path, append: true)
            var atomic = AtomicRejects()
            atomic.began("b.txt", fromLine: 1, rejects: rejects)
            try rejects.write(line("b.txt", 2))
            atomic.began("c.txt", fromLine: 1, rejects: rejects)
            try rejects.write(line("c.txt", 5))
            if foreign {
                try rejects.flush()
                let other = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try other.seekToEnd()
                try other.write(contentsOf: Data(line("x.txt", 1).utf8))
                try other.close()
            }
            var notes: [String] = []
            atomic.rollBack(rejects, notes: &notes)
            try rejects.close()
            let after = try directory.contents("atomic.ndjson")
            if isCut {
                #expect(after == Array(committed.utf8) && notes.isEmpty)
            } else {
                #expect(after.count > committed.utf8.count && notes.count == 1)
            }
        }
    }

    /// A batch that rolls back cuts its rejects, unless another process appended to the file meanwhile
    /// (two loads sharing one rejects file): then the file is kept whole, the batch's unwritten lines are
    /// dropped, and the summary says so.
    @Test func aRollBackKeepsLinesAnotherProcessAppended() throws {
        let directory = try TemporaryDirectory()
        for foreign in [false, true] {
            let path = try directory.write("rollback.ndjson", committed)
            let rejects = try BufferedFileOutput(path: path, append: true)
            try rejects.write(line("a.txt", 10))
            try rejects.flush()
            if foreign {
                let other = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try other.seekToEnd()
                try other.write(contentsOf: Data(line("x.txt", 1).utf8))
                try other.close()
            }
            try rejects.write(line("a.txt", 11))
            var notes: [String] = []
            RejectsResume.rollBack(rejects, to: committedSize, owners: [.init(source: "a.txt", fromLine: 10)],
                                   notes: &notes)
            try rejects.close()
            let after = String(decoding: try directory.contents("rollback.ndjson"), as: UTF8.self)
            if foreign {
                #expect(after == committed + line("a.txt", 10) + line("x.txt", 1))
                #expect(notes.count == 1 && notes[0].contains("rolled back"))
            } else {
                #expect(after == committed && notes.isEmpty)
            }
        }
    }

    /// A rejects file that cannot be read back (here its name now loops through symlinks; for another user,
    /// mode 200) is cut at a rollback unchecked, as the batch's own: the open file loses the rolled-back
    /// lines, and no note claims that other loads wrote it.
    @Test func aRollBackOfAFileItCannotReadCutsItUnchecked() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("rejects.ndjson", committed)
        let rejects = try BufferedFileOutput(path: path, append: true)
        try rejects.write(line("a.txt", 10))
        try rejects.flush()
        let moved = directory.path("moved.ndjson")
        try FileManager.default.moveItem(atPath: path, toPath: moved)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "rejects.ndjson")
        if case .unreadable = RejectsResume.verdict(path: path, offset: committedSize, source: "a.txt", fromLine: 10) {
        } else {
            Issue.record("a name looping through symlinks reads as unreadable")
        }
        var notes: [String] = []
        RejectsResume.rollBack(rejects, to: committedSize, owners: [.init(source: "a.txt", fromLine: 10)], notes: &notes)
        try rejects.close()
        #expect(try directory.contents("moved.ndjson") == Array(committed.utf8))
        #expect(notes.isEmpty)
    }

    @Test func aShorterMissingOrUnusualFileHasNothingToCut() throws {
        let directory = try TemporaryDirectory()
        #expect(try verdict(directory, "") == .cut, "moved away and created afresh")
        #expect(try verdict(directory, line("a.txt", 3)) == .cut, "shorter than the checkpoint's size")
        #expect(RejectsResume.verdict(path: directory.path("none.ndjson"), offset: 5, source: "a.txt", fromLine: 1) == .cut)
        #expect(RejectsResume.verdict(path: "-", offset: 5, source: "a.txt", fromLine: 1) == .cut)
    }

    /// Kept, a file that ends inside another load's line gets a newline first: the resumed rejects start
    /// lines of their own. Cut, the interrupted lines are gone.
    @Test func resumingCutsOrKeepsTheFileAndStartsALineOfItsOwn() throws {
        let directory = try TemporaryDirectory()
        var counts = LoadLedger.Counts()
        counts.rejectsOffset = committedSize
        counts.checkpointLine = 10

        let keptPath = try directory.write("kept.ndjson", committed + "{\"source\":\"b.t")
        let kept = try BufferedFileOutput(path: keptPath, append: true)
        var notes: [String] = []
        let keptResume = try RejectsResume.resume(
            kept, recordedPath: keptPath, counts: counts, source: "a.txt", notes: &notes)
        #expect(keptResume.offset == kept.bytesWritten && !keptResume.namesAnotherFile)
        try kept.write(line("a.txt", 10))
        try kept.close()
        #expect(try directory.contents("kept.ndjson") == Array((committed + "{\"source\":\"b.t\n" + line("a.txt", 10)).utf8))
        #expect(notes.count == 1)

        let cutPath = try directory.write("cut.ndjson", committed + line("a.txt", 10) + "{\"source\":\"a.t")
        let cut = try BufferedFileOutput(path: cutPath, append: true)
        notes = []
        let cutResume = try RejectsResume.resume(cut, recordedPath: cutPath, counts: counts, source: "a.txt", notes: &notes)
        #expect(cut.bytesWritten == committedSize && cutResume.offset == committedSize)
        try cut.write(line("a.txt", 10))
        try cut.close()
        #expect(try directory.contents("cut.ndjson") == Array((committed + line("a.txt", 10)).utf8))
        #expect(notes.isEmpty)

        // Another file than the row's, or none: nothing is read or cut; the row is to name this run's.
        let other = try BufferedFileOutput(path: directory.path("other.ndjson"), append: true)
        let moved = try RejectsResume.resume(other, recordedPath: cutPath, counts: counts, source: "a.txt", notes: &notes)
        #expect(moved.offset == 0 && moved.namesAnotherFile)
        let none = try RejectsResume.resume(nil, recordedPath: cutPath, counts: counts, source: "a.txt", notes: &notes)
        #expect(none.offset == 0 && none.namesAnotherFile)
        #expect(try RejectsResume.resume(nil, recordedPath: nil, counts: counts, source: "a.txt", notes: &notes)
            .namesAnotherFile == false)
        #expect(try directory.contents("cut.ndjson") == Array((committed + line("a.txt", 10)).utf8))
    }

    /// A kept file says how many of the interrupted batch's lines now appear twice.
    @Test func theNoteNamesTheFileAndTheRepeatedLines() {
        let note = RejectsResume.note(
            .keep(ownLines: 2, otherAt: 400, endsInsideLine: false), path: "bad.ndjson", source: "a.txt")
        #expect(note == "a.txt: the rejects file bad.ndjson holds lines of other loads past this load's last "
            + "checkpoint (from byte 400), so nothing was cut and the resumed rejects follow them; the 2 lines the "
            + "interrupted batch had written before them appear twice")
        #expect(RejectsResume.note(.cut, path: "bad.ndjson", source: "a.txt") == nil)
    }
}
