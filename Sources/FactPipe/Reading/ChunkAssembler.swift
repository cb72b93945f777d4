/// Collects the records of one chunk: copies runs of complete records from the reader's buffer in bulk
/// and locates each record in the chunk's own byte array.
struct ChunkAssembler {
    /// The chunk's storage so far.
    private(set) var bytes: [UInt8] = []
    /// The chunk's records so far.
    private(set) var records: [RawRecord] = []
    /// Index in the reader's buffer of the first byte not yet copied into `bytes`; records found since then
    /// are located as if that run had been copied already.
    var spanStart: Int

    init(spanStart: Int, expectedBytes: Int, expectedRecords: Int) {
        self.spanStart = spanStart
        bytes.reserveCapacity(expectedBytes)
        records.reserveCapacity(expectedRecords)
    }

    /// The chunk's size if the buffer were copied up to `position`.
    func size(upTo position: Int) -> Int {
        bytes.count + position - spanStart
    }

    /// Copies `buffer[spanStart..<position]` into the chunk.
    mutating func flush(upTo position: Int, from buffer: UnsafePointer<UInt8>) {
        if position > spanStart {
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer + spanStart, count: position - spanStart))
        }
        spanStart = position
    }

    /// Adds the record held whole in `buffer[start..<contentEnd]`; an empty record is skipped, and one longer
    /// than `limit` keeps only its first `prefixBytes` bytes.
    mutating func add(
        start: Int, contentEnd: Int, in buffer: UnsafePointer<UInt8>,
        line: Int, offset: Int64, limit: Int, prefixBytes: Int
    ) {
        let length = contentEnd - start
        if length == 0 {
            return
        }
        if length > limit {
            addOversized(
                start: start, available: length, in: buffer, line: line, offset: offset, prefixBytes: prefixBytes)
            spanStart = contentEnd
            return
        }
        let base = bytes.count + start - spanStart
        records.append(RawRecord(range: base..<base + length, line: line, offset: offset))
    }

    /// Adds an oversized record from the first of its `available` bytes at `buffer[start...]`, keeping at most
    /// `prefixBytes`; the caller moves `spanStart` past the record once it has found its end.
    mutating func addOversized(
        start: Int, available: Int, in buffer: UnsafePointer<UInt8>,
        line: Int, offset: Int64, prefixBytes: Int
    ) {
        flush(upTo: start, from: buffer)
        let kept = min(prefixBytes, available)
        let base = bytes.count
        bytes.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: kept))
        records.append(RawRecord(range: base..<base + kept, line: line, offset: offset, isOversized: true))
        spanStart = start + kept
    }
}
