import Foundation
import Testing
@testable import FactPipe

private func sample(withBOM: Bool) -> [UInt8] {
    var bytes: [UInt8] = withBOM ? [0xEF, 0xBB, 0xBF] : []
    for index in 0..<30_000 {
        bytes += Array("{\"k\":\(index),\"v\":\"\(String(repeating: "z", count: index % 37))\"}".utf8)
        bytes += index % 4 == 0 ? [0x0D, 0x0A, 0x0A] : [0x0A]
    }
    return bytes
}

@Test(arguments: [false, true])
func skipContinuesExactlyAfterARecordedChunkEnd(withBOM: Bool) throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("resume.ndjson", sample(withBOM: withBOM))
    try zstdCLI(path, dir.path("resume.zst"))
    for name in ["resume.ndjson", "resume.zst"] {
        let full = try readAll(try InputReader(path: dir.path(name), limits: .default), targetBytes: 40_000)
        #expect(full.chunks.count > 10)
        for index in [0, 3, full.chunks.count - 2] {
            let chunk = full.chunks[index]
            let reader = try InputReader(path: dir.path(name), limits: .default)
            try reader.skip(toOffset: chunk.endOffset, line: chunk.endLine)
            #expect(reader.decodedOffset == chunk.endOffset)
            let rest = try readAll(reader, targetBytes: 40_000).records
            let alreadyRead = full.chunks[0...index].reduce(0) { $0 + $1.records.count }
            #expect(rest == Array(full.records[alreadyRead...]), "\(name) after chunk \(index)")
        }
        // Resuming at the very end yields nothing.
        let last = try #require(full.chunks.last)
        let atEnd = try InputReader(path: dir.path(name), limits: .default)
        try atEnd.skip(toOffset: last.endOffset, line: last.endLine)
        #expect(try atEnd.nextChunk(framing: .lines) == nil)
    }
}

@Test func skipToTheStartIsANoOpEvenWithABOM() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("bom.ndjson", sample(withBOM: true))
    let expected = try readLines(path)
    for offset: Int64 in [0, 3] {
        let reader = try InputReader(path: path, limits: .default)
        try reader.skip(toOffset: offset, line: 1)
        #expect(try readAll(reader).records == expected)
    }
}

@Test func skipContinuesCSVWithEmbeddedNewlines() throws {
    let dir = try TemporaryDirectory()
    var text = ""
    for index in 0..<5000 {
        text += "\(index),\"two\nlines \(index)\",\"x\"\"y\"\r\n"
    }
    let path = try dir.write("resume.csv", text)
    let framing = RecordFraming.csv(delimiter: UInt8(ascii: ","))
    let full = try readAll(try InputReader(path: path, limits: .default), framing: framing, targetBytes: 10_000)
    let chunk = full.chunks[4]
    let reader = try InputReader(path: path, limits: .default)
    try reader.skip(toOffset: chunk.endOffset, line: chunk.endLine)
    let rest = try readAll(reader, framing: framing).records
    let alreadyRead = full.chunks[0...4].reduce(0) { $0 + $1.records.count }
    #expect(rest == Array(full.records[alreadyRead...]))
    #expect(rest.first?.line == 2 * alreadyRead + 1)
}

@Test func skipRejectsOffsetsThatDoNotFitTheInput() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("short.ndjson", "{\"a\":1}\n{\"b\":2}\n")
    let beyond = #expect(throws: ReadError.self) {
        try InputReader(path: path, limits: .default).skip(toOffset: 1000, line: 3)
    }
    #expect(beyond?.kind == .invalidResumePoint)
    #expect(beyond?.description == "\(path): cannot resume at byte 1000: the input ends at byte 16")
    let midRecord = #expect(throws: ReadError.self) {
        try InputReader(path: path, limits: .default).skip(toOffset: 3, line: 1)
    }
    #expect(midRecord?.kind == .invalidResumePoint)
    let reader = try InputReader(path: path, limits: .default)
    try reader.skip(toOffset: 8, line: 2)
    #expect(try readAll(reader).records == [SeenRecord(text: "{\"b\":2}", line: 2, offset: 8)])
    let backwards = #expect(throws: ReadError.self) { try reader.skip(toOffset: 8, line: 2) }
    #expect(backwards?.kind == .invalidResumePoint)
}
