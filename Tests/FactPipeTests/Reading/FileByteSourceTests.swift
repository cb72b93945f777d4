import Foundation
import Testing
@testable import FactPipe

@Test func fileSourceReadsWholeFileAndCountsBytes() throws {
    let dir = try TemporaryDirectory()
    let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let path = try dir.write("data.bin", bytes)
    let source = try FileByteSource(path: path)
    #expect(source.fileSize == 300_000)
    #expect(source.name == path)
    var collected: [UInt8] = []
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
    defer { block.deallocate() }
    while true {
        let got = try source.read(into: block)
        if got == 0 {
            break
        }
        collected += block[0..<got]
    }
    #expect(collected == bytes)
    #expect(source.bytesRead == 300_000)
}

@Test func lookaheadBytesAreReadAgain() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("small.txt", "hello world")
    let source = try FileByteSource(path: path)
    #expect(try source.lookahead(4) == Array("hell".utf8))
    #expect(try source.lookahead(20) == Array("hello world".utf8))
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 1)
    defer { block.deallocate() }
    var collected: [UInt8] = []
    while case let got = try source.read(into: block), got > 0 {
        collected += block[0..<got]
    }
    #expect(collected == Array("hello world".utf8))
}

@Test func missingFileAndDirectoryCannotBeOpened() throws {
    let dir = try TemporaryDirectory()
    let missing = dir.path("nope.ndjson")
    let error = #expect(throws: ReadError.self) { try InputReader(path: missing, limits: .default) }
    #expect(error?.kind == .cannotOpen)
    #expect(error?.description.hasPrefix("\(missing): cannot open: No such file") == true)
    let directory = #expect(throws: ReadError.self) { try FileByteSource(path: dir.url.path) }
    #expect(directory?.kind == .cannotOpen)
}

@Test func dashMeansStandardInputAndIsNotClosed() throws {
    do {
        let source = try FileByteSource(path: "-")
        #expect(source.name == "-")
    }
    // Releasing the source must leave descriptor 0 open.
    #expect(fcntl(0, F_GETFD) != -1)
}

/// Writes `bytes` to the write end of a pipe from another thread and closes it.
private func feedPipe(_ bytes: [UInt8]) throws -> (readEnd: Int32, writer: Thread) {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else {
        throw ToolFailure(description: "pipe failed")
    }
    let writeEnd = ends[1]
    // If a test stops reading early, the writer must get EPIPE rather than kill the process.
    signal(SIGPIPE, SIG_IGN)
    let writer = Thread {
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = write(writeEnd, raw.baseAddress.map { $0 + written }, raw.count - written)
                if result <= 0 {
                    break
                }
                written += result
            }
        }
        close(writeEnd)
    }
    writer.start()
    return (ends[0], writer)
}

@Test func readsNDJSONFromAPipe() throws {
    var text = ""
    for index in 0..<20_000 {
        text += "{\"n\":\(index)}\n"
    }
    let (readEnd, _) = try feedPipe(Array(text.utf8))
    let reader = try InputReader(
        source: FileByteSource(fileDescriptor: readEnd, name: "-", closeWhenDone: true), limits: .default)
    #expect(reader.sourceSize == nil)
    #expect(reader.compression == .none)
    let records = try readAll(reader).records
    #expect(records.count == 20_000)
    #expect(records.last == SeenRecord(text: "{\"n\":19999}", line: 20_000, offset: Int64(text.utf8.count - 12)))
    #expect(reader.rawBytesRead == Int64(text.utf8.count))
}

@Test func readsZstdFromAPipe() throws {
    let text = (1...5000).map { "line \($0)" }.joined(separator: "\n")
    let (readEnd, _) = try feedPipe(try zstdFrame(Array(text.utf8)))
    let reader = try InputReader(
        source: FileByteSource(fileDescriptor: readEnd, name: "-", closeWhenDone: true), limits: .default)
    #expect(reader.compression == .zstd)
    let records = try readAll(reader).records
    #expect(records.map(\.text) == (1...5000).map { "line \($0)" })
}

@Test func aFileTruncatedWhileItIsReadThrowsInsteadOfEndingEarly() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("shrinking.bin", [UInt8](repeating: 0x41, count: 200_000))
    let source = try FileByteSource(path: path)
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
    defer { block.deallocate() }
    #expect(try source.read(into: block) == 65_536)
    #expect(truncate(path, 100_000) == 0)
    #expect(try source.read(into: block) == 34_464)
    do {
        _ = try source.read(into: block)
        Issue.record("the early end of a truncated file was taken for its end")
    } catch {
        #expect(error.kind == .io)
        #expect(error.description
                == "\(path): the file shrank while it was read: it ended after 100000 of its 200000 bytes")
    }
}

@Test func aFileThatGrowsWhileItIsReadIsReadToItsNewEnd() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("growing.txt", "first\n")
    let source = try FileByteSource(path: path)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("second\n".utf8))
    try handle.close()
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
    defer { block.deallocate() }
    var collected: [UInt8] = []
    while case let got = try source.read(into: block), got > 0 {
        collected += block[0..<got]
    }
    #expect(collected == Array("first\nsecond\n".utf8))
}
