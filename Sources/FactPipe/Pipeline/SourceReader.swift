/// The reader stage: opens each input in turn, recognises its format and cuts it into chunks.
///
/// Hands on, numbered in input order: `sourceStart`, the source's chunks, `sourceEnd` — or
/// `readFailed` when an input cannot be opened or read (a truncated compressed stream, say).
struct SourceReader {
    let options: ImportOptions
    let progress: ImportProgress

    func run(into queue: BoundedQueue<Sequenced<PipelineItem>>) {
        var sequence = 0
        func send(_ item: PipelineItem) -> Bool {
            defer { sequence += 1 }
            return queue.push(Sequenced(sequence: sequence, value: item))
        }
        var consumedBefore: Int64 = 0
        for path in options.inputs {
            do {
                let reader = try InputReader(path: path, limits: options.limits)
                let format = try resolveFormat(reader)
                var context = SourceContext(path: path, format: format, csvHeader: nil)
                let framing: RecordFraming
                switch format {
                case .csv: framing = .csv(delimiter: 0x2C)
                case .tsv: framing = .csv(delimiter: 0x09)
                default: framing = .lines
                }
                let descriptor = SourceDescriptor(
                    path: path, format: format, compression: "\(reader.compression)", size: reader.sourceSize)
                guard send(.sourceStart(descriptor)) else { return }
                var isFirst = true
                while var chunk = try reader.nextChunk(framing: framing, targetBytes: ImportPipeline.chunkBytes) {
                    if isFirst, framing != .lines {
                        isFirst = false
                        guard let headerRecord = chunk.records.first else { continue }
                        context.csvHeader = try header(of: headerRecord, in: chunk, framing: framing, path: path)
                        chunk.records.removeFirst()
                    }
                    progress.inputBytes.store(consumedBefore + reader.rawBytesRead, ordering: .relaxed)
                    guard send(.chunk(chunk, context)) else { return }
                }
                if framing != .lines, context.csvHeader == nil {
                    // An empty CSV file: nothing to load, and nothing wrong with it.
                }
                consumedBefore += reader.rawBytesRead
                progress.inputBytes.store(consumedBefore, ordering: .relaxed)
                guard send(.sourceEnd(sha256: reader.finishDigest())) else { return }
            } catch let error as ReadError {
                _ = send(.readFailed("\(error)"))
                return
            } catch let error as FieldError {
                _ = send(.readFailed("\(path): \(error.message)"))
                return
            } catch {
                _ = send(.readFailed("\(path): \(error)"))
                return
            }
        }
        queue.close()
    }

    private func resolveFormat(_ reader: InputReader) throws(ReadError) -> InputFormat {
        if options.format != .auto { return options.format }
        let prefix = try reader.peek(64 * 1024)
        if prefix.starts(with: Array("SQLite format 3\0".utf8)) {
            throw ReadError(source: reader.source, kind: .unsupportedFormat,
                            message: "is a SQLite database; reading one directly is not supported by import yet")
        }
        return InputFormat.detect(from: prefix)
    }

    private func header(of record: RawRecord, in chunk: RecordChunk, framing: RecordFraming, path: String) throws -> CSVHeader {
        let delimiter: UInt8
        if case .csv(let d) = framing { delimiter = d } else { delimiter = 0x2C }
        if record.isOversized {
            throw FieldError(reason: .invalidCSV, message: "line \(record.line): the header row is too long")
        }
        let names = try chunk.bytes[record.range].withUnsafeBytes { raw throws(CSVFieldError) in
            try CSVFieldSplitter.fields(raw, delimiter: delimiter)
        }
        return try CSVHeader(names: names)
    }
}
