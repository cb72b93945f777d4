import CZstd

/// Compresses a byte stream into zstd frames with libzstd's streaming API (`ZSTD_compressStream2`)
/// and hands the compressed bytes to a sink as they come.
///
/// Each `finish()` ends a frame; the next `write` starts another. A frame begun with
/// `beginFrame(contentBytes:)` records its content size in its header, so a reader knows where its
/// bytes go before decoding it. Every frame carries a content checksum (`ZSTD_c_checksumFlag`), so a
/// decoder notices damaged data.
/// With `workers` > 0 libzstd compresses on that many threads of its own while the caller goes on
/// producing input; memory is fixed by the level's window and job sizes, never by the input.
final class ZstdWriter: ArchiveSink {
    private let context: OpaquePointer
    private let sink: any ArchiveSink
    private let name: String
    private let output: UnsafeMutableRawBufferPointer
    /// True while libzstd is to compress on threads of its own.
    private var usesWorkers = false
    /// The content size given for the frame being written, and whether any of it reached libzstd yet.
    private var pledgedBytes: Int64?
    private var frameStarted = false
    /// Set by `abandon()`: the compressed stream is no longer wanted.
    private var isAbandoned = false

    /// Sets up a compressor writing to `sink`; `name` is the output's name for messages.
    /// - Throws: `SnapshotError` `.compression` when the context cannot be made or the level is refused.
    init(level: Int, workers: Int, sink: any ArchiveSink, name: String) throws(SnapshotError) {
        guard let context = ZSTD_createCCtx() else {
            throw SnapshotError(.compression, path: name, "cannot create a zstd compressor")
        }
        self.context = context
        self.sink = sink
        self.name = name
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(ZSTD_CStreamOutSize(), 1 << 20), alignment: 16)
        try set(ZSTD_c_compressionLevel, Int32(clamping: level), "compression level \(level)")
        try set(ZSTD_c_checksumFlag, 1, "frame checksums")
        if workers > 0 {
            // A libzstd built without threads refuses; it then compresses on the calling thread.
            usesWorkers = ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(clamping: workers))) == 0
        }
    }

    deinit {
        output.deallocate()
        guard isAbandoned, usesWorkers else {
            ZSTD_freeCCtx(context)
            return
        }
        // Freeing a context waits for the jobs its workers have begun, seconds each at high levels: an export
        // stopped by a signal kept its database open for them. Nothing waits for an abandoned stream's jobs.
        let address = UInt(bitPattern: context)
        // No thread to spare: freed here, waiting, as before.
        OwnThread.startOrRunHere("abandoned compressor") {
            if let context = OpaquePointer(bitPattern: address) { ZSTD_freeCCtx(context) }
        }
    }

    /// Gives up the stream: what was written is not wanted, and the compressor's end does not wait for the
    /// jobs its workers have begun.
    func abandon() {
        isAbandoned = true
    }

    private func set(_ parameter: ZSTD_cParameter, _ value: Int32, _ what: String) throws(SnapshotError) {
        let result = ZSTD_CCtx_setParameter(context, parameter, value)
        if ZSTD_isError(result) != 0 {
            throw SnapshotError(.compression, path: name, "zstd refused \(what): \(Self.errorName(result))")
        }
    }

    /// Starts the next frame with its content size, `contentBytes`, in its header (the default when
    /// none is given is a frame of unknown size); the frame must then get exactly that many bytes.
    /// Call before the frame's first `write`.
    /// - Throws: `SnapshotError` `.compression` when libzstd refuses the size.
    func beginFrame(contentBytes: Int64) throws(SnapshotError) {
        pledgedBytes = contentBytes
        frameStarted = false
        let reset = ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        let result =
            ZSTD_isError(reset) != 0 ? reset : ZSTD_CCtx_setPledgedSrcSize(context, UInt64(max(contentBytes, 0)))
        if ZSTD_isError(result) != 0 {
            throw SnapshotError(
                .compression, path: name, "zstd refused a frame of \(contentBytes) bytes: \(Self.errorName(result))")
        }
    }

    /// Compresses `bytes`, writing whatever compressed output is ready.
    /// - Throws: `SnapshotError` `.compression` when libzstd fails, or the sink's error.
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        guard bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            try step(&input, ZSTD_e_continue)
        }
    }

    /// Ends the frame: compresses what is buffered and writes the frame's end and checksum.
    /// A frame begun with `beginFrame(contentBytes:)` that got another number of bytes fails.
    /// - Throws: `SnapshotError` `.compression` when libzstd fails, or the sink's error.
    func finish() throws(SnapshotError) {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
    }

    /// One call of `ZSTD_compressStream2`; returns what libzstd says is left to flush.
    @discardableResult
    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws(SnapshotError) -> Int {
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        var remaining = ZSTD_compressStream2(context, &out, &input, directive)
        if ZSTD_isError(remaining) != 0, usesWorkers, !frameStarted, input.pos == 0, out.pos == 0,
           ZSTD_getErrorCode(remaining) == ZSTD_error_memory_allocation {
            // libzstd could not start its threads (the process and thread limit reached): the frame starts
            // again on this thread alone, as a libzstd built without threads would write it.
            try compressHereFromNowOn()
            remaining = ZSTD_compressStream2(context, &out, &input, directive)
        }
        if ZSTD_isError(remaining) != 0 {
            throw SnapshotError(.compression, path: name, "zstd compression failed: \(Self.errorName(remaining))")
        }
        frameStarted = true
        if out.pos > 0 { try sink.write(UnsafeRawBufferPointer(start: output.baseAddress, count: out.pos)) }
        return remaining
    }

    private func compressHereFromNowOn() throws(SnapshotError) {
        usesWorkers = false
        _ = ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        try set(ZSTD_c_nbWorkers, 0, "compression without threads")
        if let pledgedBytes {
            let result = ZSTD_CCtx_setPledgedSrcSize(context, UInt64(max(pledgedBytes, 0)))
            if ZSTD_isError(result) != 0 {
                throw SnapshotError(
                    .compression, path: name, "zstd refused a frame of \(pledgedBytes) bytes: \(Self.errorName(result))")
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }
}
