import CZstd
import Foundation
import Testing

@testable import FactPipe

@Suite struct SnapshotManifestTests {
    private let manifest = SnapshotManifest(
        kind: .snapshot, format: .csv, compression: "zstd", schemaVersion: 1, factCount: 42, contentBytes: 4_096,
        contentSHA256: String(repeating: "ab", count: 32), createdAt: "2025-01-02T03:04:05.5Z",
        sourceDatabase: "/data/kb \"main\".sqlite",
        filter: FactFilter(predicates: ["HasPart", "LäuftAuf"], since: "2025-01-01") ?? FactFilter())

    @Test func manifestJSONDecodesToTheSameManifest() throws {
        let json = manifest.json
        #expect(json.hasPrefix(#"{"archive_version":1,"kind":"snapshot","format":"csv","compression":"zstd","#))
        #expect(json.contains(#""filters":{"predicates":["HasPart","LäuftAuf"],"since":"2025-01-01T00:00:00Z"}"#))
        #expect(json.contains(#""tool":"factpipe","tool_version":"\#(FactPipeVersion.current)""#))
        #expect(try SnapshotManifest.decode(json, path: "m") == manifest)
        var backup = manifest
        backup.kind = .backup
        backup.format = .sqlite
        backup.filter = FactFilter()
        backup.integrityCheck = "ok"
        backup.compressedSHA256 = String(repeating: "cd", count: 32)
        #expect(backup.json.contains(#""compressed_sha256":"\#(String(repeating: "cd", count: 32))""#))
        #expect(try SnapshotManifest.decode(backup.json, path: "m") == backup)
    }

    @Test func aManifestWithAMissingOrWrongFieldIsNamedAsDamaged() {
        let withoutCount = manifest.json.replacingOccurrences(of: #""fact_count":42,"#, with: "")
        let error = snapshotError { try SnapshotManifest.decode(withoutCount, path: "m") }
        #expect(error?.kind == .manifestDamaged)
        #expect(error?.message.contains("fact_count") == true)
        let badHash = manifest.json.replacingOccurrences(of: String(repeating: "ab", count: 32), with: "xyz")
        #expect(
            snapshotError { try SnapshotManifest.decode(badHash, path: "m") }?.message.contains("content_sha256")
                == true)
        #expect(snapshotError { try SnapshotManifest.decode("{\"fact_count\":1", path: "m") }?.kind == .manifestDamaged)
        #expect(snapshotError { try SnapshotManifest.decode("{\"tool\":\"other\"}", path: "m") }?.kind == .notAnArchive)
    }

    @Test func theManifestFrameIsFoundFromTheEndOfTheFile() throws {
        let directory = try TemporaryDirectory()
        let frame = SkippableFrame.encode(manifestJSON: manifest.json)
        #expect(Array(frame.prefix(4)) == [0x5E, 0x2A, 0x4D, 0x18])
        let size = UInt32(frame.count - 8)
        #expect(
            Array(frame[4..<8]) == [
                UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24),
            ])
        #expect(Array(frame.suffix(8).prefix(4)) == Array("FPM1".utf8))
        let path = try directory.write("a.zst", [UInt8](repeating: 7, count: 100) + frame)
        guard case .found(let json, let offset) = try SkippableFrame.locate(in: ArchiveInput(path: path)) else {
            Issue.record("manifest frame not found")
            return
        }
        #expect(json == manifest.json)
        #expect(offset == 100)
    }

    /// An archive cut by another program after it was opened (its size taken): the short reads are a
    /// damaged frame, not a crash (indexing the missing bytes trapped).
    @Test(arguments: [0, 4, 40, 120])
    func anArchiveCutAfterItWasOpenedIsDamagedNotACrash(keptBytes: Int) throws {
        let directory = try TemporaryDirectory()
        let frame = SkippableFrame.encode(manifestJSON: manifest.json)
        let path = try directory.write("a.zst", [UInt8](repeating: 7, count: 100) + frame)
        let input = try ArchiveInput(path: path)
        #expect(truncate(path, off_t(keptBytes)) == 0)
        switch try SkippableFrame.locate(in: input) {
        case .found: Issue.record("a frame was found in a file cut to \(keptBytes) bytes")
        case .absent, .damaged: break
        }
    }

    @Test(arguments: [0, 5, 20, -70, -3])
    func aDamagedManifestFrameIsToldApartFromAMissingOne(flipAt position: Int) throws {
        let directory = try TemporaryDirectory()
        var frame = SkippableFrame.encode(manifestJSON: manifest.json)
        let index = position >= 0 ? position : frame.count + position
        frame[index] ^= 0x01
        let path = try directory.write("a.zst", frame)
        switch try SkippableFrame.locate(in: ArchiveInput(path: path)) {
        case .found: Issue.record("a damaged frame at byte \(index) was accepted")
        case .absent: #expect(index >= frame.count - 8, "only the trailer's tag makes the frame absent")
        case .damaged(let reason): #expect(!reason.isEmpty)
        }
    }

    @Test func zstdDecodersPassOverTheManifestFrame() throws {
        let directory = try TemporaryDirectory()
        let content = Array("{\"statement\":\"P(a).\"}\n".utf8)
        let compressed = try compress(content)
        let path = try directory.write("s.zst", compressed + SkippableFrame.encode(manifestJSON: manifest.json))
        let source = try ZstdByteSource(upstream: FileByteSource(path: path))
        var decoded: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            decoded += buffer[0..<count]
        }
        #expect(decoded == content)
    }

    @Test func recordsAreCountedByLineAndCSVRecordsByLineOutsideQuotes() {
        func count(_ text: String, _ format: SnapshotManifest.Format, pieces: Int = 3) -> Int64 {
            var counter = RecordCounter(format: format)
            let bytes = Array(text.utf8)
            let step = max(1, bytes.count / pieces)
            for start in stride(from: 0, to: bytes.count, by: step) {
                bytes[start..<min(bytes.count, start + step)].withUnsafeBytes { counter.consume($0) }
            }
            return counter.records
        }
        #expect(count("a\nb\nc\n", .ndjson) == 3)
        #expect(count("a\nb\nc", .text) == 3)
        #expect(count("", .ndjson) == 0)
        #expect(count("statement,x\n\"P(a,\nb)\",\"q\"\"\n\"\nQ(c),d\n", .csv, pieces: 7) == 2)
        #expect(count("statement,confidence\n", .csv) == 0)
    }

    @Test func sinceComparesFractionsAsTimesNotText() {
        func compare(_ a: String, _ b: String) -> Int {
            var x = Array(a.utf8)
            var y = Array(b.utf8)
            return x.withUnsafeMutableBufferPointer { xs in
                y.withUnsafeMutableBufferPointer { ys in
                    FactFilter.compareTimes(UnsafeBufferPointer(xs), UnsafeBufferPointer(ys))
                }
            }
        }
        #expect(compare("2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00Z") == 1)
        #expect(compare("2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000Z") == 0)
        #expect(compare("2025-01-01T00:00:00.05Z", "2025-01-01T00:00:00.5Z") == -1)
        #expect(compare("2024-12-31T23:59:59.9Z", "2025-01-01T00:00:00Z") == -1)
        #expect(FactFilter(predicates: [], since: "yesterday") == nil)
    }

    private func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let size = out.withUnsafeMutableBytes { o in
            bytes.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, 3) }
        }
        try #require(ZSTD_isError(size) == 0)
        return Array(out[0..<size])
    }

    @Test func jsonStringsAreEscapedLikeTheImportersOwnWriterWhereverTheSpecialBytesFall() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [String] = [
            "a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1F}", "\u{7F}", "ä", "₂", "😀", "/",
        ]
        for length in 0..<40 {
            for _ in 0..<20 {
                let text = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
                    .joined()
                var utf8 = Array(text.utf8)
                let buffer = OutputBytes(capacity: 8)
                utf8.withUnsafeMutableBufferPointer {
                    FactRowEncoder.appendJSONString(UnsafeBufferPointer($0), to: buffer)
                }
                let written = String(decoding: buffer.bytes, as: UTF8.self)
                #expect(written == JSONText.quoted(text), "\(text.debugDescription)")
            }
        }
    }
}
