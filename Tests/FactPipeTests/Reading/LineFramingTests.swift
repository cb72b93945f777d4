import Foundation
import Testing
@testable import FactPipe

private func limits(maxRecordBytes: Int) -> FactLimits {
    var limits = FactLimits()
    limits.maxRecordBytes = maxRecordBytes
    return limits
}

/// A deterministic pseudo-random generator (an LCG), so failures reproduce.
private struct Generator {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

@Test func crlfBOMEmptyLinesAndFinalLineWithoutNewline() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("mixed.txt", [0xEF, 0xBB, 0xBF] + Array("a\r\n\r\n\nb\n\u{00E9}\u{00E9}\n   \nc\r".utf8))
    let reader = try InputReader(path: path, limits: .default)
    #expect(reader.byteOrderMarkLength == 3)
    #expect(try reader.peek(4) == Array("a\r\n\r".utf8))
    #expect(try reader.peek(1000).count == 19)
    let (records, chunks) = try readAll(reader)
    #expect(records == [
        SeenRecord(text: "a", line: 1, offset: 3),
        SeenRecord(text: "b", line: 4, offset: 9),
        SeenRecord(text: "éé", line: 5, offset: 11),
        SeenRecord(text: "   ", line: 6, offset: 16),
        SeenRecord(text: "c", line: 7, offset: 20),
    ])
    let chunk = try #require(chunks.first)
    #expect(chunks.count == 1)
    #expect(chunk.sequence == 0)
    #expect(chunk.source == path)
    #expect(chunk.endOffset == 22)
    #expect(chunk.endLine == 8)
    #expect(try reader.nextChunk(framing: .lines) == nil)
}

/// Short records end a chunk at its record limit before its byte target: every record once, in order,
/// with the lines and offsets of one chunk read whole; each chunk ends where the next begins.
@Test func aChunkEndsAtItsRecordLimit() throws {
    let dir = try TemporaryDirectory()
    let text = (1...10_000).map { "Has(x\($0), y\($0))." }.joined(separator: "\n") + "\n"
    let path = try dir.write("short.txt", text)
    let whole = try readAll(InputReader(path: path, limits: .default))
    #expect(whole.chunks.count == 1)
    let limited = try readAll(InputReader(path: path, limits: .default), maxRecords: 2_048)
    #expect(limited.chunks.map(\.records.count) == [2_048, 2_048, 2_048, 2_048, 1_808])
    #expect(limited.records == whole.records)
    for (chunk, next) in zip(limited.chunks, limited.chunks.dropFirst()) {
        #expect(next.records.first?.offset == chunk.endOffset && next.records.first?.line == chunk.endLine)
    }
    #expect(ImportPipeline.chunkRecords * 190 > ImportPipeline.chunkBytes,
            "an NDJSON chunk (~190 bytes a record) still ends at its byte target")
}

@Test func emptyAndBlankOnlyInputsHaveNoChunks() throws {
    let dir = try TemporaryDirectory()
    #expect(try readLines(try dir.write("empty.txt", "")).isEmpty)
    #expect(try readLines(try dir.write("blank.txt", "\n\r\n\n")).isEmpty)
    #expect(try readLines(try dir.write("bom.txt", [0xEF, 0xBB, 0xBF])).isEmpty)
    // Two bytes of a BOM are data, not a BOM.
    let partial = try InputReader(path: try dir.write("partial.txt", [0xEF, 0xBB, 0x0A, 0x41]), limits: .default)
    #expect(partial.byteOrderMarkLength == 0)
    #expect(try readAll(partial).records.map(\.offset) == [0, 3])
}

@Test func megabyteFileMatchesReferenceAcrossReadBlocks() throws {
    let dir = try TemporaryDirectory()
    var generator = Generator(state: 42)
    var bytes: [UInt8] = []
    while bytes.count < 1_100_000 {
        let length = generator.next(7) == 0 ? 0 : generator.next(600)
        for _ in 0..<length {
            bytes.append(UInt8(ascii: "a") + UInt8(generator.next(26)))
        }
        bytes += generator.next(5) == 0 ? [0x0D, 0x0A] : [0x0A]
    }
    bytes += Array("last line without newline".utf8)
    let path = try dir.write("big.ndjson", bytes)
    try zstdCLI(path, dir.path("big.zst"))
    try gzipCLI(path, dir.path("big.gz"))
    let expected = referenceLines(bytes)
    #expect(expected.count > 3000)
    for name in ["big.ndjson", "big.zst", "big.gz"] {
        for target in [256 * 1024, 10_000, 1] {
            let reader = try InputReader(path: dir.path(name), limits: .default)
            let (records, chunks) = try readAll(reader, targetBytes: target)
            #expect(records == expected, "\(name) target \(target)")
            #expect(chunks.map(\.sequence) == Array(0..<chunks.count))
            for (index, chunk) in chunks.enumerated() {
                #expect(chunk.records.allSatisfy { $0.range.upperBound <= chunk.bytes.count })
                #expect(chunk.bytes.count < target + 2 * 700, "a chunk holds about target bytes")
                if index + 1 < chunks.count {
                    let nextStart = try #require(chunks[index + 1].records.first)
                    #expect(chunk.endOffset <= nextStart.offset && chunk.endLine <= nextStart.line)
                }
            }
            #expect(chunks.last?.endOffset == Int64(bytes.count))
            #expect(chunks.last?.endLine == expected.last.map { $0.line + 1 })
        }
    }
}

/// A file whose first line ends with a lone CR reads every lone CR as a line end, and a CRLF (or an LF) in it
/// as one line end, not two: the lines and offsets of every record are those of the file, wherever the read
/// blocks end (a CRLF and a lone CR are put across the first two block ends).
@Test func aCarriageReturnFileWithCRLFsCountsEachLineEndOnce() throws {
    let dir = try TemporaryDirectory()
    var generator = Generator(state: 7)
    var bytes = Array("first\r".utf8)
    while bytes.count < 700_000 {
        let length = generator.next(7) == 0 ? 0 : generator.next(400)
        for _ in 0..<length {
            bytes.append(UInt8(ascii: "a") + UInt8(generator.next(26)))
        }
        switch generator.next(6) {
        case 0, 1: bytes += [0x0D, 0x0A]
        case 2: bytes += [0x0A]
        default: bytes += [0x0D]
        }
    }
    let block = InputReader.blockSize
    bytes[block - 1] = 0x0D
    bytes[block] = 0x0A
    bytes[2 * block - 1] = 0x0D
    bytes[2 * block] = UInt8(ascii: "x")
    bytes += Array("last\r".utf8)
    // The reference: a CR that no LF follows is an LF; then split at LF, dropping one CR before it.
    var translated = bytes
    for index in translated.indices where translated[index] == 0x0D {
        if index + 1 == translated.count || translated[index + 1] != 0x0A { translated[index] = 0x0A }
    }
    let expected = referenceLines(translated)
    #expect(expected.count > 3000)
    #expect(expected.contains { $0.offset == Int64(block + 1) }, "a record starts after the CRLF across the block end")
    #expect(expected.contains { $0.offset == Int64(2 * block) }, "a record starts after the lone CR at the block end")
    let path = try dir.write("mac.txt", bytes)
    try zstdCLI(path, dir.path("mac.zst"))
    for name in ["mac.txt", "mac.zst"] {
        for target in [256 * 1024, 1] {
            let (records, chunks) = try readAll(try InputReader(path: dir.path(name), limits: .default), targetBytes: target)
            #expect(records == expected, "\(name) target \(target)")
            #expect(chunks.last?.endLine == expected.last.map { $0.line + 1 })
        }
    }
    // A resume at a record after a CRLF reads on as the whole read does.
    let resumeAt = try #require(expected.first { $0.offset > Int64(block) })
    let reader = try InputReader(path: path, limits: .default)
    try reader.skip(toOffset: resumeAt.offset, line: resumeAt.line)
    #expect(try readAll(reader).records == Array(expected.drop { $0.offset < resumeAt.offset }))
}

@Test func fiveMebibyteLineWithOneMebibyteLimitIsCutWithoutHoldingIt() throws {
    let dir = try TemporaryDirectory()
    let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 5 << 20)
    let bytes = Array("before\n".utf8) + huge + Array("\r\n\nafter\n".utf8) + huge
    let path = try dir.write("huge.ndjson", bytes)
    try zstdCLI(path, dir.path("huge.zst"))
    for name in ["huge.ndjson", "huge.zst"] {
        let reader = try InputReader(path: dir.path(name), limits: limits(maxRecordBytes: 1 << 20))
        let (records, chunks) = try readAll(reader)
        let prefix = String(repeating: "x", count: 1024)
        #expect(records == [
            SeenRecord(text: "before", line: 1, offset: 0),
            SeenRecord(text: prefix, line: 2, offset: 7, isOversized: true),
            SeenRecord(text: "after", line: 4, offset: Int64(7 + huge.count + 3)),
            SeenRecord(text: prefix, line: 5, offset: Int64(7 + huge.count + 9), isOversized: true),
        ], "\(name)")
        #expect(chunks.last?.endOffset == Int64(bytes.count))
        #expect(chunks.last?.endLine == 6)
        #expect(chunks.allSatisfy { $0.bytes.count < 4096 }, "chunks hold only prefixes")
        #expect(reader.bufferCapacity <= (1 << 20) + 3 * 256 * 1024, "the buffer never held a whole 5 MiB line")
    }
}

/// A limit raised past the record (a restore reads records of any length) reads it whole; the buffer grows
/// by half again past 2 MiB, not a block at a time (which copied a 128 MB record 512 times), and stays
/// within half again of the record.
@Test func aTwelveMebibyteLineUnderARaisedLimitIsReadWhole() throws {
    let dir = try TemporaryDirectory()
    let huge = Array("start".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 12 << 20) + Array("end".utf8)
    let bytes = Array("before\n".utf8) + huge + Array("\nafter\n".utf8)
    let path = try dir.write("huge.ndjson", bytes)
    try zstdCLI(path, dir.path("huge.zst"))
    for name in ["huge.ndjson", "huge.zst"] {
        let reader = try InputReader(path: dir.path(name), limits: limits(maxRecordBytes: 64 << 20))
        let (records, _) = try readAll(reader)
        #expect(records.map(\.line) == [1, 2, 3], "\(name)")
        let long = records.count == 3 ? records[1].text : ""
        #expect(long.utf8.count == huge.count && long.hasPrefix("startxx") && long.hasSuffix("xxend"), "\(name)")
        #expect(records.count == 3 && !records[1].isOversized)
        #expect(records.last?.text == "after")
        #expect(reader.bufferCapacity <= huge.count * 3 / 2 + 2 * 256 * 1024, "\(name): \(reader.bufferCapacity)")
    }
}

@Test func smallLimitMarksLongLinesAndKeepsLineNumbers() throws {
    let dir = try TemporaryDirectory()
    let line100 = String(repeating: "a", count: 100)
    let line101 = String(repeating: "b", count: 101)
    let line2000 = String(repeating: "c", count: 2000)
    let text = "\(line100)\r\n\(line101)\nshort\n\n\(line2000)\r\nnext\n\(line101)"
    let path = try dir.write("small-limit.txt", text)
    let records = try readLines(path, limits: limits(maxRecordBytes: 100))
    #expect(records == [
        SeenRecord(text: line100, line: 1, offset: 0),
        SeenRecord(text: line101, line: 2, offset: 102, isOversized: true),
        SeenRecord(text: "short", line: 3, offset: 204),
        SeenRecord(text: String(line2000.prefix(1024)), line: 5, offset: 211, isOversized: true),
        SeenRecord(text: "next", line: 6, offset: 2213),
        SeenRecord(text: line101, line: 7, offset: 2218, isOversized: true),
    ])
}

@Test func smallLimitWithRecordsCrossingReadBlocks() throws {
    let dir = try TemporaryDirectory()
    var generator = Generator(state: 7)
    var bytes: [UInt8] = []
    var expected: [SeenRecord] = []
    var line = 1
    while bytes.count < 900_000 {
        let length = generator.next(10) == 0 ? 300_000 : generator.next(500)
        let start = bytes.count
        for _ in 0..<length {
            bytes.append(UInt8(ascii: "0") + UInt8(generator.next(10)))
        }
        if length > 0 {
            let kept = min(length, length > 300 ? 1024 : length)
            let text = String(decoding: bytes[start..<start + kept], as: UTF8.self)
            expected.append(SeenRecord(text: text, line: line, offset: Int64(start), isOversized: length > 300))
        }
        bytes.append(0x0A)
        line += 1
    }
    let path = try dir.write("limit300.txt", bytes)
    let records = try readLines(path, limits: limits(maxRecordBytes: 300), targetBytes: 50_000)
    #expect(records.count == expected.count)
    #expect(records == expected)
    #expect(expected.contains { $0.isOversized && $0.text.utf8.count == 1024 })
}

@Test func oversizedPrefixIsWholeEvenWhenTheRecordStraddlesABlock() throws {
    let dir = try TemporaryDirectory()
    // 1100-byte lines: some start a few dozen bytes before a 256 KiB read boundary.
    var bytes: [UInt8] = []
    var expected: [SeenRecord] = []
    for index in 0..<900 {
        let start = bytes.count
        let digit = UInt8(ascii: "0") + UInt8(index % 10)
        bytes += [UInt8](repeating: digit, count: 1100)
        bytes.append(0x0A)
        let text = String(decoding: bytes[start..<start + 1024], as: UTF8.self)
        expected.append(SeenRecord(text: text, line: index + 1, offset: Int64(start), isOversized: true))
    }
    let path = try dir.write("straddle.txt", bytes)
    #expect(try readLines(path, limits: limits(maxRecordBytes: 100)) == expected)
}
