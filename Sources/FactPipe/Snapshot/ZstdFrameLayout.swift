import CZstd

/// Where each frame of a zstd stream lies in the file and in the decoded content, found from the
/// frame and block headers alone, without decoding.
///
/// ```
/// file:     [frame 0 ............][frame 1 .........][frame 2 ..][manifest frame]
///            header, blocks, checksum — each block header gives the block's compressed size
/// content:  [0 ..... frame 0's size)[..... frame 1's ....)[.. frame 2's ..)
/// ```
/// A frame whose header records its content size (`ZSTD_c_contentSizeFlag`, set by
/// `ZstdWriter.beginFrame(contentBytes:)`) can be decoded on its own, on any thread, into its place
/// in the output. A stream with a frame that does not record it (a backup written as one streamed
/// frame, any zstd file) has no layout and is decoded in order.
struct ZstdFrameLayout: Sendable {
    /// One zstd frame.
    struct Frame: Sendable {
        /// Its first byte in the file.
        var fileOffset: Int64
        /// Its size in the file: header, blocks and checksum.
        var compressedBytes: Int64
        /// Where its content starts in the decoded stream.
        var contentOffset: Int64
        /// The content size its header records.
        var contentBytes: Int64
    }

    /// The frames that hold content, in order (skippable frames are left out).
    var frames: [Frame]
    /// The decoded stream's size: the sum of the frames' content sizes.
    var contentBytes: Int64
    /// The most history a decoder of one of the frames keeps: the largest window, or the frame's
    /// content when that is smaller. A decoder's memory is this and a few small buffers.
    var largestWindowBytes: Int64

    /// Most frames a layout holds (16 bytes of memory per frame); a stream of more is decoded in order.
    static let maxFrames = 1 << 16
    /// Most content a frame may hold to be decoded on its own: a decoder's buffers never exceed a
    /// frame's content, so this bounds each decoding thread's memory.
    static let maxFrameContentBytes: Int64 = 64 << 20

    /// Reads the headers of the frames in `input`'s bytes `0..<end`; nil when a frame does not record
    /// its content size or holds more than `maxFrameContentBytes`, or when there are more than
    /// `maxFrames`.
    /// - Throws: `SnapshotError` `.truncated` when the bytes end inside a frame, `.corruptFrame` when a
    ///   frame or block header is not valid zstd, `.io` when a read fails.
    static func scan(_ input: ArchiveInput, end: Int64) throws(SnapshotError) -> ZstdFrameLayout? {
        var frames: [Frame] = []
        var content: Int64 = 0
        var window: Int64 = 0
        // Stopped at a frame that cannot be decoded on its own, before its blocks are followed.
        let accepts = { (header: ZSTD_frameHeader) -> Bool in
            header.frameContentSize != UInt64.max && header.frameContentSize <= UInt64(maxFrameContentBytes)
                && frames.count < maxFrames
        }
        let isWhole = try walk(input, end: end, accepts: accepts) { (header, offset, frameEnd) in
            let size = Int64(header.frameContentSize)
            window = max(window, min(size, Int64(clamping: header.windowSize)))
            frames.append(
                Frame(
                    fileOffset: offset, compressedBytes: frameEnd - offset, contentOffset: content, contentBytes: size))
            content += size
        }
        return isWhole ? ZstdFrameLayout(frames: frames, contentBytes: content, largestWindowBytes: window) : nil
    }

    /// What the headers of a stream's frames say, read without decoding.
    struct Census: Equatable {
        /// The zstd frames that hold content (skippable frames are left out).
        var frames: Int
        /// The sum of their content sizes, or nil when a frame does not record its size.
        var contentBytes: Int64?
    }

    /// Follows the frames of `input`'s bytes `0..<end` to their end, whatever their size or number,
    /// and adds up the content sizes their headers record: that the frames are there, whole, and hold
    /// the content a manifest claims, at the cost of reading their headers.
    /// - Throws: `SnapshotError` as `scan` does.
    static func census(_ input: ArchiveInput, end: Int64) throws(SnapshotError) -> Census {
        var census = Census(frames: 0, contentBytes: 0)
        _ = try walk(input, end: end, accepts: { _ in true }) { (header, _, _) in
            census.frames += 1
            if header.frameContentSize == UInt64.max || header.frameContentSize > UInt64(Int64.max) {
                census.contentBytes = nil
            } else if let sum = census.contentBytes {
                let (total, overflow) = sum.addingReportingOverflow(Int64(header.frameContentSize))
                census.contentBytes = overflow ? nil : total
            }
        }
        return census
    }

    /// Reads the header of each frame in `input`'s bytes `0..<end` and passes over skippable ones; a zstd
    /// frame whose header `accepts` takes has its blocks followed, and its header, start and end go to
    /// `body`. Returns false when `accepts` stopped the walk at a frame, true when it reached `end`.
    /// - Throws: `SnapshotError` as `scan` does.
    private static func walk(
        _ input: ArchiveInput, end: Int64, accepts: (ZSTD_frameHeader) -> Bool,
        _ body: (ZSTD_frameHeader, Int64, Int64) -> Void
    ) throws(SnapshotError) -> Bool {
        var offset: Int64 = 0
        var window = HeaderWindow()
        while offset < end {
            let head = try input.read(at: offset, count: Int(min(Int64(ZSTD_FRAMEHEADERSIZE_MAX), end - offset)))
            var header = ZSTD_frameHeader()
            let status = head.withUnsafeBytes { ZSTD_getFrameHeader(&header, $0.baseAddress, $0.count) }
            if ZSTD_isError(status) != 0 {
                throw SnapshotError(
                    .corruptFrame, path: input.name,
                    "corrupted frame: no valid zstd frame header at byte \(offset) (\(errorName(status)))")
            }
            guard status == 0 else { throw truncated(input, at: offset) }
            if header.frameType == ZSTD_skippableFrame {
                offset += 8 + Int64(header.frameContentSize)
                guard offset <= end else { throw truncated(input, at: offset) }
                continue
            }
            guard accepts(header) else { return false }
            let frameEnd =
                try blocksEnd(input, from: offset + Int64(header.headerSize), end: end, window: &window)
                + (header.checksumFlag != 0 ? 4 : 0)
            guard frameEnd <= end else { throw truncated(input, at: frameEnd) }
            body(header, offset, frameEnd)
            offset = frameEnd
        }
        return true
    }

    /// The file's bytes around the block headers being read: one read of `size` bytes serves every
    /// header within it. Read one header at a time, a frame of many small blocks (a run of a few bytes
    /// each) cost a system call per block.
    private struct HeaderWindow {
        /// Bytes read at a time: a page, which the kernel reads for three bytes anyway. Blocks of 128 KiB
        /// (a backup's) still cost one read each, of a page rather than of the whole file.
        static let size = 4 << 10
        var start: Int64 = 0
        var bytes: [UInt8] = []

        /// The three bytes of a block header at `offset` (fewer at the end of the file).
        mutating func header(_ input: ArchiveInput, at offset: Int64) throws(SnapshotError) -> ArraySlice<UInt8> {
            if offset < start || offset + 3 > start + Int64(bytes.count) {
                bytes = try input.read(at: offset, count: Self.size)
                start = offset
            }
            let first = Int(offset - start)
            return bytes[first..<min(first + 3, bytes.count)]
        }
    }

    /// Follows the block headers from `start` to the end of the frame's last block.
    private static func blocksEnd(
        _ input: ArchiveInput, from start: Int64, end: Int64, window: inout HeaderWindow
    ) throws(SnapshotError) -> Int64 {
        var offset = start
        while true {
            let bytes = Array(try window.header(input, at: offset))
            guard bytes.count == 3, offset + 3 <= end else { throw truncated(input, at: offset) }
            let header = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
            let isLast = header & 1 == 1
            let size = header >> 3
            switch (header >> 1) & 3 {
            case 0, 2: offset += 3 + Int64(size)  // raw and compressed blocks: `size` bytes follow
            case 1: offset += 3 + 1  // a run: one byte, repeated `size` times
            default:
                throw SnapshotError(
                    .corruptFrame, path: input.name, "corrupted frame: a block of reserved type at byte \(offset)")
            }
            if isLast { return offset }
            guard offset < end else { throw truncated(input, at: offset) }
        }
    }

    private static func truncated(_ input: ArchiveInput, at offset: Int64) -> SnapshotError {
        SnapshotError(
            .truncated, path: input.name, "truncated: the file ends inside a compressed frame (at byte \(offset))")
    }

    private static func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }
}
