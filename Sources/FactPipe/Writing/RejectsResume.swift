#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a resumed load does with its rejects file: cut it back to the size its last checkpoint
/// recorded, or leave it as it is.
///
/// Lines past that size were written by a batch that never committed, and the resume cuts them, since
/// it writes them again. But other loads may have written the same path since: an earlier input of the
/// same run or pipeline appending its rejects, or another load starting the file afresh. Cut at the old
/// size, the file would lose their rejects. So the file is cut only when every line past the recorded
/// size is one the interrupted batches could have written — one whole JSON object, a reject of the same
/// source from the checkpoint's line on (the last line may be cut short by the kill). Otherwise nothing
/// is cut and the resume's rejects go on at the end: the only cost is that lines the interrupted batch
/// had written before the other loads' appear twice, and the load's summary says how many.
enum RejectsResume {
    enum Verdict: Equatable {
        /// Every line past the recorded size is the interrupted batches' own (or there is none): cut.
        case cut
        /// Lines of other loads (or text that is no rejects line) follow the recorded size: keep the file.
        /// `ownLines` lines of the interrupted batches come first (the resume writes them again); the
        /// first other line starts at byte `otherAt`; `endsInsideLine` when the file's last line has no
        /// newline (the resume starts a line of its own).
        case keep(ownLines: Int, otherAt: Int64, endsInsideLine: Bool)
        /// The file exists but could not be read: keep it, for the reason given.
        case unreadable(String)
    }

    /// What to do with the rejects file at `path` for a resume of `source` from line `fromLine` whose
    /// checkpoint recorded the size `offset`. A file shorter than `offset`, missing, or not a regular file
    /// has nothing to cut (`cut` leaves it as it is).
    static func verdict(path: String, offset: Int64, source: String, fromLine: Int) -> Verdict {
        verdict(path: path, offset: offset, owners: [Owner(source: source, fromLine: fromLine)])
    }

    /// A source whose rejects from line `fromLine` on a load wrote.
    struct Owner {
        var source: String
        var fromLine: Int

        /// How its rejects lines start: `{"source":…,"line":`.
        fileprivate var expected: [UInt8] {
            var expected: [UInt8] = Array("{\"source\":".utf8)
            JSONText.appendQuoted(source, to: &expected)
            expected.append(contentsOf: ",\"line\":".utf8)
            return expected
        }
    }

    /// As `verdict(path:offset:source:fromLine:)`, for a load of several sources (an atomic one): a line
    /// past `offset` is the load's own when it is one of any of `owners`. A line longer than `longestLine`
    /// bytes is judged by its start alone.
    static func verdict(
        path: String, offset: Int64, owners: [Owner], longestLine: Int = longestRejectsLine
    ) -> Verdict {
        guard path != "-" else { return .cut }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            return errno == ENOENT ? .cut : unreadable()
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return unreadable() }
        guard (status.st_mode & S_IFMT) == S_IFREG, Int64(status.st_size) > offset else { return .cut }

        let expected = owners.map { ($0.expected, $0.fromLine) }
        func isOwn(_ bytes: [UInt8], complete: Bool) -> Bool {
            expected.contains { Self.isOwn(bytes, complete: complete, expected: $0.0, fromLine: $0.1) }
        }
        var lines = LineReader(longest: longestLine)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var position = offset
        var ownLines = 0
        var otherAt: Int64?
        reading: while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 {
                if errno == EINTR { continue }
                return unreadable()
            }
            if count == 0 { break }
            for byte in chunk[..<count] {
                guard let line = lines.take(byte) else { continue }
                guard line.isOneObject, isOwn(line.bytes, complete: true) else {
                    otherAt = offset + line.start
                    break reading
                }
                ownLines += 1
            }
            position += Int64(count)
        }
        if otherAt == nil, let last = lines.unfinished,
           !isOwn(last.bytes, complete: false) {
            otherAt = offset + last.start
        }
        guard let otherAt else { return .cut }
        var lastByte = UInt8(ascii: "\n")
        guard pread(descriptor, &lastByte, 1, off_t(status.st_size) - 1) == 1 else { return unreadable() }
        return .keep(ownLines: ownLines, otherAt: otherAt, endsInsideLine: lastByte != UInt8(ascii: "\n"))
    }

    /// Readies the rejects file of a resume of `source`, whose row recorded `recordedPath` and the checkpoint
    /// `counts`. When this run writes the same file (`rejects`, opened for appending), it is cut back to
    /// the recorded size, or, when other loads have written past it, left as it is (starting a line of its
    /// own if it ends inside one) and `notes` says so. Returns the size to record as the row's rejects
    /// offset, and whether the row must name this run's file instead (another one, or none).
    /// - Throws: `FileOutputError` when the file cannot be cut or written.
    ///
    /// `recordedSource` is the path the interrupted load was given, when this run spells it otherwise
    /// (from another folder, say): its lines name either. The recorded rejects path is the same file when
    /// it is the same text or, from this folder, names the same file.
    static func resume(
        _ rejects: BufferedFileOutput?, recordedPath: String?, counts: LoadLedger.Counts, source: String,
        recordedSource: String? = nil, notes: inout [String]
    ) throws -> (offset: Int64, namesAnotherFile: Bool) {
        let sameFile = rejects.map { rejects in
            recordedPath.map { PathText.same(rejects.path, $0) } == true || recordedPath.map { AtomicFileOutput.isSameFile(rejects.path, $0) } == true
        } ?? (recordedPath == nil)
        let sources = [source] + (recordedSource.map { $0 == source ? [] : [$0] } ?? [])
        guard let rejects, sameFile else {
            // The records past the checkpoint are written again into this run's file (a pipeline's `{date}`
            // names another one the next night): say where the interrupted batch's lines still are.
            if let recordedPath, !sameFile {
                noteLinesPastTheCheckpoint(
                    recordedPath, offset: counts.rejectsOffset,
                    owners: sources.map { Owner(source: $0, fromLine: counts.checkpointLine) }, source: source,
                    writingTo: rejects?.path, notes: &notes)
            }
            return (rejects?.bytesWritten ?? 0, !sameFile)
        }
        noteLinesGoneBeforeTheCheckpoint(rejects.path, offset: counts.rejectsOffset, source: source, notes: &notes)
        let verdict = verdict(
            path: rejects.path, offset: counts.rejectsOffset,
            owners: sources.map { Owner(source: $0, fromLine: counts.checkpointLine) })
        if verdict == .cut {
            try rejects.truncate(to: counts.rejectsOffset)
        } else {
            if case .keep(_, _, endsInsideLine: true) = verdict {
                try rejects.write("\n")
                try rejects.flush()
            }
            if let note = note(verdict, path: rejects.path, source: source) { notes.append(note) }
        }
        return (rejects.bytesWritten, false)
    }

    /// Says in `notes` when the regular file at `path` that the interrupted load wrote `offset` bytes to is
    /// shorter now (removed, or started afresh by another load): the lines of the records it refused before
    /// the checkpoint are not in it, though the summary counts them.
    private static func noteLinesGoneBeforeTheCheckpoint(
        _ path: String, offset: Int64, source: String, notes: inout [String]
    ) {
        var status = stat()
        guard offset > 0, path != "-", stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
              Int64(status.st_size) < offset
        else { return }
        notes.append("\(source): the rejects file \(path) holds \(status.st_size) bytes, fewer than the \(offset) the "
            + "interrupted load had written to it (it was removed or written afresh since): the lines of the records "
            + "refused before this resume are not in it")
    }

    /// Says in `notes` when the regular file at `path`, which this run does not write, holds lines of `owners`
    /// past `offset`: records this resume writes again. It is not cut: the ledger keeps its name only, and
    /// the file of that name now (from another folder, or rewritten since by another load) may be another's.
    private static func noteLinesPastTheCheckpoint(
        _ path: String, offset: Int64, owners: [Owner], source: String, writingTo: String?, notes: inout [String]
    ) {
        var status = stat()
        guard path != "-", stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > offset,
              verdict(path: path, offset: offset, owners: owners) == .cut
        else { return }
        notes.append("\(source): the rejects file \(path) of the interrupted load holds lines past its last checkpoint "
            + "(from byte \(offset)), whose records this resume writes again" + (writingTo.map { " to \($0)" } ?? "")
            + "; if that file is still the load's, `truncate -s \(offset) \(path)` removes them")
    }

    /// What the load's summary says of a kept file.
    static func note(_ verdict: Verdict, path: String, source: String) -> String? {
        switch verdict {
        case .cut: return nil
        case .unreadable(let reason):
            return "\(source): the rejects file \(path) was not cut back to this load's last checkpoint: it cannot be "
                + "read (\(reason)); the resumed rejects follow what it holds"
        case .keep(let ownLines, let otherAt, _):
            var text = "\(source): the rejects file \(path) holds lines of other loads past this load's last "
                + "checkpoint (from byte \(otherAt)), so nothing was cut and the resumed rejects follow them"
            if ownLines > 0 {
                text += "; the \(ownLines == 1 ? "line" : "\(ownLines) lines") the interrupted batch had written "
                    + "before them \(ownLines == 1 ? "appears" : "appear") twice"
            }
            return text
        }
    }

    /// True when `head` (a line, or its first bytes) starts as a rejects line of the expected source from
    /// line `fromLine` on; a line the file ends inside (`complete` false) may also be any start of one.
    private static func isOwn(_ head: [UInt8], complete: Bool, expected: [UInt8], fromLine: Int) -> Bool {
        guard head.starts(with: expected) else {
            return !complete && expected.starts(with: head)
        }
        let digits = head[expected.count...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, digits.count <= 18 else { return false }
        let afterDigits = expected.count + digits.count
        if afterDigits == head.count { return !complete }
        guard head[afterDigits] == UInt8(ascii: ",") else { return false }
        let line = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return line >= fromLine
    }

    private static func unreadable() -> Verdict {
        .unreadable(String(cString: strerror(errno)))
    }
}

extension RejectsResume {
    /// A rejects line holds one record (at most `--max-record-bytes`, 1 MiB by default) escaped, and
    /// its bytes in base64 when they are no UTF-8: of a longer line only the start is kept.
    static let longestRejectsLine = 64 << 20

    /// After a rollback, cuts `rejects` back to `size` (its size at the last commit) when every line past
    /// it is one of `owners`' — the rolled-back batch's. When other loads wrote to the file since, it is
    /// kept (what was not yet written is dropped) and `notes` says that the rolled-back rejects stay.
    static func rollBack(_ rejects: BufferedFileOutput?, to size: Int64, owners: [Owner], notes: inout [String]) {
        guard let rejects else { return }
        switch verdict(path: rejects.path, offset: size, owners: owners) {
        case .cut, .unreadable:
            // A file this process may write but not read (mode 200) is cut as the batch's own, unchecked.
            try? rejects.truncate(to: size)
        case .keep:
            rejects.discardUnflushed()
            notes.append(
                "the rejects file \(rejects.path) was not cut back: other loads wrote to it since, so the rejects of "
                    + "what was rolled back stay in it (a resume writes them again)")
        }
    }
}

/// The rejects an atomic load writes, so that a failure can take them back with its facts.
///
/// An atomic load that fails keeps nothing; its rejects go too, as a rolled-back batch's do, and the
/// summary's samples still say what was refused. A resume starts such a load again from its first
/// line, so rejects left in the file would appear twice. When other loads wrote to the file since the
/// load began, nothing is cut and the summary says so. The failed load's rows name no rejects file,
/// so a resume (which may write its earlier sources' rejects before a later source's) cuts nothing.
struct AtomicRejects {
    /// The rejects file's size when the first source began.
    private var start: Int64?
    private var owners: [RejectsResume.Owner] = []

    /// Notes that `source` began, writing its rejects from line `fromLine` on, to `rejects` as it is now.
    mutating func began(_ source: String, fromLine: Int, rejects: BufferedFileOutput?) {
        if start == nil { start = rejects?.bytesWritten }
        owners.append(RejectsResume.Owner(source: source, fromLine: fromLine))
    }

    /// Cuts `rejects` back to its size when the load began, unless other loads wrote to it since
    /// (`RejectsResume.rollBack`).
    func rollBack(_ rejects: BufferedFileOutput?, notes: inout [String]) {
        guard let start else { return }
        RejectsResume.rollBack(rejects, to: start, owners: owners, notes: &notes)
    }
}

/// Cuts bytes into lines, keeping each (up to `longest` bytes) and where it starts.
private struct LineReader {
    struct Line {
        var start: Int64
        var bytes: [UInt8] = []
        /// Longer than a rejects line can be: its bytes are only its start.
        var isTooLong = false

        /// True when the line is one whole JSON object. A rejects line that a kill cut short, with exactly
        /// one line of another load appended to it, starts as the load's own and ends with a newline: it is
        /// not one object, and the other load's reject is in it. A line too long to keep is judged by its
        /// start alone.
        var isOneObject: Bool {
            guard !isTooLong else { return true }
            return bytes.withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer)
                do {
                    try scanner.scanObject { _, _ in }
                    return true
                } catch {
                    return false
                }
            }
        }
    }

    /// Of a longer line only the first `longest` bytes are kept.
    let longest: Int
    private var current = Line(start: 0)
    private var consumed: Int64 = 0

    init(longest: Int) {
        self.longest = longest
    }

    /// Takes one byte; returns the line it ends (without its newline), if it is one.
    mutating func take(_ byte: UInt8) -> Line? {
        consumed += 1
        if byte == UInt8(ascii: "\n") {
            let line = current
            current = Line(start: consumed)
            return line
        }
        if current.bytes.count < longest {
            current.bytes.append(byte)
        } else {
            current.isTooLong = true
        }
        return nil
    }

    /// The line the bytes ended inside, if they did not end with a newline.
    var unfinished: Line? {
        consumed > current.start ? current : nil
    }
}
