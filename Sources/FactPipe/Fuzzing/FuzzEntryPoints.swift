#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The code paths the fuzz targets (`Sources/FactPipeFuzz`) drive, one per input kind, reachable from the
/// fuzzer and from the regression tests alike.
///
/// Each entry point takes arbitrary bytes, runs them through the same calls an import makes, and checks
/// what must hold for any input: a statement that parses has a canonical form that re-parses to itself,
/// record ranges lie inside their chunk, offsets only grow. It returns the first violated invariant, or
/// nil; a crash, a trap or an address-sanitizer report is a finding too.
package enum FuzzEntryPoints {
    /// The inputs a fuzz target can be pointed at.
    package enum Target: String, CaseIterable, Sendable {
        case statement, ndjson, csv, snapshot
    }

    /// Runs `bytes` through the entry point of `target`.
    package static func run(_ target: Target, _ bytes: UnsafeRawBufferPointer) -> String? {
        switch target {
        case .statement: return statement(bytes)
        case .ndjson: return ndjsonRecord(bytes)
        case .csv: return csvInput(bytes)
        case .snapshot: return snapshotArchive(bytes)
        }
    }

    /// Limits small enough that fuzz inputs reach them.
    package static let limits: FactLimits = {
        var limits = FactLimits()
        limits.maxArgs = 6
        limits.maxArgLength = 64
        limits.maxPredicateLength = 32
        limits.maxStatementBytes = 512
        limits.maxRecordBytes = 2048
        return limits
    }()

    /// Limits no re-parse of a canonical form reaches: the invariants are about the grammar, and a canonical
    /// form may be longer than its input (`a,b` becomes `a, b`).
    static let unlimited: FactLimits = {
        var limits = FactLimits()
        limits.maxArgs = 1 << 40
        limits.maxArgLength = 1 << 40
        limits.maxPredicateLength = 1 << 40
        limits.maxStatementBytes = 1 << 40
        limits.maxRecordBytes = 1 << 40
        return limits
    }()

    /// The statement parser: parse, then check that the canonical form re-parses to itself with the
    /// same predicate and arguments.
    package static func statement(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        for limits in [FactLimits.default, Self.limits] {
            guard let parsed = try? StatementParser.parse(text, limits: limits) else { continue }
            if let problem = canonicalProblem(parsed) { return problem }
        }
        return nil
    }

    /// One NDJSON line through the parser stage (UTF-8 check, `NDJSONRecordParser`, `FactValidator`).
    package static func ndjsonRecord(_ bytes: UnsafeRawBufferPointer) -> String? {
        let chunk = RecordChunk(sequence: 0, source: "fuzz", bytes: Array(bytes),
                                records: [RawRecord(range: 0..<bytes.count, line: 1, offset: 0)],
                                endOffset: Int64(bytes.count), endLine: 2)
        let stage = RecordParserStage(validator: FactValidator(limits: limits), limits: limits)
        let parsed = stage.process(chunk, context: SourceContext(path: "fuzz", format: .ndjson, csvHeader: nil))
        return factProblems(parsed)
    }

    /// A whole CSV input, written to a file and read as an import reads it: `InputReader` (plain, gzip or
    /// zstd) framing CSV records, the header row through `CSVFieldSplitter` and `CSVHeader`, every other
    /// record through the parser stage.
    package static func csvInput(_ bytes: UnsafeRawBufferPointer) -> String? {
        let path = "/tmp/factpipe-fuzz-csv-\(getpid()).input"
        defer { unlink(path) }
        guard writeFile(path, bytes) else { return nil }
        guard let reader = try? InputReader(path: path, limits: limits) else { return nil }
        let framing = RecordFraming.csv(delimiter: 0x2C)
        var header: CSVHeader?
        var lastOffset: Int64 = -1
        var lastLine = 0
        while true {
            let chunk: RecordChunk?
            do {
                chunk = try reader.nextChunk(framing: framing, targetBytes: 64)
            } catch {
                return nil
            }
            guard let chunk else { return nil }
            var records = chunk.records[...]
            for record in chunk.records {
                guard record.range.lowerBound >= 0, record.range.upperBound <= chunk.bytes.count else {
                    return "record range \(record.range) outside a chunk of \(chunk.bytes.count) bytes"
                }
                guard record.offset > lastOffset, record.line > lastLine else {
                    return "record at offset \(record.offset), line \(record.line) after \(lastOffset), \(lastLine)"
                }
                guard record.offset < chunk.endOffset, record.line < chunk.endLine else {
                    return "record at offset \(record.offset) beyond its chunk's end \(chunk.endOffset)"
                }
                lastOffset = record.offset
                lastLine = record.line
            }
            if header == nil, let first = records.first {
                records = records.dropFirst()
                if first.isOversized { return nil }
                let names = chunk.bytes[first.range].withUnsafeBytes { raw in
                    try? CSVFieldSplitter.fields(raw, delimiter: 0x2C)
                }
                guard let names, let parsed = try? CSVHeader(names: names) else { return nil }
                header = parsed
            }
            let body = RecordChunk(sequence: chunk.sequence, source: chunk.source, bytes: chunk.bytes,
                                   records: Array(records), endOffset: chunk.endOffset, endLine: chunk.endLine)
            let stage = RecordParserStage(validator: FactValidator(limits: limits), limits: limits)
            let parsed = stage.process(body, context: SourceContext(path: "fuzz", format: .csv, csvHeader: header))
            if let problem = factProblems(parsed) { return problem }
        }
    }

    /// A snapshot archive (zstd frames with the manifest in a skippable frame, or a backup) written to a
    /// file and checked by `ArchiveVerifier`, which reads the manifest, decompresses and counts the content.
    /// A report without problems must have a manifest whose counts agree with what was read. The frame
    /// layout a restore reads from the headers must lay the frames end to end, in the file and in the content.
    package static func snapshotArchive(_ bytes: UnsafeRawBufferPointer) -> String? {
        let path = "/tmp/factpipe-fuzz-snapshot-\(getpid()).ndjson.zst"
        defer { unlink(path) }
        guard writeFile(path, bytes) else { return nil }
        if let problem = frameLayoutProblem(path) { return problem }
        let report = ArchiveVerifier(path: path).run()
        guard report.isValid else { return nil }
        guard let manifest = report.manifest else { return "a valid report without a manifest" }
        if let counted = report.countedFacts, counted != manifest.factCount {
            return "a valid report counted \(counted) facts, the manifest says \(manifest.factCount)"
        }
        return nil
    }

    /// What is wrong with the frame layout of the file at `path`, if it has one.
    private static func frameLayoutProblem(_ path: String) -> String? {
        guard let input = try? ArchiveInput(path: path),
            let layout = try? ZstdFrameLayout.scan(input, end: input.size)
        else { return nil }
        var fileEnd: Int64 = 0
        var content: Int64 = 0
        for frame in layout.frames {
            guard frame.fileOffset >= fileEnd, frame.compressedBytes > 0, frame.contentOffset == content else {
                return "frame layout out of order at byte \(frame.fileOffset)"
            }
            fileEnd = frame.fileOffset + frame.compressedBytes
            content += frame.contentBytes
        }
        guard fileEnd <= input.size, content == layout.contentBytes else {
            return "frame layout ends at byte \(fileEnd) of \(input.size), content \(content) of \(layout.contentBytes)"
        }
        return nil
    }

    private static func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var written = 0
        while written < bytes.count, let base = bytes.baseAddress {
            let n = write(fd, base + written, bytes.count - written)
            if n <= 0 { return false }
            written += n
        }
        return true
    }

    private static func factProblems(_ parsed: ParsedChunk) -> String? {
        for item in parsed.items {
            guard case .fact(let fact, _) = item else { continue }
            guard let again = try? StatementParser.parse(fact.statement, limits: unlimited) else {
                return "the stored statement \(fact.statement.debugDescription) does not re-parse"
            }
            if again.canonical != fact.statement {
                return "the stored statement \(fact.statement.debugDescription) re-parses to "
                    + again.canonical.debugDescription
            }
            if !(0.0...1.0).contains(fact.confidence) { return "confidence \(fact.confidence) out of range" }
        }
        return nil
    }

    private static func canonicalProblem(_ parsed: ParsedStatement) -> String? {
        let again: ParsedStatement
        do {
            again = try StatementParser.parse(parsed.canonical, limits: unlimited)
        } catch {
            return "canonical form \(parsed.canonical.debugDescription) does not re-parse: \(error)"
        }
        if again != parsed {
            return "canonical form \(parsed.canonical.debugDescription) re-parses to "
                + "\(again.canonical.debugDescription) \(again.args) instead of \(parsed.args)"
        }
        return nil
    }
}
