import CZlib
import CZstd
import Foundation
@testable import FactPipe

/// A fresh folder under the system temporary directory, removed when released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("factpipe-reading-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func contents(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs a command-line tool, optionally sending its standard output to a file, and checks it succeeded.
func runTool(_ executable: String, _ arguments: [String], standardOutputTo outputPath: String? = nil) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var handle: FileHandle?
    if let outputPath {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        handle = output
    }
    try process.run()
    process.waitUntilExit()
    try handle?.close()
    guard process.terminationStatus == 0 else {
        throw ToolFailure(description: "\(executable) \(arguments) exited with \(process.terminationStatus)")
    }
}

/// Compresses `source` into `target` with the real `zstd` CLI.
func zstdCLI(_ source: String, _ target: String) throws {
    try runTool("/usr/bin/zstd", ["-q", "-f", source, "-o", target])
}

/// Compresses `source` into `target` with the real `gzip` CLI.
func gzipCLI(_ source: String, _ target: String) throws {
    try runTool("/usr/bin/gzip", ["-c", source], standardOutputTo: target)
}

/// One zstd frame made with libzstd's one-shot API.
func zstdFrame(_ bytes: [UInt8], level: Int32 = 3) throws -> [UInt8] {
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let written = output.withUnsafeMutableBytes { out in
        bytes.withUnsafeBytes { input in
            ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
        }
    }
    guard ZSTD_isError(written) == 0 else {
        throw ToolFailure(description: "ZSTD_compress failed")
    }
    return Array(output[0..<written])
}

/// One gzip member made with zlib's deflate.
func gzipMember(_ bytes: [UInt8]) throws -> [UInt8] {
    // zlib remembers the stream's address, so it must not move between calls.
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer {
        stream.deinitialize(count: 1)
        stream.deallocate()
    }
    guard factpipe_deflate_init2(stream, 6, 15 + 16) == Z_OK else {
        throw ToolFailure(description: "deflateInit2 failed")
    }
    defer { deflateEnd(stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(bytes.count))) + 64)
    let status = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = UInt32(inBuffer.count)
            stream.pointee.next_out = outBuffer.baseAddress
            stream.pointee.avail_out = UInt32(outBuffer.count)
            return deflate(stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else {
        throw ToolFailure(description: "deflate failed: \(status)")
    }
    return Array(output[0..<Int(stream.pointee.total_out)])
}

/// A record as the tests compare it: its text, line, offset and oversize flag.
struct SeenRecord: Equatable, CustomStringConvertible {
    var text: String
    var line: Int
    var offset: Int64
    var isOversized = false

    var description: String { "\(line)@\(offset)\(isOversized ? "!" : ""): \(text.debugDescription)" }
}

/// Reads every chunk of `reader`, checking sequence numbers and chunk ends, and returns all records.
func readAll(
    _ reader: InputReader, framing: RecordFraming = .lines, targetBytes: Int = 256 * 1024, maxRecords: Int = .max
) throws -> (records: [SeenRecord], chunks: [RecordChunk]) {
    var records: [SeenRecord] = []
    var chunks: [RecordChunk] = []
    while let chunk = try reader.nextChunk(framing: framing, targetBytes: targetBytes, maxRecords: maxRecords) {
        chunks.append(chunk)
        for record in chunk.records {
            let text = String(decoding: chunk.bytes[record.range], as: UTF8.self)
            records.append(
                SeenRecord(text: text, line: record.line, offset: record.offset, isOversized: record.isOversized))
        }
    }
    return (records, chunks)
}

/// Reads `path` whole with `.lines` framing.
func readLines(_ path: String, limits: FactLimits = .default, targetBytes: Int = 256 * 1024) throws -> [SeenRecord] {
    try readAll(InputReader(path: path, limits: limits), targetBytes: targetBytes).records
}

/// The `.lines` records of `bytes` computed the slow, obvious way: split at LF, drop one CR, skip empty lines.
func referenceLines(_ bytes: [UInt8], startOffset: Int = 0) -> [SeenRecord] {
    var result: [SeenRecord] = []
    var lineStart = startOffset
    var line = 1
    var index = startOffset
    while lineStart < bytes.count {
        index = lineStart
        while index < bytes.count && bytes[index] != 0x0A {
            index += 1
        }
        var contentEnd = index
        if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D {
            contentEnd -= 1
        }
        if contentEnd > lineStart {
            let text = String(decoding: bytes[lineStart..<contentEnd], as: UTF8.self)
            result.append(SeenRecord(text: text, line: line, offset: Int64(lineStart)))
        }
        line += 1
        lineStart = index + 1
    }
    return result
}
