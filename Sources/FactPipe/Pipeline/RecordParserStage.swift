/// The parser and validator stage: turns a chunk of raw records into facts and refusals.
///
/// Runs on several workers at once; it keeps no state between chunks, so any worker can take any chunk.
struct RecordParserStage: Sendable {
    var validator: FactValidator
    var limits: FactLimits

    /// Parses and validates every record of `chunk`, in order. Blank lines and `#` comments of text
    /// input are skipped and not counted.
    func process(_ chunk: RecordChunk, context: SourceContext) -> ParsedChunk {
        var items: [ParsedItem] = []
        items.reserveCapacity(chunk.records.count)
        chunk.bytes.withUnsafeBufferPointer { buffer in
            for record in chunk.records {
                if let item = process(record, in: buffer, context: context) { items.append(item) }
            }
        }
        return ParsedChunk(items: items, endOffset: chunk.endOffset, endLine: chunk.endLine)
    }

    private func process(_ record: RawRecord, in buffer: UnsafeBufferPointer<UInt8>, context: SourceContext) -> ParsedItem? {
        let bytes = UnsafeBufferPointer(rebasing: buffer[record.range])
        let location = RecordLocation(source: context.path, line: record.line, offset: record.offset)
        func reject(_ reason: RecordDiagnostic.Reason, _ message: String) -> ParsedItem {
            // Bytes that are not UTF-8 are kept as they are, so the rejects file gives the original record.
            let isUTF8 = UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(bytes)) == nil
            return .rejected(RecordDiagnostic(location: location, reason: reason, message: message,
                                              record: String(decoding: bytes, as: UTF8.self),
                                              recordBytes: isUTF8 ? nil : Array(bytes)))
        }
        if record.isOversized {
            return reject(.recordTooLong, "record is longer than \(limits.maxRecordBytes) bytes (only its start is kept here)")
        }
        if let bad = UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(bytes)) {
            return reject(.invalidUTF8, "record is not valid UTF-8 (byte \(bad + 1))")
        }
        if isBlank(bytes) { return nil }
        var fields: RecordFields
        do {
            switch context.format {
            case .ndjson, .auto, .sqlite:
                fields = try NDJSONRecordParser.parse(
                    bytes, mapping: context.fieldMapping, keepsRepeatedNames: context.keepsRepeatedNames)
            case .csv, .tsv:
                guard let header = context.csvHeader else { return reject(.invalidCSV, "no header row") }
                let values: [String]
                do {
                    values = try CSVFieldSplitter.fields(UnsafeRawBufferPointer(bytes),
                                                         delimiter: context.format == .tsv ? 0x09 : 0x2C)
                } catch {
                    return reject(.invalidCSV, "\(error)")
                }
                fields = try header.fields(from: values, keepsRepeatedNames: context.keepsRepeatedNames)
            case .text:
                let text = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
                if text.hasPrefix("#") { return nil }
                fields = RecordFields()
                fields.statement = text
            }
        } catch {
            return reject(error.reason, error.message)
        }
        switch validator.validate(fields) {
        case .fact(var fact, let warning):
            fact.line = record.line
            fact.offset = record.offset
            let diagnostic = warning.map {
                RecordDiagnostic(location: location, reason: .partsDisagree, message: $0,
                                 record: String(decoding: bytes, as: UTF8.self))
            }
            return .fact(fact, warning: diagnostic)
        case .rejected(let reason, let message):
            return reject(reason, message)
        }
    }

    private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where !(byte == 0x20 || byte == 0x09 || byte == 0x0D) { return false }
        return true
    }
}
