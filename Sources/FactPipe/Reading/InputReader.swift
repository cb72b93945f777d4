#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads one input (plain, gzip or zstd, told apart by magic bytes) and cuts its decoded bytes into chunks
/// of complete records, streaming in 256 KiB blocks with memory bounded by the chunk size plus the record limit.
///
/// Offsets count bytes of the decoded stream including a leading UTF-8 byte-order mark, which is skipped:
/// with a BOM the first record is at offset 3. A record longer than `limits.maxRecordBytes` is never held
/// whole: only its first 1024 bytes are kept and it is marked `isOversized`, so the decoded-bytes buffer stays
/// within two read blocks of `max(maxRecordBytes, 1024)`. Use an instance from one thread; after it throws,
/// discard it.
public final class InputReader {
    /// Bytes requested from the decoded stream per read.
    static let blockSize = 256 * 1024
    /// Bytes kept from the start of an oversized record.
    public static let oversizedPrefixBytes = 1024

    private static let lineFeed: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == lineFeed || byte == carriageReturn
    }

    /// The input's name: the path as given, or `-` for standard input.
    public let source: String
    /// The compression recognised from the input's first bytes.
    public let compression: InputCompression
    /// The limits applied to records (only `maxRecordBytes` matters here).
    public let limits: FactLimits
    /// Length of the UTF-8 byte-order mark skipped at the start: 3 or 0.
    public private(set) var byteOrderMarkLength = 0

    private let file: FileByteSource
    private let decoded: any ByteSource
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unconsumed decoded bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    /// Decoded offset of `buffer[0]`.
    private var bufferOffset: Int64 = 0
    /// Line number at `start`.
    private var line = 1
    private var reachedEnd = false
    private var nextSequence = 0
    /// How lines end; nil until records are read, so raw reads (a compressed database's copy) see the
    /// bytes untouched.
    private var lineEnding: LineEnding?
    /// Decoded offset from which bytes are still to be looked at while `lineEnding` is undecided.
    private var lineEndingScanOffset: Int64 = 0
    private var lastRecordCount = 0
    /// The line of the last record when the input ended inside it, with no line end after it.
    public private(set) var unterminatedLastLine: Int?

    /// The input file's size when it is a regular file, otherwise nil.
    public var sourceSize: Int64? { file.fileSize }
    /// The SHA-256 of the raw input, once `nextChunk` returned nil (the whole input was read).
    public func finishDigest() -> String? { file.finishDigest() }
    /// Stops hashing the raw input (its hash was taken before the load).
    public func stopHashing() { file.stopHashing() }
    /// Raw (compressed, for compressed inputs) bytes read from the input so far, for progress reports.
    public var rawBytesRead: Int64 { file.bytesRead }
    /// Decoded offset of the next unconsumed byte.
    public var decodedOffset: Int64 { bufferOffset + Int64(start) }
    /// Line number of the next unconsumed byte.
    public var currentLine: Int { line }
    /// The longest record refused as longer than `limits.maxRecordBytes` so far: its line and its whole length.
    public private(set) var largestOversizedRecord: (line: Int, bytes: Int64)?
    /// Size of the decoded-bytes buffer, to check that memory stays bounded.
    var bufferCapacity: Int { capacity }

    /// Opens `path` (`-` for standard input), recognises its compression and skips a UTF-8 byte-order mark.
    ///
    /// Throws `ReadError` when the path cannot be opened or the first bytes cannot be read or decoded.
    public convenience init(path: String, limits: FactLimits) throws(ReadError) {
        try self.init(source: FileByteSource(path: path), limits: limits)
    }

    /// Reads from an already opened source (a pipe, standard input), recognising its compression.
    ///
    /// Throws `ReadError` when the first bytes cannot be read or decoded.
    public init(source file: FileByteSource, limits: FactLimits) throws(ReadError) {
        self.file = file
        self.source = file.name
        self.limits = limits
        compression = InputCompression.detect(try file.lookahead(InputCompression.magicLength))
        switch compression {
        case .none:
            decoded = file
        case .gzip:
            decoded = try GzipByteSource(upstream: file)
        case .zstd:
            decoded = try ZstdByteSource(upstream: file)
        }
        capacity = 2 * Self.blockSize
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        // Enough for a byte order mark, then what is at hand for another compression's magic number, never
        // waited for: a slow pipe's first record (`P(a).`, 6 bytes) is handed on as it comes. A file, or a
        // compressor's output, has more than a magic number's bytes at hand.
        while !reachedEnd,
            end - start < 3 || end - start < InputCompression.foreignMagicLength && file.hasBytesReady()
        {
            try readMore()
        }
        let arrived = min(end - start, InputCompression.foreignMagicLength)
        let head = Array(UnsafeBufferPointer(start: buffer + start, count: arrived))
        if let foreign = InputCompression.unreadCompression(head) {
            let outer = compression == .gzip ? "gzip -dc FILE | " : compression == .zstd ? "zstd -dc FILE | " : ""
            let what = outer.isEmpty
                ? "is \(foreign.name)-compressed"
                : "holds \(foreign.name)-compressed data inside its \(compression.rawValue) layer"
            let unpack = outer.isEmpty ? "\(foreign.unpack) FILE" : outer + foreign.unpack
            throw ReadError(
                source: file.name, kind: .unsupportedFormat,
                message: "\(what), which factpipe does not read; decompress it first: `\(unpack) | factpipe import - …`")
        }
        // A UTF-16 (or UTF-32) byte order mark: 0xFF and 0xFE are never UTF-8. Read as UTF-8, such a file
        // (as spreadsheets save "Unicode text") was every line a refusal and the load `done`.
        if let encoding = Self.byteOrderMark(head) {
            let inner = compression == .none ? "" : "\(compression.rawValue) -dc FILE | "
            let convert = "iconv -f \(encoding.name) -t UTF-8"
            throw ReadError(
                source: file.name, kind: .unsupportedFormat,
                message: "is \(encoding.name) text (it starts with the byte order mark \(encoding.mark)), "
                    + "which factpipe does not read; convert it to UTF-8 first: "
                    + "`\(inner.isEmpty ? convert + " FILE" : inner + convert) | factpipe import - …`")
        }
        if end - start >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF {
            start = 3
            byteOrderMarkLength = 3
        }
    }

    /// The UTF-16 or UTF-32 encoding whose byte order mark `head` starts with, or nil.
    private static func byteOrderMark(_ head: [UInt8]) -> (name: String, mark: String)? {
        if head.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return ("UTF-32", "FF FE 00 00") }
        if head.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return ("UTF-32", "00 00 FE FF") }
        if head.starts(with: [0xFF, 0xFE]) { return ("UTF-16", "FF FE") }
        if head.starts(with: [0xFE, 0xFF]) { return ("UTF-16", "FE FF") }
        return nil
    }

    deinit {
        buffer.deallocate()
    }

    /// Returns up to `count` decoded bytes from the current position (the start, after any BOM, until records
    /// are read) without consuming them; fewer only when the input is shorter.
    ///
    /// Throws `ReadError` when reading or decoding fails.
    public func peek(_ count: Int) throws(ReadError) -> [UInt8] {
        while end - start < count && !reachedEnd {
            try readMore()
        }
        return Array(UnsafeBufferPointer(start: buffer + start, count: min(count, end - start)))
    }

    /// The decoded bytes already read from the current position, at most `limit`, without reading more:
    /// what format detection may look at beyond the first line without waiting on a slow pipe.
    public func buffered(limit: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: buffer + start, count: max(0, min(limit, end - start))))
    }

    /// Reads on until `limit` bytes are at hand or the input ends, as long as no read would wait, for an input
    /// that is not compressed: a regular file to `limit`, a pipe only what its producer already wrote. (A
    /// decoder's first block is larger than a file's first read; and its damage, found while reading ahead,
    /// would fail the input before its load began, instead of after the batches before it.) Returns what
    /// `buffered(limit:)` then gives.
    ///
    /// Throws `ReadError` when reading fails.
    public func readWithoutWaiting(limit: Int) throws(ReadError) -> [UInt8] {
        while compression == .none && end - start < limit && !reachedEnd
            && (file.fileSize != nil || file.hasBytesReady()) {
            try readMore()
        }
        return buffered(limit: limit)
    }

    /// Starts reading records: from here on lines end as the input's first line end says. An LF (or CRLF)
    /// means LF; a lone CR (classic Mac OS) means every CR ends a line and reads as an LF, byte for byte, so
    /// offsets stay those of the input. Called by `nextChunk` and `skip`; call it before `peek` to see the
    /// first line as records will.
    ///
    /// Throws `ReadError` when reading or decoding fails.
    public func beginRecords() throws(ReadError) {
        guard lineEnding == nil else { return }
        lineEnding = .undecided
        lineEndingScanOffset = decodedOffset
        try classifyLineEnding()
    }

    /// Returns the decoded bytes from the current position up to the end of the first line that is not blank
    /// (or `limit` bytes, or the end of the input), without consuming them: what format detection needs, and
    /// no more, so that a slow pipe is not waited on for a whole block.
    ///
    /// Throws `ReadError` when reading or decoding fails.
    public func peekFirstLine(limit: Int) throws(ReadError) -> [UInt8] {
        var scanned = start
        var sawText = false
        while true {
            while scanned < end && scanned - start < limit {
                let byte = buffer[scanned]
                if byte == Self.lineFeed || byte == Self.carriageReturn {
                    if sawText { return try peek(scanned + 1 - start) }
                } else if byte != 0x20 && byte != 0x09 {
                    sawText = true
                }
                scanned += 1
            }
            if scanned - start >= limit || reachedEnd {
                return try peek(limit)
            }
            let offset = scanned - start
            try readMore()
            scanned = start + offset
        }
    }

    /// Returns the next chunk of complete records, about `targetBytes` long and at most `maxRecords`
    /// records, or nil at the end of the input.
    ///
    /// Empty records (blank lines) are skipped but counted in line numbers.
    /// Throws `ReadError` when reading or decoding fails (a truncated or corrupt compressed stream).
    public func nextChunk(
        framing: RecordFraming, targetBytes: Int = 256 * 1024, maxRecords: Int = .max
    ) throws(ReadError) -> RecordChunk? {
        precondition(targetBytes > 0, "targetBytes must be positive")
        try beginRecords()
        let limit = limits.maxRecordBytes
        var scanner = RecordScanner(framing: framing)
        var chunk = ChunkAssembler(
            spanStart: start, expectedBytes: min(targetBytes, 64 << 20) + 16 * 1024,
            expectedRecords: lastRecordCount + 16)
        var scanFrom = start
        while true {
            if let lineFeed = scanner.findEnd(in: buffer, from: scanFrom, to: end, base: bufferOffset) {
                if let quote = scanner.brokenQuote {
                    // Its quote was never closed: refuse the line that opened it and read on after that line.
                    finishRecord(in: &chunk, openedBy: quote, scanner: &scanner)
                    scanFrom = start
                    continue
                }
                finishRecord(in: &chunk, contentEnd: lineFeed, next: lineFeed + 1, scanner: scanner)
                scanner.reset()
                scanFrom = start
                if !chunk.records.isEmpty
                    && (chunk.size(upTo: start) >= targetBytes || chunk.records.count >= maxRecords) {
                    break
                }
                continue
            }
            scanFrom = end
            if reachedEnd {
                if let quote = scanner.openQuote ?? scanner.brokenQuote {
                    // A quote never closed: refuse the line that opened it and read on after that line.
                    finishRecord(in: &chunk, openedBy: quote, scanner: &scanner)
                    scanFrom = start
                    continue
                }
                if start < end {
                    if (start..<end).contains(where: { !Self.isBlank(buffer[$0]) }) { unterminatedLastLine = line }
                    finishRecord(in: &chunk, contentEnd: end, next: end, scanner: scanner)
                }
                break
            }
            // Without its terminator the record holds at least end - start - 1 bytes (the last may be a CR);
            // once over the limit, stream it as soon as its whole prefix is at hand.
            if end - start - 1 > limit && end - start >= Self.oversizedPrefixBytes {
                if let quote = scanner.openQuote ?? scanner.brokenQuote {
                    // A quoted field running over lines past the limit is taken for a quote never closed: one
                    // bad record must not swallow the good ones after it.
                    finishRecord(in: &chunk, openedBy: quote, scanner: &scanner)
                    scanFrom = start
                    continue
                }
                try readOversizedRecord(into: &chunk, scanner: &scanner)
                scanFrom = start
                continue
            }
            chunk.flush(upTo: start, from: buffer)
            if !chunk.records.isEmpty && !file.hasBytesReady() {
                // A slow producer: hand on what arrived rather than wait for a full chunk, so its batches
                // commit as they fill.
                break
            }
            let scanned = scanFrom - start
            try readMore()
            chunk.spanStart = start
            scanFrom = start + scanned
        }
        chunk.flush(upTo: start, from: buffer)
        guard !chunk.records.isEmpty else {
            return nil
        }
        lastRecordCount = chunk.records.count
        let result = RecordChunk(
            sequence: nextSequence, source: source, bytes: chunk.bytes, records: chunk.records,
            endOffset: decodedOffset, endLine: line)
        nextSequence += 1
        return result
    }

    /// Discards decoded bytes up to `offset`, a record boundary recorded by an earlier run (a chunk's
    /// `endOffset`), and numbers the following lines from `line`.
    ///
    /// Throws `ReadError` `.invalidResumePoint` when the input ends before `offset`, `offset` lies before the
    /// current position, or the byte before it is not a line feed; or the read error that stopped it.
    public func skip(toOffset offset: Int64, line newLine: Int) throws(ReadError) {
        try beginRecords()
        let current = decodedOffset
        if offset < current {
            if offset >= 0 && current == Int64(byteOrderMarkLength) && nextSequence == 0 {
                line = newLine
                return
            }
            throw ReadError(
                source: source, offset: offset, kind: .invalidResumePoint,
                message: "cannot resume at byte \(offset): reading is already at byte \(current)")
        }
        var previous: UInt8?
        while bufferOffset + Int64(end) < offset {
            if end > start {
                previous = buffer[end - 1]
            }
            start = end
            if reachedEnd {
                throw ReadError(
                    source: source, offset: offset, kind: .invalidResumePoint,
                    message: "cannot resume at byte \(offset): the input ends at byte \(decodedOffset)")
            }
            try readMore()
        }
        let target = Int(offset - bufferOffset)
        if target > start {
            previous = buffer[target - 1]
        }
        start = target
        if let previous, previous != Self.lineFeed, offset != Int64(byteOrderMarkLength) {
            if end == start {
                try readMore()
            }
            if end > start {
                throw ReadError(
                    source: source, offset: offset, kind: .invalidResumePoint,
                    message: "cannot resume at byte \(offset): it is not at a record boundary")
            }
        }
        line = newLine
    }

    /// Ends the record at `buffer[start..<contentEnd]` (dropping a trailing CR) and moves to `next`.
    private func finishRecord(in chunk: inout ChunkAssembler, contentEnd: Int, next: Int, scanner: RecordScanner) {
        var contentEnd = contentEnd
        if contentEnd > start && buffer[contentEnd - 1] == Self.carriageReturn {
            contentEnd -= 1
        }
        if contentEnd - start > limits.maxRecordBytes {
            noteOversized(line: line, bytes: Int64(next - start))
        }
        chunk.add(
            start: start, contentEnd: contentEnd, in: buffer, line: line, offset: decodedOffset,
            limit: limits.maxRecordBytes, prefixBytes: Self.oversizedPrefixBytes)
        line += 1 + scanner.embeddedLineFeeds
        start = next
    }

    /// Ends the record at `start` at the first line end after the quote that `quote` describes (a quoted
    /// field never closed), so that the next record starts on the line after the one that opened it.
    private func finishRecord(
        in chunk: inout ChunkAssembler, openedBy quote: (lineEnd: Int64, lineFeedsBefore: Int),
        scanner: inout RecordScanner
    ) {
        let lineFeed = Int(quote.lineEnd - bufferOffset)
        var contentEnd = lineFeed
        if contentEnd > start && buffer[contentEnd - 1] == Self.carriageReturn {
            contentEnd -= 1
        }
        chunk.add(
            start: start, contentEnd: contentEnd, in: buffer, line: line, offset: decodedOffset,
            limit: limits.maxRecordBytes, prefixBytes: Self.oversizedPrefixBytes)
        if contentEnd - start > limits.maxRecordBytes {
            noteOversized(line: line, bytes: Int64(lineFeed + 1 - start))
        }
        line += 1 + quote.lineFeedsBefore
        start = lineFeed + 1
        scanner.reset()
    }

    /// Keeps the largest oversized record seen.
    private func noteOversized(line: Int, bytes: Int64) {
        if bytes > largestOversizedRecord?.bytes ?? 0 {
            largestOversizedRecord = (line, bytes)
        }
    }

    /// Keeps the prefix of the record at `start`, already longer than the limit, and discards the rest of it
    /// block by block up to its terminator (or the end of the input).
    private func readOversizedRecord(into chunk: inout ChunkAssembler, scanner: inout RecordScanner) throws(ReadError) {
        let recordOffset = decodedOffset
        let recordLine = line
        defer { noteOversized(line: recordLine, bytes: decodedOffset - recordOffset) }
        chunk.addOversized(
            start: start, available: end - start, in: buffer, line: line, offset: decodedOffset,
            prefixBytes: Self.oversizedPrefixBytes)
        start = end
        while true {
            try readMore()
            if start == end {
                break
            }
            if let lineFeed = scanner.findEnd(in: buffer, from: start, to: end, base: bufferOffset) {
                start = lineFeed + 1
                break
            }
            start = end
        }
        line += 1 + scanner.embeddedLineFeeds
        scanner.reset()
        chunk.spanStart = start
    }

    /// The next decoded bytes as they come, with no record framing (a BOM at the start is kept); nil at the end.
    ///
    /// Throws `ReadError` when reading or decoding fails.
    func nextRawBlock() throws(ReadError) -> [UInt8]? {
        if bufferOffset == 0 && start == byteOrderMarkLength { start = 0 }
        if start == end {
            guard !reachedEnd else { return nil }
            try readMore()
            if start == end { return nil }
        }
        let block = Array(UnsafeBufferPointer(start: buffer + start, count: end - start))
        start = end
        return block
    }

    /// Reads one more block (`readBlock`) and applies the line ending to its bytes.
    private func readMore() throws(ReadError) {
        let firstNew = bufferOffset + Int64(end)
        try readBlock()
        switch lineEnding {
        case .undecided?:
            try classifyLineEnding()
        case .carriageReturn?:
            try translateCarriageReturns(from: firstNew)
        case .lineFeed?, nil:
            break
        }
    }

    /// Decides the line ending from the first CR or LF at or after `lineEndingScanOffset`, reading one more
    /// block when a CR is the last byte at hand; stays undecided while there is none.
    private func classifyLineEnding() throws(ReadError) {
        while lineEnding == .undecided {
            let from = max(start, Int(lineEndingScanOffset - bufferOffset))
            var index = end
            for byte in [Self.lineFeed, Self.carriageReturn] where from < index {
                if let hit = memchr(buffer + from, Int32(byte), index - from) {
                    index = UnsafeRawPointer(buffer).distance(to: UnsafeRawPointer(hit))
                }
            }
            lineEndingScanOffset = bufferOffset + Int64(index)
            if index == end {
                return
            }
            if buffer[index] == Self.lineFeed {
                lineEnding = .lineFeed
            } else if index + 1 < end {
                lineEnding = buffer[index + 1] == Self.lineFeed ? .lineFeed : .carriageReturn
            } else if reachedEnd {
                lineEnding = .lineFeed  // a CR at the very end: the last record drops it
            } else {
                try readBlock()
                continue
            }
            if lineEnding == .carriageReturn {
                try translateCarriageReturns(from: bufferOffset + Int64(index))
            }
        }
    }

    /// Turns every lone CR from the input's byte `offset` to the end of the buffer into an LF (classic Mac OS
    /// line ends). A CRLF stays as it is, one line end as in an LF input: read as two, it counted every later
    /// line one too many and doubled a line end inside a quoted CSV field. A CR that is the last byte at hand
    /// reads one more block first, to see what follows it.
    private func translateCarriageReturns(from offset: Int64) throws(ReadError) {
        var position = Int(offset - bufferOffset)
        while position < end, let hit = memchr(buffer + position, Int32(Self.carriageReturn), end - position) {
            let found = UnsafeRawPointer(buffer).distance(to: UnsafeRawPointer(hit))
            if found + 1 == end && !reachedEnd {
                let carriageReturn = bufferOffset + Int64(found)
                try readBlock()  // may move the bytes at hand
                position = Int(carriageReturn - bufferOffset)
                continue
            }
            if found + 1 == end || buffer[found + 1] != Self.lineFeed {
                buffer[found] = Self.lineFeed
            }
            position = found + 1
        }
    }

    /// Moves the unconsumed bytes to the front of the buffer and reads one more block after them;
    /// sets `reachedEnd` when the input is exhausted.
    private func readBlock() throws(ReadError) {
        guard !reachedEnd else {
            return
        }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                memmove(buffer, buffer + start, remaining)
            }
            bufferOffset += Int64(start)
            start = 0
            end = remaining
        }
        if capacity - end < Self.blockSize {
            // Grow by blocks while records are short: the buffer stays within a block or two of the longest
            // record. Past 2 MiB (only a raised --max-record-bytes, or a restore, reads such a record whole)
            // by half again: grown a block at a time, a 128 MB record was copied 512 times (22 s).
            let byBlocks = max(capacity, end) + Self.blockSize
            let grown = end < 8 * Self.blockSize ? byBlocks : max(byBlocks, capacity + capacity / 2)
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            larger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = larger
            capacity = grown
        }
        let got = try decoded.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: Self.blockSize))
        if got == 0 {
            reachedEnd = true
        } else {
            end += got
        }
    }
}

/// How the lines of an input end (see `InputReader.beginRecords`).
private enum LineEnding {
    case undecided
    /// LF or CRLF.
    case lineFeed
    /// A lone CR, read as LF.
    case carriageReturn
}
