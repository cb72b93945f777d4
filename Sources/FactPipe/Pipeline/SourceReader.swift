#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reader stage: opens each input in turn, recognises its format and cuts it into chunks.
///
/// Hands on, numbered in input order: `sourceStart`, the source's chunks, `sourceEnd` — or
/// `readFailed` when an input cannot be opened or read (a truncated compressed stream, say).
struct SourceReader {
    let options: ImportOptions
    let plans: [SourcePlan]
    let progress: ImportProgress

    func run(into queue: BoundedQueue<Sequenced<PipelineItem>>) {
        var sequence = 0
        func send(_ item: PipelineItem) -> Bool {
            defer { sequence += 1 }
            return queue.push(Sequenced(sequence: sequence, value: item))
        }
        var consumedBefore: Int64 = 0
        for plan in plans {
            let path = plan.path
            var resumeAt: (offset: Int64, line: Int)?
            var resumeLoadID: Int64?
            switch plan.action {
            case .skip: continue
            case .load: break
            case .resume(let loadID, let offset, let line, _):
                resumeAt = (offset, line)
                resumeLoadID = loadID
            }
            do {
                // Opened once: a pipe, a FIFO or `<(…)` cannot be read again, so every decision about the
                // input is taken from this one stream's look-ahead.
                let file = try FileByteSource(
                    path: path, isCancelled: { [progress] in progress.isCancelled.load(ordering: .relaxed) })
                if let planned = plan.stamp, file.stamp != planned {
                    // Renamed over or rewritten since its hash was taken: the ledger would record this file
                    // under that one's hash, and skip that content as loaded from then on.
                    throw ReadError(
                        source: path, kind: .cannotOpen,
                        message: "it changed after its SHA-256 was taken when the load began (another file was "
                            + "renamed over it, or it was rewritten); nothing of it was loaded: load it again")
                }
                if try isSQLiteDatabase(file) {
                    if path == "-", file.fileSize != nil, let name = Self.standardInputWithUnfoldedLog() {
                        throw ReadError(
                            source: path, kind: .cannotOpen,
                            message: "standard input is \(name), a database with a -wal beside it, which may hold "
                                + "commits not yet in the file itself (a program has it open, or was killed): a copy of "
                                + "the file alone would miss them; load it by its name (factpipe import \(name) …), "
                                + "which reads its log too")
                    }
                    // SQLite reads by position: a regular file through its path, anything else from a copy.
                    let copy = file.fileSize == nil || path == "-" ? try TemporaryCopy(copying: file) : nil
                    guard try readDatabase(path, file: copy?.path ?? path, compression: InputCompression.none, plan: plan,
                                           resumeAt: resumeAt, resumeLoadID: resumeLoadID, send: send) else { return }
                    continue
                }
                let reader = try InputReader(source: file, limits: options.limits)
                // A regular file was hashed before the load; hash only what could not be read twice.
                if plan.sha256 != nil { reader.stopHashing() }
                if reader.compression != .none, options.format == .auto || options.format == .sqlite,
                   try reader.peek(InputFormat.sqliteMagic.count) == InputFormat.sqliteMagic {
                    // A compressed database (a backup, say): read it from a decompressed temporary copy.
                    let copy = try TemporaryCopy(decoding: reader)
                    guard try readDatabase(path, file: copy.path, compression: reader.compression, plan: plan,
                                           resumeAt: resumeAt, resumeLoadID: resumeLoadID, send: send) else { return }
                    continue
                }
                if options.format == .sqlite {
                    throw ReadError(
                        source: path, kind: .unsupportedFormat,
                        message: "given as sqlite, but it is \(reader.compression.rawValue)-compressed and holds no SQLite "
                            + "database")
                }
                let format = try plan.resumeFormat ?? resolveFormat(reader)
                var context = SourceContext(path: path, format: format, csvHeader: nil, fieldMapping: options.fieldMapping)
                context.keepsRepeatedNames = options.keepsRepeatedNames
                let framing: RecordFraming
                switch format {
                case .csv: framing = .csv(delimiter: 0x2C)
                case .tsv: framing = .csv(delimiter: 0x09)
                default: framing = .lines
                }
                var descriptor = SourceDescriptor(
                    path: path, format: format, compression: reader.compression, size: reader.sourceSize,
                    sha256: plan.sha256, resumeLoadID: resumeLoadID)
                if let resumeAt { (descriptor.startOffset, descriptor.startLine) = resumeAt }
                descriptor.rejectedBefore = plan.rejectedBefore
                guard send(.sourceStart(descriptor)) else { return }
                var needsHeader = framing != .lines
                // A checkpoint still at the start (no batch was committed: an atomic load stopped, a load killed
                // before its first commit) reads the input as a first load does, its header row included: read
                // as a resume, the header became a record (`predicate(subject, object).` stored as a fact).
                if let resumeAt, resumeAt.offset > Int64(reader.byteOrderMarkLength) {
                    if needsHeader {
                        context.csvHeader = try peekedHeader(reader, framing: framing, path: path)
                        needsHeader = false
                    }
                    try reader.skip(toOffset: resumeAt.offset, line: resumeAt.line)
                }
                var foundRecord = false
                while var chunk = try reader.nextChunk(
                    framing: framing, targetBytes: ImportPipeline.chunkBytes, maxRecords: ImportPipeline.chunkRecords) {
                    if needsHeader {
                        needsHeader = false
                        guard let headerRecord = chunk.records.first else { continue }
                        context.csvHeader = try header(of: headerRecord, in: chunk, framing: framing, path: path)
                        chunk.records.removeFirst()
                    }
                    if !foundRecord {
                        foundRecord = chunk.records.contains { holdsRecord($0, in: chunk, format: format) }
                    }
                    progress.inputBytes.store(consumedBefore + reader.rawBytesRead, ordering: .relaxed)
                    guard send(.chunk(chunk, context)) else { return }
                }
                consumedBefore += reader.rawBytesRead
                progress.inputBytes.store(consumedBefore, ordering: .relaxed)
                let bytes = reader.decodedOffset - Int64(reader.byteOrderMarkLength)
                // A CSV snapshot of no facts (an export of an empty database, restored or imported) is its
                // header row alone: empty, not misread. factpipe has written that header since its first
                // snapshot, so a restore needs no word from the manifest.
                let isEmptySnapshot = context.csvHeader?.columns == CSVHeader.snapshotColumns
                if resumeAt == nil, !foundRecord, bytes > 0, framing == .lines || !isEmptySnapshot {
                    // Bytes but not one record: a format misread, not an empty input. Not done, so not skipped later.
                    let what = framing == .lines ? "only blank lines and comments" : "nothing after the header row"
                    _ = send(.readFailed(ReadError(
                        source: path, kind: .noRecords,
                        message: "no record found in its \(bytes) bytes (\(what)); nothing was loaded")))
                    return
                }
                if let largest = reader.largestOversizedRecord, largest.bytes * 2 > bytes {
                    // One refusal that took most of the input hides whatever was in it: not done.
                    _ = send(.readFailed(ReadError(
                        source: path, kind: .recordTooLong,
                        message: "line \(largest.line): one record of \(largest.bytes) bytes, longer than "
                            + "--max-record-bytes \(options.limits.maxRecordBytes), took most of the input's \(bytes) "
                            + "bytes; check its format and line ends, or raise --max-record-bytes")))
                    return
                }
                if let planned = plan.stamp, file.stamp != planned {
                    // Written to while it was read: what was read is not the content whose hash the row records.
                    throw ReadError(
                        source: path, kind: .io,
                        message: "it changed while it was read (after its SHA-256 was taken); its load is not done: "
                            + "undo it (factpipe loads shows its id) and load the file again once nothing writes it")
                }
                if let line = reader.unterminatedLastLine, framing != .lines, reader.compression == .none {
                    // A pipe that closed mid-record, or a file still being written (a drop folder's), cannot be told
                    // from a short input, and a CSV value cut short (0.75 to 0.7) is a well-formed record: say
                    // where the input ended. A later load of the whole file finds that statement stored, and
                    // under `ignore` the cut value stayed.
                    let remedy = reader.sourceSize == nil
                        ? "if its producer stopped mid-record, its last value may have loaded cut short; check the "
                            + "producer's exit status (set -o pipefail)"
                        : "if the file was still being written, its last value may have loaded cut short (a producer "
                            + "that writes under another name and renames the file when done is never read half-written)"
                    progress.readerNotes.withLock {
                        $0.append("\(path): its last record (line \(line)) has no line end: " + remedy)
                    }
                }
                guard send(.sourceEnd(sha256: reader.finishDigest())) else { return }
            } catch let error as ReadError {
                _ = send(.readFailed(error))
                return
            } catch let error as FieldError {
                _ = send(.readFailed(ReadError(source: path, kind: .invalidHeader, message: error.message)))
                return
            } catch let error as StoreError {
                // Its description names the database file again: say the input's name once.
                _ = send(.readFailed(ReadError(source: path, kind: .io, message: error.reason, underlying: error)))
                return
            } catch {
                _ = send(.readFailed(ReadError(source: path, kind: .io, message: "\(error)", underlying: error)))
                return
            }
        }
        queue.close()
    }

    /// True when `file` is to be read as a SQLite database: `--format sqlite`, or its first bytes say so
    /// (looked at without consuming them).
    private func isSQLiteDatabase(_ file: FileByteSource) throws(ReadError) -> Bool {
        guard options.format == .auto || options.format == .sqlite else { return false }
        if try file.lookahead(InputFormat.sqliteMagic.count) == InputFormat.sqliteMagic { return true }
        // Given as sqlite, a file that is not one as it is may be a compressed one (`kb.db.zst`), which the
        // reader decompresses; anything else is read as one, for SQLite to refuse.
        guard options.format == .sqlite else { return false }
        return InputCompression.detect(try file.lookahead(4)) == InputCompression.none
    }

    /// The name of the regular file standard input is (`- < kb.sqlite`), when it is a database in WAL mode
    /// whose `-wal` beside that name holds frames: the commits in them are not in the file, and the copy a load
    /// reads from standard input is of the file alone (1,000 of 1,500 facts loaded, exit 0). Nil otherwise,
    /// and for a pipe, which has no name to look beside.
    static func standardInputWithUnfoldedLog() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/0", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let name = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var input = stat(), named = stat(), log = stat()
        guard name.hasPrefix("/"), fstat(0, &input) == 0, stat(name, &named) == 0,
              input.st_dev == named.st_dev, input.st_ino == named.st_ino,
              ReadOnlyDatabase.isWALDatabase(name),
              stat(DatabaseFile.walPath(name), &log) == 0, log.st_size > 0
        else { return nil }
        return name
    }

    /// Streams the `facts` table of a SQLite database; false when the load was cancelled.
    private func readDatabase(
        _ path: String, file: String, compression: InputCompression, plan: SourcePlan,
        resumeAt: (offset: Int64, line: Int)?, resumeLoadID: Int64?,
        send: (PipelineItem) -> Bool
    ) throws -> Bool {
        let source = try SQLiteFactSource(path: file, name: path, maxRecordBytes: options.limits.maxRecordBytes)
        var size: Int64?
        var info = stat()
        if stat(path, &info) == 0 { size = Int64(info.st_size) }
        var descriptor = SourceDescriptor(path: path, format: .sqlite, compression: compression, size: size,
                                          sha256: plan.sha256, resumeLoadID: resumeLoadID)
        if let resumeAt { (descriptor.startOffset, descriptor.startLine) = resumeAt }
        guard send(.sourceStart(descriptor)) else { return false }
        if let resumeAt { try source.skip(toRowid: resumeAt.offset, line: resumeAt.line) }
        let context = SourceContext(path: path, format: .sqlite, csvHeader: nil, fieldMapping: options.fieldMapping)
        let changed = ReadError(
            source: path, kind: .changedWhileRead,
            message: "another program wrote the database while it was read (it has no -wal file, so it is read "
                + "without locks): the rows read may mix two states of it; load it again when nothing writes it")
        while let chunk = try source.nextChunk(targetBytes: ImportPipeline.chunkBytes) {
            // Before the chunk goes on: rows read once the file changed may come from pages torn between states.
            if source.changedSinceOpened { throw changed }
            guard send(.chunk(chunk, context)) else { return false }
        }
        if source.changedSinceOpened { throw changed }
        if source.schemaChanged {
            throw ReadError(
                source: path, kind: .changedWhileRead,
                message: "its schema changed while it was read (a VACUUM, which renumbers rows, an ALTER TABLE, a new "
                    + "table or index, an ANALYZE): rows may have moved behind the reading or changed their meaning; "
                    + "load it again when nothing changes it")
        }
        progress.inputBytes.add(size ?? 0, ordering: .relaxed)
        return send(.sourceEnd(sha256: nil))
    }

    /// The header of a CSV input read from its first bytes, before skipping to a resume point.
    private func peekedHeader(_ reader: InputReader, framing: RecordFraming, path: String) throws -> CSVHeader {
        try reader.beginRecords()
        let prefix = try reader.peek(64 * 1024)
        guard let end = prefix.firstIndex(of: 0x0A) ?? (prefix.count < 64 * 1024 ? prefix.count : nil) else {
            throw FieldError(reason: .invalidCSV, message: "the header row is longer than 64 KiB")
        }
        var line = Array(prefix[..<end])
        if line.last == 0x0D { line.removeLast() }
        let chunk = RecordChunk(sequence: 0, source: path, bytes: line,
                                records: [RawRecord(range: 0..<line.count, line: 1, offset: 0)], endOffset: 0, endLine: 1)
        return try header(of: chunk.records[0], in: chunk, framing: framing, path: path)
    }

    private func resolveFormat(_ reader: InputReader) throws(ReadError) -> InputFormat {
        if options.format != .auto { return options.format }
        let prefix = try reader.peekFirstLine(limit: 64 * 1024)
        if prefix.starts(with: InputFormat.sqliteMagic) {
            throw ReadError(source: reader.source, kind: .unsupportedFormat,
                            message: "is a compressed SQLite database; decompress it (or restore it) first")
        }
        // A JSON array of objects (`json.dump(list)`, pandas `orient="records"`, `sqlite3 -json`): read as text,
        // every line was refused for the grammar's reason and the load `done`.
        // `[` and what follows it on the first line: `{`, `]` or nothing (`[2024-05-01] …` is a log line).
        let opening = Array(prefix.lazy.filter { !StatementByte.isWhitespace($0) }.prefix(2))
        if opening.first == UInt8(ascii: "["),
           opening.count == 1 || opening[1] == UInt8(ascii: "{") || opening[1] == UInt8(ascii: "]") {
            throw ReadError(
                source: reader.source, kind: .unsupportedFormat,
                message: "is a JSON array, which factpipe does not read as one; give it one object a line (NDJSON): "
                    + "`jq -c '.[]' FILE | factpipe import - …`")
        }
        // The first line decides; the lines after it (up to 64 KiB of a file, what a pipe already holds:
        // never waited for) may outvote a first line that is not a record of the file's format (see `detect`).
        return InputFormat.detect(from: try reader.readWithoutWaiting(limit: 64 * 1024), mapping: options.fieldMapping)
    }

    private func header(of record: RawRecord, in chunk: RecordChunk, framing: RecordFraming, path: String) throws -> CSVHeader {
        let delimiter: UInt8
        if case .csv(let d) = framing { delimiter = d } else { delimiter = 0x2C }
        if record.isOversized {
            throw FieldError(reason: .invalidCSV, message: "line \(record.line): the header row is too long")
        }
        do {
            let names = try chunk.bytes[record.range].withUnsafeBytes { raw throws(CSVFieldError) in
                try CSVFieldSplitter.fields(raw, delimiter: delimiter)
            }
            return try CSVHeader(names: names, mapping: options.fieldMapping)
        } catch let error as FieldError {
            throw FieldError(reason: error.reason, message: "line \(record.line): \(error.message)")
        } catch {
            throw FieldError(reason: .invalidCSV, message: "line \(record.line): the header row: \(error)")
        }
    }

    /// True when `record` is one a parser reads, not a blank line or (in text) a `#` comment.
    private func holdsRecord(_ record: RawRecord, in chunk: RecordChunk, format: InputFormat) -> Bool {
        if record.isOversized { return true }
        for byte in chunk.bytes[record.range] where byte != 0x20 && byte != 0x09 && byte != 0x0D {
            return format != .text || byte != UInt8(ascii: "#")
        }
        return false
    }
}
