#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts the records of a snapshot's content as it streams past, to check against the manifest.
///
/// NDJSON and text records are lines that are not empty (an import skips an empty line, one holding at
/// most a carriage return: a snapshot of 1,000 empty lines was counted as 1,000 facts, and verified);
/// CSV records end at a line break outside quotes, and the header row is not a record. A last record
/// without its line break still counts.
struct RecordCounter {
    let format: SnapshotManifest.Format
    private var lineBreaks: Int64 = 0
    private var isInsideQuotes = false
    private var lastByte: UInt8 = 0x0A
    /// NDJSON and text: lines that hold more than a carriage return, ended by their line break.
    private var filledLines: Int64 = 0
    /// NDJSON and text: the line being read so far holds more than a carriage return.
    private var isLineFilled = false

    init(format: SnapshotManifest.Format) {
        self.format = format
    }

    /// Takes the next bytes of the content.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        lastByte = bytes[bytes.count - 1]
        if format == .csv {
            var quoted = isInsideQuotes
            var breaks: Int64 = 0
            for byte in bytes {
                if byte == 0x22 {
                    quoted.toggle()
                } else if byte == 0x0A && !quoted {
                    breaks += 1
                }
            }
            isInsideQuotes = quoted
            lineBreaks += breaks
            return
        }
        var position = base
        let end = base + bytes.count
        while position < end {
            let hit = memchr(position, 0x0A, end - position).map { UnsafeRawPointer($0) }
            let lineEnd = hit ?? end
            if !isLineFilled {
                var byte = position
                while byte < lineEnd && byte.load(as: UInt8.self) == 0x0D { byte += 1 }
                isLineFilled = byte < lineEnd
            }
            guard let hit else { break }
            if isLineFilled { filledLines += 1 }
            isLineFilled = false
            lineBreaks += 1
            position = hit + 1
        }
    }

    /// The records seen: lines, plus an unterminated last one, less the CSV header row.
    var records: Int64 {
        guard format == .csv else { return filledLines + (isLineFilled ? 1 : 0) }
        return max(0, lineBreaks + (lastByte == 0x0A ? 0 : 1) - 1)
    }
}
