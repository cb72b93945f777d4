import Foundation
import Testing
@testable import FactPipe

/// NDJSON-like text with `count` lines, ending with a newline.
private func sampleText(_ count: Int, tag: String = "r") -> String {
    (0..<count).map { "{\"\(tag)\":\($0),\"pad\":\"\(String(repeating: "x", count: $0 % 50))\"}\n" }.joined()
}

private func readError(_ path: String) -> ReadError? {
    do {
        _ = try readLines(path)
        return nil
    } catch let error as ReadError {
        return error
    } catch {
        return nil
    }
}

@Test func plainGzipAndZstdFilesFromTheCLIsDecodeIdentically() throws {
    let dir = try TemporaryDirectory()
    let text = sampleText(40_000)
    let plain = try dir.write("facts.ndjson", text)
    try gzipCLI(plain, dir.path("facts.gz.bin"))
    try zstdCLI(plain, dir.path("facts.zst.bin"))
    let expected = referenceLines(Array(text.utf8))
    #expect(expected.count == 40_000)
    let cases: [(String, InputCompression)] = [
        ("facts.ndjson", .none), ("facts.gz.bin", .gzip), ("facts.zst.bin", .zstd),
    ]
    for (name, compression) in cases {
        let reader = try InputReader(path: dir.path(name), limits: .default)
        #expect(reader.compression == compression, "\(name)")
        let records = try readAll(reader).records
        #expect(records == expected, "\(name)")
        let fileSize = try #require(reader.sourceSize)
        #expect(reader.rawBytesRead == fileSize, "\(name) consumed all its raw bytes")
    }
    // Detection is by content, not name: a zstd file named .txt is still decoded.
    try FileManager.default.copyItem(atPath: dir.path("facts.zst.bin"), toPath: dir.path("facts.txt"))
    #expect(try InputReader(path: dir.path("facts.txt"), limits: .default).compression == .zstd)
}

@Test func filesCompressedWithTheLibraryAPIsDecode() throws {
    let dir = try TemporaryDirectory()
    let text = Array(sampleText(3000).utf8)
    let zst = try dir.write("api.zst", try zstdFrame(text, level: 19))
    let gz = try dir.write("api.gz", try gzipMember(text))
    #expect(try readLines(zst) == referenceLines(text))
    #expect(try readLines(gz) == referenceLines(text))
}

@Test func concatenatedZstdFramesAndSkippableFramesReadThrough() throws {
    let dir = try TemporaryDirectory()
    let first = try dir.write("a.ndjson", sampleText(5000, tag: "a"))
    let second = try dir.write("b.ndjson", sampleText(7000, tag: "b"))
    try zstdCLI(first, dir.path("a.zst"))
    try zstdCLI(second, dir.path("b.zst"))
    let skippable: [UInt8] = [0x5A, 0x2A, 0x4D, 0x18, 5, 0, 0, 0, 1, 2, 3, 4, 5]
    let joined = try dir.contents("a.zst") + skippable + dir.contents("b.zst")
    let path = try dir.write("ab.zst", joined)
    let expected = referenceLines(Array((sampleText(5000, tag: "a") + sampleText(7000, tag: "b")).utf8))
    #expect(try readLines(path) == expected)
    // A stream may even start with a skippable frame.
    let leading = try dir.write("skip-first.zst", skippable + dir.contents("b.zst"))
    let reader = try InputReader(path: leading, limits: .default)
    #expect(reader.compression == .zstd)
    #expect(try readAll(reader).records.count == 7000)
}

@Test func concatenatedGzipMembersReadThrough() throws {
    let dir = try TemporaryDirectory()
    let first = try dir.write("a.ndjson", sampleText(5000, tag: "a"))
    let second = try dir.write("b.ndjson", sampleText(7000, tag: "b"))
    try gzipCLI(first, dir.path("a.gz"))
    try gzipCLI(second, dir.path("b.gz"))
    let apiMember = try gzipMember(Array("{\"tail\":1}\n".utf8))
    let path = try dir.write("ab.gz", try dir.contents("a.gz") + dir.contents("b.gz") + apiMember)
    let text = sampleText(5000, tag: "a") + sampleText(7000, tag: "b") + "{\"tail\":1}\n"
    let expected = referenceLines(Array(text.utf8))
    #expect(try readLines(path) == expected)
}

@Test func truncatedZstdThrows() throws {
    let dir = try TemporaryDirectory()
    let plain = try dir.write("t.ndjson", sampleText(20_000))
    try zstdCLI(plain, dir.path("t.zst"))
    let whole = try dir.contents("t.zst")
    for cut in [whole.count - 1, whole.count / 2, 6] {
        let path = try dir.write("cut.ndjson.zst", Array(whole[0..<cut]))
        let error = try #require(readError(path), "cut at \(cut) must throw")
        #expect(error.kind == .truncatedCompressedStream)
        #expect(error.source == path)
        #expect(error.description.hasPrefix("\(path): zstd stream ends mid-frame after "))
    }
    // A complete frame followed by half of another is still truncated.
    let second = try dir.write("two.zst", whole + Array(whole[0..<(whole.count / 3)]))
    #expect(readError(second)?.kind == .truncatedCompressedStream)
}

@Test func truncatedGzipThrows() throws {
    let dir = try TemporaryDirectory()
    let plain = try dir.write("t.ndjson", sampleText(20_000))
    try gzipCLI(plain, dir.path("t.gz"))
    let whole = try dir.contents("t.gz")
    for cut in [whole.count - 1, whole.count - 8, whole.count / 2, 12] {
        let path = try dir.write("cut.gz", Array(whole[0..<cut]))
        let error = try #require(readError(path), "cut at \(cut) must throw")
        #expect(error.kind == .truncatedCompressedStream)
        #expect(error.description.hasPrefix("\(path): gzip stream ends mid-member after "))
    }
}

@Test func corruptGzipThrows() throws {
    let dir = try TemporaryDirectory()
    let plain = try dir.write("c.ndjson", sampleText(20_000))
    try gzipCLI(plain, dir.path("c.gz"))
    let whole = try dir.contents("c.gz")
    // A changed CRC-32 in the trailer: the data inflates but fails the check.
    var badCheck = whole
    badCheck[whole.count - 6] ^= 0xFF
    let checkError = try #require(readError(try dir.write("badcrc.gz", badCheck)))
    #expect(checkError.kind == .corruptCompressedStream)
    #expect(checkError.message.hasPrefix("gzip data corrupt: incorrect data check"))
    // A changed byte in the middle of the deflate data.
    var badData = whole
    badData[whole.count / 2] ^= 0x55
    let dataError = try #require(readError(try dir.write("baddata.gz", badData)))
    #expect(dataError.kind == .corruptCompressedStream || dataError.kind == .truncatedCompressedStream)
}

/// Bytes after the last whole member or frame that start none (a transfer's or an editor's tail): one byte read
/// as a stream cut short mid-member, more as damage (a load undone), `\n` either way by chance. Every byte before
/// them is decoded and handed on, and the error says what they are.
@Test(arguments: [InputCompression.gzip, .zstd])
func bytesAfterTheLastMemberOrFrameAreTrailingData(compression: InputCompression) throws {
    let dir = try TemporaryDirectory()
    let text = sampleText(20_000)
    let plain = try dir.write("t.ndjson", text)
    compression == .gzip ? try gzipCLI(plain, dir.path("t.bin")) : try zstdCLI(plain, dir.path("t.bin"))
    let whole = try dir.contents("t.bin")
    for tail in ["garbage", "\n", "\r\n", "\u{0}x"] {
        let path = try dir.write("tail.bin", whole + Array(tail.utf8))
        let file = try FileByteSource(path: path)
        let source: any ByteSource = compression == .gzip
            ? try GzipByteSource(upstream: file) : try ZstdByteSource(upstream: file)
        var decoded = 0
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { block.deallocate() }
        do {
            while true {
                let got = try source.read(into: block)
                if got == 0 { break }
                decoded += got
            }
            Issue.record("\(tail.debugDescription): no error")
        } catch {
            #expect(error.kind == .trailingData, "\(tail.debugDescription): \(error)")
            #expect(error.message.contains("that start no \(compression == .gzip ? "gzip member" : "zstd frame") follow"))
        }
        #expect(decoded == text.utf8.count, "\(tail.debugDescription)")
    }
}

@Test func corruptZstdThrows() throws {
    let dir = try TemporaryDirectory()
    let plain = try dir.write("c.ndjson", sampleText(20_000))
    try runTool("/usr/bin/zstd", ["-q", "-f", "--check", plain, "-o", dir.path("c.zst")])
    var whole = try dir.contents("c.zst")
    whole[whole.count / 2] ^= 0x55
    let error = try #require(readError(try dir.write("bad.zst", whole)))
    #expect(error.kind == .corruptCompressedStream)
    #expect(error.message.hasPrefix("zstd data corrupt: "))
}

/// Compressions factpipe does not read, and a second gzip or zstd layer, are refused by their magic
/// bytes with the command that unpacks them (read as text, each was a load of refusals called done).
@Test func compressionsFactpipeDoesNotReadAreRefusedByName() throws {
    let dir = try TemporaryDirectory()
    let body = Array(sampleText(200).utf8)
    let heads: [(name: String, bytes: [UInt8], unpack: String)] = [
        ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04], "`xz -dc FILE | factpipe import - …`"),
        ("bzip2", Array("BZh91AY&SY".utf8), "`bzip2 -dc FILE"),
        ("zip", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "`unzip -p FILE"),
        ("7z", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00, 0x04], "`7z x -so FILE"),
        ("lz4", [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40], "`lz4 -dc FILE"),
        ("lzip", Array("LZIP".utf8) + [0x01, 0x0C], "`lzip -dc FILE"),
    ]
    for head in heads {
        let path = try dir.write("input.\(head.name)", head.bytes + body)
        let error = try #require(readError(path), "\(head.name)")
        #expect(error.kind == .unsupportedFormat)
        #expect(error.message.hasPrefix("is \(head.name)-compressed, which factpipe does not read"), "\(error)")
        #expect(error.message.contains(head.unpack), "\(error)")
    }
    // zstd inside gzip, gzip inside zstd: the inner layer is named, and both commands.
    let zstdInGzip = try dir.write("inner.gz", try gzipMember(try zstdFrame(body)))
    let inner = try #require(readError(zstdInGzip))
    #expect(inner.kind == .unsupportedFormat)
    #expect(inner.message.hasPrefix("holds zstd-compressed data inside its gzip layer"), "\(inner)")
    #expect(inner.message.contains("`gzip -dc FILE | zstd -dc | factpipe import - …`"), "\(inner)")
    let gzipInZstd = try #require(readError(try dir.write("inner.zst", try zstdFrame(try gzipMember(body)))))
    #expect(gzipInZstd.message.hasPrefix("holds gzip-compressed data inside its zstd layer"), "\(gzipInZstd)")
}

/// Text that begins like such a file but is not one reads as text: a statement may start `BZh9(`, `PK`.
@Test func textThatStartsLikeAForeignMagicIsReadAsText() throws {
    let dir = try TemporaryDirectory()
    let text = "BZh9(x, y).\nPK(a, b).\nLZIP(c).\n7z(d).\n"
    let path = try dir.write("looks.txt", text)
    #expect(readError(path) == nil)
    #expect(try readLines(path).count == 4)
}
