#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts the records of a snapshot's content as it streams past, to check against the manifest.
///
/// NDJSON and text records are lines; CSV records end at a line break outside quotes, and the
/// header row is not a record. A last record without its line break still counts.
struct RecordCounter {
    let format: SnapshotManifest.Format
    private var lineBreaks: Int64 = 0
    private var isInsideQuotes = false
    private var lastByte: UInt8 = 0x0A

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
        while position < end, let hit = memchr(position, 0x0A, end - position) {
            lineBreaks += 1
            position = UnsafeRawPointer(hit) + 1
        }
    }

    /// The records seen: lines, plus an unterminated last one, less the CSV header row.
    var records: Int64 {
        let lines = lineBreaks + (lastByte == 0x0A ? 0 : 1)
        return format == .csv ? max(0, lines - 1) : lines
    }
}
